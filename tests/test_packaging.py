"""What the package ships besides code: the py.typed marker, and a type stub that
matches the compiled module (mypy and editors read the stub, not the .so)."""
import ast
import inspect
import os
import types

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
