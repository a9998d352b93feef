import os
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

# The JAX tests shard arrays over 8 devices. On CPU, XLA makes that many only if
# XLA_FLAGS asks before JAX creates its CPU backend, which it does at the first use of
# jax in this process, whichever test module that is: so ask here, before pytest
# imports any test module. (Subprocesses that tests start inherit it; it is harmless.)
# tests/test_jax.py fails, rather than skips, if the backend still has another count.
CPU_DEVICES = 8
_device_flag = "--xla_force_host_platform_device_count"
if _device_flag not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = " ".join(
        [os.environ.get("XLA_FLAGS", ""), f"{_device_flag}={CPU_DEVICES}"]).strip()

import c_core  # noqa: E402
import fastinit  # noqa: E402
from fastinit import _engine  # noqa: E402

# CI sets FASTINIT_TEST_INSTALLED=1 to test what a user installs: fastinit must then come
# from this environment's site-packages, not from a checkout, or a file missing from the
# wheel would go unnoticed.
if os.environ.get("FASTINIT_TEST_INSTALLED") == "1":
    _imported_from = os.path.realpath(os.path.dirname(os.path.dirname(fastinit.__file__)))
    _site = {os.path.realpath(sysconfig.get_path(key)) for key in ("purelib", "platlib")}
    if _imported_from not in _site:
        pytest.exit(f"FASTINIT_TEST_INSTALLED=1, but fastinit was imported from "
                    f"{fastinit.__file__}, not from site-packages ({', '.join(sorted(_site))})",
                    returncode=4)


@pytest.fixture
def simd_path():
    """Yields a function that switches the SIMD path; restores the original after."""
    original = _engine.simd_current()
    yield _engine.simd_select
    _engine.simd_select(original)


@pytest.fixture
def on_threads():
    """Yields run(threads, fill, *args, **kwargs): fill(*args, threads=threads, **kwargs),
    checked to have run on exactly `threads` threads (fill must be one job of the pool,
    below _engine's chunk, with work for them all). The cap on threads, the CPUs of this
    machine, is raised for the test as far as it asks, so that 3 or 8 threads are not
    quietly clamped to CI's 2 cores; it is restored after."""
    original = _engine.max_threads()

    def run(threads, fill, *args, **kwargs):
        _engine._set_max_threads(max(threads, original))
        result = fill(*args, threads=threads, **kwargs)
        ran_on = _engine._last_job_threads()
        assert ran_on == threads, f"a fill asked for {threads} threads ran on {ran_on}"
        return result
    yield run
    _engine._set_max_threads(original)


@pytest.fixture(scope="session")
def c_program(tmp_path_factory):
    """Yields build(cc, driver="stream_digest.c", *flags): the path of tests/c/<driver>
    built with the C core by compiler cc (a command, as a string or list), once a session."""
    built = {}

    def build(cc, driver="stream_digest.c", *flags):
        key = (tuple(cc) if isinstance(cc, list) else (cc,), driver, flags)
        if key not in built:
            out = tmp_path_factory.mktemp("c") / driver.removesuffix(".c")
            built[key] = c_core.build(cc, driver, out, *flags)
        return built[key]
    return build


@pytest.fixture(scope="session")
def jax_devices():
    """JAX's devices, which must be the CPU_DEVICES asked for above (a failure, not a skip,
    if JAX started its backend before this file could ask)."""
    jax = pytest.importorskip("jax")
    if jax.device_count() != CPU_DEVICES:
        pytest.fail(f"JAX has {jax.device_count()} devices, not {CPU_DEVICES}: its CPU backend "
                    f"started before tests/conftest.py set XLA_FLAGS (a plugin that uses jax?)")
    return jax.devices()


def filled(shape, scheme, dtype=np.float32, order="C", **kw):
    """A new array of shape filled by fastinit.fill."""
    out = np.empty(shape, dtype=dtype, order=order)
    return fastinit.fill(out, scheme, **kw)


def run_python(code, timeout=120, **env):
    """Runs `code` in a fresh interpreter that imports the same fastinit as the tests
    (same environment plus `env`; started outside the source tree so that a source
    checkout without the built extension is not imported instead)."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))
    env = {**os.environ, "PYTHONPATH": package_parent, **env}
    return subprocess.run([sys.executable, "-c", code], env=env,
                          cwd=os.path.dirname(os.path.abspath(__file__)),
                          capture_output=True, text=True, timeout=timeout)


# CI's installed-wheel step installs every optional dependency and sets FASTINIT_NO_SKIP=1:
# there a skipped test means an integration went untested, so the run fails and says which.
def _skipped(config):
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return reporter.stats.get("skipped", []) if reporter is not None else []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if os.environ.get("FASTINIT_NO_SKIP") == "1" and _skipped(config):
        terminalreporter.section("FASTINIT_NO_SKIP=1: skipped tests fail this run")
        for report in _skipped(config):
            terminalreporter.line(f"{report.nodeid}: {report.longrepr}")


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("FASTINIT_NO_SKIP") == "1" and _skipped(session.config):
        session.exitstatus = 1
