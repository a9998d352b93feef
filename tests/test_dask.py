"""fastinit.dask: lazy Dask arrays equal to fastinit.sample for any chunking, on the
local scheduler and on a real distributed.LocalCluster."""
import json
import os
import pickle
import signal

import numpy as np
import pytest

import fastinit
from conftest import run_python

da = pytest.importorskip("dask.array")
import dask  # noqa: E402
import fastinit.dask  # noqa: E402

SHAPE = (300, 200)
CHUNKS = [(64, 64), (100, 37), "auto", -1, ((50, 150, 100), (1, 9, 190))]
DTYPES = ["float32", "float64", "bfloat16", "float16"]
# One scheme of every kind the engine writes, a constant, a fan scheme whose layout
# changes the fans (torch: fan_in = 200; keras: 300), and orthogonal.
SCHEMES = {
    "uniform": dict(low=-0.5, high=2.0),
    "normal": dict(mean=0.1, std=0.02),
    "truncated_normal": dict(std=0.02, bound=1.5),
    "constant": dict(value=0.25),
    "he_uniform": dict(layout="torch"),
    "glorot_normal": dict(truncated=True),
    "orthogonal": dict(gain=2.0),
}


def assert_same_bits(actual, expected):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    bits = f"u{expected.dtype.itemsize}"
    np.testing.assert_array_equal(actual.view(bits), expected.view(bits))


def test_import_fastinit_imports_no_dask():
    result = run_python("import sys, fastinit; "
                        "print(sorted(m for m in ('dask', 'distributed', 'zarr') "
                        "if m in sys.modules))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunks", CHUNKS, ids=str)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_compute_equals_sample_whatever_the_chunks(scheme, chunks, dtype):
    if dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")  # NumPy's bfloat16 dtype
    # A small chunk-size makes "auto" split this array into several blocks.
    with dask.config.set({"array.chunk-size": "64KiB"}):
        x = fastinit.dask.array(SHAPE, scheme, seed=11, stream="layer.w", chunks=chunks,
                                dtype=dtype, **SCHEMES[scheme])
    expected = fastinit.sample(SHAPE, scheme, seed=11, stream="layer.w", dtype=dtype,
                               **SCHEMES[scheme])
    assert x.dtype == expected.dtype and x.dtype.name == dtype and x.shape == SHAPE
    if chunks != -1:
        assert x.npartitions > 1
    assert_same_bits(x.compute(scheduler="threads"), expected)


def test_fans_come_from_the_whole_shape_not_the_block():
    shape = (64, 32, 3, 3)  # a torch Conv2d weight: fan_in = 32 * 9, whatever the block
    x = fastinit.dask.array(shape, "he_normal", seed=2, chunks=(16, 8, 3, 2), layout="torch")
    np.testing.assert_array_equal(x.compute(scheduler="threads"),
                                  fastinit.sample(shape, "he_normal", seed=2, layout="torch"))


def test_zero_dimensional_and_empty_arrays():
    scalar = fastinit.dask.array((), "normal", seed=4)
    np.testing.assert_array_equal(scalar.compute(), fastinit.sample((), "normal", seed=4))
    empty = fastinit.dask.array((0, 5), "glorot_uniform", seed=4)
    assert empty.compute().shape == (0, 5)


def _graph_bytes(x):
    return len(pickle.dumps(dict(x.__dask_graph__())))


def test_graph_is_one_small_task_per_block_whatever_the_block_size():
    small = fastinit.dask.array((4 * 8, 4 * 8), "normal", seed=0, chunks=8)
    large = fastinit.dask.array((4 * 2048, 4 * 2048), "normal", seed=0, chunks=2048)
    assert len(small.__dask_graph__()) == len(large.__dask_graph__()) == 16
    # A block of `large` holds 16 MiB; the graph holds no data, only where each block is.
    assert _graph_bytes(large) < 16 * 300
    assert abs(_graph_bytes(large) - _graph_bytes(small)) < 100


