"""What the package ships besides code: the version, the py.typed marker, and a type
stub that matches the compiled module (mypy and editors read the stub, not the .so)."""
import ast
import importlib.metadata
import inspect
import os
import types

import pytest

import fastinit
from fastinit import _engine

PACKAGE_DIR = os.path.dirname(os.path.abspath(fastinit.__file__))


def stub_names():
    """{name: parameter names, or None for a variable} declared in _engine.pyi."""
    with open(os.path.join(PACKAGE_DIR, "_engine.pyi"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names[node.name] = [a.arg for a in node.args.posonlyargs + node.args.args]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = None
    return {k: v for k, v in names.items() if not k.startswith("_")}


def engine_names():
    """The same for the compiled module, leaving out the modules it imports."""
    names = {}
    for name in dir(_engine):
        value = getattr(_engine, name)
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        names[name] = list(inspect.signature(value).parameters) if callable(value) else None
    return names


def test_stub_declares_exactly_the_compiled_modules_names_and_parameters():
    stub, engine = stub_names(), engine_names()
    assert sorted(stub) == sorted(engine), "fastinit/_engine.pyi and _engine.pyx differ"
    for name, params in engine.items():
        assert stub[name] == params, f"{name}: the stub says {stub[name]}, _engine has {params}"


def test_package_is_marked_typed():
    assert os.path.isfile(os.path.join(PACKAGE_DIR, "py.typed"))


def test_version_is_the_installed_distributions():
    try:
        dist = importlib.metadata.distribution("fastinit")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    installed = dist is not None and os.path.realpath(
        dist.locate_file("fastinit/__init__.py")) == os.path.realpath(fastinit.__file__)
    if not installed and os.environ.get("FASTINIT_TEST_INSTALLED") != "1":
        pytest.skip("fastinit is imported from an in-place build: no metadata to compare")
    assert installed, f"{fastinit.__file__} is not the installed distribution's"
    assert fastinit.__version__ == dist.version == fastinit.get_config()["version"]
