"""A user's script, for mypy --strict (CI runs it against the installed wheel; pytest
does not collect it). Each `type: ignore` marks a call mypy must reject: --strict
reports an ignore that is no longer needed, so if the stub or py.typed stopped
shipping and the API turned into Any, mypy would fail here."""
import pathlib

import numpy as np
import numpy.typing as npt

import fastinit
from fastinit import _engine

w = np.empty((256, 128), dtype=np.float32)
same: npt.NDArray[np.float32] = fastinit.fill(w, "glorot_uniform", seed=42, stream="enc.0")
fastinit.fill(w, "he_normal", seed=np.uint64(7), stream=3, threads=2, mode="fan_out")
fastinit.fill(w[:128], "normal", seed=0, std=0.02, global_shape=(256, 128), origin=(0, 0))
b: npt.NDArray[np.floating] = fastinit.sample(128, "zeros", dtype=np.float64)
h = fastinit.sample(128, "he_normal", dtype="float16", seed=1)
fastinit.fill(np.empty(8, np.float16), "ones")

gen = fastinit.Generator(42)
gen.fill(w, "he_normal", name="dec.0.weight")
c = gen.sample((3, 3, 64, 128), "lecun_normal", truncated=True)
seed: int = gen.seed
fastinit.seed(5)
default: fastinit.Generator = fastinit.default_generator()

fans: tuple[int, int] = fastinit.compute_fans((3, 3, 64, 128), layout="keras")
gain: float = fastinit.calculate_gain("leaky_relu", 0.2)
raw: npt.NDArray[np.uint32] = fastinit.random_raw(8, seed=1, stream="s", start=4)
config: dict[str, object] = fastinit.get_config()
version: str = fastinit.__version__
paths: list[str] = _engine.simd_available()

fastinit.fill(w, 42)  # type: ignore[arg-type]
fastinit.calculate_gain("relu", "0.1")  # type: ignore[arg-type]
fastinit.Generator(1).seed = 2  # type: ignore[misc]
_engine.simd_select(3)  # type: ignore[arg-type]

spec = fastinit.TensorSpec((256, 128), "float32", "normal", std=0.02)
shape: tuple[int, ...] = spec.shape
written: list[pathlib.Path] = fastinit.save_safetensors(
    "model.safetensors", {"w": spec, "table": np.zeros(4, np.float32)}, seed=0,
    metadata={"model": "tiny"}, max_shard_size="5GB", threads=2, progress=False)
fastinit.save_safetensors("out", [("w", spec)], seed=0, progress=lambda done, total: None)
fastinit.save_safetensors("out", {"w": spec})  # type: ignore[call-arg]

report = fastinit.propagate(4, 16, activation="relu", schemes=["he_normal", "normal:std=0.1"],
                            batch=8, seed=1, dtype="float64")
act_std: npt.NDArray[np.float64] = report.traces["he_normal"].activation_std
fastinit.propagate(4, 16, activation="relu", schemes=[("small", "normal", {"std": 0.01})])
audited = fastinit.audit({"w": w}, layout="keras", activation="tanh")
matches: tuple[str, ...] = audited["w"].matches
flag_codes: list[str] = [f.code for row in audited.flagged for f in row.flags]
fastinit.audit([("w", w)], layout="torch")