def test_orthogonal_computes_q_once_not_once_per_block():
    x = fastinit.dask.array((4 * 64, 4 * 64), "orthogonal", seed=0, chunks=64)
    graph = x.__dask_graph__()
    whole = [key for key in graph if dask.utils.key_split(key) == "sample"]
    assert len(whole) == 1, "one task computes the whole Q"
    assert len(graph) == 1 + 16  # Q, then a slice of it per block
    assert _graph_bytes(x) < 16 * 300


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(scheme="glorot_unifrom"), ValueError, "glorot_uniform"),
    (dict(scheme="normal", std=-1.0), ValueError, "std"),
    (dict(scheme="normal", gain=2.0), TypeError, "does not take gain"),
    (dict(scheme="normal", dtype=np.int32), TypeError, "fastinit writes float32"),
    (dict(scheme="normal", seed=None), TypeError, "seed"),
    (dict(scheme="normal", seed=-1), ValueError, "seed"),
    (dict(scheme="normal", chunks=((100,), (200,))), ValueError, "[Cc]hunks"),
    (dict(scheme="orthogonal", shape=(300,)), ValueError, "rank 2"),
    (dict(scheme="normal", shape=(300, -1)), ValueError, "shape"),
    (dict(scheme="normal", shape="300"), TypeError, "shape"),
    (dict(scheme="normal", threads=4), TypeError, "takes no threads=.*one thread"),
    (dict(scheme="normal", global_shape=(600, 200), origin=(300, 0)), TypeError,
     "takes no global_shape=, origin=.*slice"),
])
def test_bad_arguments_raise_at_the_call(kwargs, error, match):
    arguments = {"shape": SHAPE, "seed": 0, **kwargs}
    with pytest.raises(error, match=match):
        fastinit.dask.array(arguments.pop("shape"), arguments.pop("scheme"), **arguments)


# ---- on a real cluster: two worker processes on this machine ------------------------

@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_cluster_computes_the_local_array(client, dtype):
    if dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")
    x = fastinit.dask.array((1500, 1100), "he_normal", seed=3, stream="w", chunks=(400, 300),
                            dtype=dtype, layout="torch")
    local = x.compute(scheduler="sync")
    assert_same_bits(client.compute(x).result(), local)
    assert_same_bits(local, fastinit.sample((1500, 1100), "he_normal", seed=3, stream="w",
                                            dtype=dtype, layout="torch"))


def test_zarr_round_trip_equals_the_local_array(client, tmp_path):
    zarr = pytest.importorskip("zarr")
    url = str(tmp_path / "weights.zarr")
    x = fastinit.dask.array((1000, 600), "glorot_uniform", seed=7, stream="enc.w",
                            chunks=(256, 200))
    client.compute(x.to_zarr(url, compute=False)).result()  # each task writes one zarr chunk
    stored = zarr.open_array(url, mode="r")
    assert stored.chunks == (256, 200)
    np.testing.assert_array_equal(stored[...], fastinit.sample((1000, 600), "glorot_uniform",
                                                               seed=7, stream="enc.w"))


def _status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def _reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # Linux: VmHWM starts again from the current RSS
    return _status_kib("VmHWM")


def _peak_rss():
    return _status_kib("VmHWM")


def test_peak_memory_per_worker_stays_about_one_block(client):
    block_mib = 32
    rows = block_mib * 2**20 // (4 * 8192)
    x = fastinit.dask.array((16 * rows, 8192), "he_normal", seed=5, chunks=(rows, 8192))
    assert x.nbytes == 16 * block_mib * 2**20  # 8 blocks, 256 MiB, per worker
    before = client.run(_reset_peak_rss)
    client.compute(x.sum(dtype=np.float64)).result()
    grown_mib = {w: (kib - before[w]) / 1024 for w, kib in client.run(_peak_rss).items()}
    # A worker runs one task at a time (threads_per_worker=1): it allocates a block, fills
    # it and sums it, and frees it before the next; a worker that kept its blocks would
    # grow by 8 of them. Allow two blocks: one being filled and malloc's slack.
    assert max(grown_mib.values()) > 0.9 * block_mib, f"no block seen: {grown_mib}"
    assert all(g < 2 * block_mib for g in grown_mib.values()), grown_mib


