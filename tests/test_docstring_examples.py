"""Every >>> example in fastinit's docstrings runs and shows what it says (doctest).

The modules are those of the fastinit that the tests import, so the README's test command
(a wheel built from the checkout) and CI's installed wheel both check them, with no
--doctest-modules that would look for the package in the source tree. Examples see
`fastinit` and `np` besides their module's own names."""
import doctest
import importlib
import os
import pkgutil

import numpy as np
import pytest

import fastinit

# fastinit.keras's examples run on the backend that tests/test_keras.py chooses by default.
os.environ.setdefault("KERAS_BACKEND", "numpy")
MODULES = ["fastinit"] + sorted(
    m.name for m in pkgutil.walk_packages(fastinit.__path__, "fastinit.",
                                          onerror=lambda name: None))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_and_show_what_they_say(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an integration whose library is not installed
        pytest.skip(f"{name} needs {exc.name}")
    failed, attempted = doctest.testmod(
        module, extraglobs={"fastinit": fastinit, "np": np}, report=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed (output above)"
    # Every example written is one doctest found: none hides where it cannot reach.
    source = module.__file__
    if source.endswith(".py"):
        with open(source, encoding="utf-8") as f:
            written = sum(line.lstrip().startswith(">>>") for line in f)
        assert attempted == written, f"{name}: {written} examples written, {attempted} run"