def test_benchmark_runs_and_reports_every_method():
    pytest.importorskip("distributed")
    bench = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "bench_dask.py")
    run = run_python(f"import runpy, sys; sys.argv = ['bench_dask.py', '--gib', '0.01', "
                     f"'--chunk-mib', '1', '--repeat', '1', '--json']; "
                     f"runpy.run_path({os.path.abspath(bench)!r}, run_name='__main__')",
                     timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert set(report["seconds"]) == {"fastinit.dask.array", "fastinit.sample",
                                      "dask random uniform", "fastinit.fill, mapped"}
    assert all(s > 0 for s in report["seconds"].values())
    assert report["blocks"] > 1 and report["workers"] == 2


# ---- save_safetensors on the cluster ------------------------------------------------

def checkpoint_specs(mib):
    """A model-like set of tensors of about `mib` MiB: every float dtype, a fan scheme
    with a layout, orthogonal, constants (integer and bool ones too), a zero-size and a
    0-d tensor, names with dots."""
    rows = mib * 2**20 // (2 * 4096) // 2  # two big bfloat16/float32 tensors share most
    return {
        "embed.weight": fastinit.TensorSpec((rows, 4096), "bfloat16", "normal", std=0.02),
        "layers.0.mlp.weight": fastinit.TensorSpec((rows // 2, 4096), "float32", "he_normal",
                                                   layout="torch"),
        "layers.0.attn.q": fastinit.TensorSpec((128, 96), "float32", "orthogonal"),
        "layers.0.norm/scale": fastinit.TensorSpec((4096,), "float16", "ones"),
        "layers.0.bias": fastinit.TensorSpec((4096,), "float64", "truncated_normal", std=0.1),
        "head.weight": fastinit.TensorSpec((1000, 512), "float16", "glorot_uniform"),
        "empty": fastinit.TensorSpec((0, 7), "float32", "normal"),
        "temperature": fastinit.TensorSpec((), "float32", "constant", value=0.5),
        "bn.num_batches_tracked": fastinit.TensorSpec((), "int64", "zeros"),
        "mask": fastinit.TensorSpec((3, 5), "bool", "ones"),
    }


def files_of(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_cluster_writes_the_bytes_of_the_single_process_writer(client, tmp_path):
    specs = checkpoint_specs(200)
    one = fastinit.save_safetensors(tmp_path / "one", specs, seed=9, max_shard_size="80MB",
                                    progress=False)
    many = fastinit.dask.save_safetensors(tmp_path / "cluster", specs, seed=9, client=client,
                                          max_shard_size="80MB", progress=False)
    assert [p.name for p in many] == [p.name for p in one]
    assert len(many) >= 4  # three shards or more, and the index
    assert sum(p.stat().st_size for p in many) > 200 * 10**6
    for a, b in zip(one, many):
        assert a.read_bytes() == b.read_bytes(), f"{b.name} differs"


def test_the_file_holds_what_sample_gives(client, tmp_path):
    # Independently of the single-process writer: safetensors reads the values back.
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    specs = {"w": fastinit.TensorSpec((300, 200), "float32", "glorot_uniform"),
             "b": fastinit.TensorSpec((200,), "float64", "normal", std=0.5)}
    path = tmp_path / "model.safetensors"
    assert fastinit.dask.save_safetensors(path, specs, seed=1, client=client,
                                          progress=False) == [path]
    loaded = safetensors_numpy.load_file(path)
    assert_same_bits(loaded["w"], fastinit.sample((300, 200), "glorot_uniform", seed=1,
                                                  stream="w"))
    assert_same_bits(loaded["b"], fastinit.sample(200, "normal", std=0.5, dtype=np.float64,
                                                  seed=1, stream="b"))


def test_progress_reports_every_byte_as_the_tasks_complete(client, tmp_path, monkeypatch):
    monkeypatch.setattr(fastinit.dask, "TASK_BYTES", 1 << 20)
    seen = []
    files = fastinit.dask.save_safetensors(tmp_path / "m.safetensors", checkpoint_specs(8),
                                           seed=2, client=client,
                                           progress=lambda done, total: seen.append((done, total)))
    total = sum(p.stat().st_size for p in files)
    assert len(seen) > 8 and all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == total


def test_the_current_client_is_used_and_none_is_a_clear_error(client, tmp_path):
    specs = {"w": fastinit.TensorSpec((16, 16), "float32", "normal")}
    with pytest.raises(ValueError, match="no Dask client"):
        fastinit.dask.save_safetensors(tmp_path / "a.safetensors", specs, seed=0)
    assert os.listdir(tmp_path) == []
    with client.as_current():
        fastinit.dask.save_safetensors(tmp_path / "a.safetensors", specs, seed=0,
                                       progress=False)
    assert os.listdir(tmp_path) == ["a.safetensors"]


def test_bad_input_is_refused_before_anything_is_written(client, tmp_path):
    specs = {"w": fastinit.TensorSpec((16, 16), "float32", "normal")}
    (tmp_path / "model.safetensors").write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fastinit.dask.save_safetensors(tmp_path / "model.safetensors", specs, seed=0,
                                       client=client)
    with pytest.raises(ValueError, match="max_shard_size"):
        fastinit.dask.save_safetensors(tmp_path / "new", specs, seed=0, client=client,
                                       max_shard_size="lots")
    with pytest.raises(TypeError, match="client"):
        fastinit.dask.save_safetensors(tmp_path / "x.safetensors", specs, seed=0,
                                       client="tcp://127.0.0.1:8786")
    assert os.listdir(tmp_path) == ["model.safetensors"]
    assert (tmp_path / "model.safetensors").read_bytes() == b"keep"


def _limit_file_size(limit):
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_a_write_that_fails_on_a_worker_fails_the_save_and_leaves_no_file(client, tmp_path,
                                                                           monkeypatch):
    import resource
    monkeypatch.setattr(fastinit.dask, "TASK_BYTES", 1 << 20)
    folder = tmp_path / "ckpt"
    client.run(_limit_file_size, 4 << 20)  # a worker's writes past 4 MB fail: EFBIG
    try:
        with pytest.raises(OSError, match="could not write .*model-0000"):
            fastinit.dask.save_safetensors(folder, checkpoint_specs(16), seed=3, client=client,
                                           max_shard_size="10MB", progress=False)
    finally:
        client.run(_limit_file_size, resource.RLIM_INFINITY)
    assert not folder.exists(), "the folder it made is gone again, with every file in it"
    assert os.listdir(tmp_path) == []


def _die_in_the_middle_of_the_next_write():
    """Makes this worker's next positioned write stop halfway and kill its process."""
    from fastinit import checkpoint
    write = checkpoint._pwrite_all

    def half_then_die(fd, data, offset):
        write(fd, data[:len(data) // 2], offset)
        os.kill(os.getpid(), signal.SIGKILL)
    checkpoint._pwrite_all = half_then_die


def test_a_worker_killed_in_the_middle_of_a_write_leaves_a_correct_file_or_none(
        client, tmp_path, monkeypatch):
    # A task writes bytes that depend only on its range, at a fixed place: Dask may run
    # the dead worker's tasks again elsewhere, and the half-written range is written whole.
    # If Dask gave up instead, the save must fail and leave no file under a final name.
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(fastinit.dask, "TASK_BYTES", 1 << 20)
    specs = checkpoint_specs(48)
    one = fastinit.save_safetensors(tmp_path / "one", specs, seed=4, max_shard_size="20MB",
                                    progress=False)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    client.run(_die_in_the_middle_of_the_next_write, workers=[victim])
    folder = tmp_path / "cluster"
    try:
        fastinit.dask.save_safetensors(folder, specs, seed=4, client=client,
                                       max_shard_size="20MB", progress=False)
    except distributed.KilledWorker:
        assert not folder.exists(), "the folder and every file in it are gone"
    else:
        assert files_of(folder) == files_of(one[0].parent)
    finally:
        client.wait_for_workers(2, timeout=60)  # the nanny starts a new worker
    assert pids[victim] not in client.run(os.getpid).values(), "the worker was killed"
