"""fastinit.save_safetensors and TensorSpec: checkpoints written straight to disk.

The references are the safetensors package itself (its reader, and its writer for
the exact bytes), huggingface_hub's shard splitting, transformers' from_pretrained,
and fastinit.sample of each tensor in memory.
"""
import json
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastinit
from fastinit import TensorSpec, checkpoint
from conftest import run_python

DTYPES = ["float32", "float64", "bfloat16", "float16"]
NARROW = {"bfloat16": "float32", "float16": "float32"}  # the dtype each draws and rounds
SEED = 1234


def numpy_knows(dtype):
    """NumPy arrays of bfloat16 (made by fastinit.sample, read by safetensors' NumPy
    reader) need ml_dtypes imported."""
    if dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")


def expected(name, value, seed=SEED):
    """What the checkpoint must hold for `name`: fastinit.sample of the spec, in memory
    (bfloat16 as ml_dtypes' NumPy dtype)."""
    if not isinstance(value, TensorSpec):
        return np.asarray(value)
    numpy_knows(value.dtype)
    return fastinit.sample(value.shape, value.scheme, dtype=value.dtype, seed=seed,
                           stream=name, **value.params)


def expected_torch(name, value, torch, seed=SEED):
    """The same as a torch tensor; a narrow dtype's from the float32 sample rounded by
    torch's own .to() (round to nearest, ties to even), an independent rounding."""
    dtype = getattr(torch, value.dtype)
    draws = NARROW.get(value.dtype, value.dtype)
    drawn = fastinit.sample(value.shape, value.scheme, dtype=draws, seed=seed, stream=name,
                            **value.params)
    return torch.from_numpy(drawn).to(dtype)


def assert_same_values(got, want, name):
    """Same dtype, shape and bits (NumPy arrays; bfloat16 from ml_dtypes)."""
    assert got.dtype == want.dtype and got.shape == want.shape, name
    bits = np.dtype(f"u{got.dtype.itemsize}")
    assert np.array_equal(got.view(bits), want.view(bits)), name


def mixed_specs(dtype):
    """Shapes that exercise the format: 0-d, zero-size, 1-d, 3-d; names with dots,
    slashes and non-ASCII letters; a scheme with fans, a constant, orthogonal."""
    return {
        "model.layers.0.mlp.weight": TensorSpec((48, 40), dtype, "he_uniform", layout="torch"),
        "encoder/block_1/kernel": TensorSpec((3, 5, 7), dtype, "glorot_normal"),
        "scale": TensorSpec((), dtype, "normal", mean=1.0, std=0.5),
        "empty.bias": TensorSpec((0, 4), dtype, "zeros"),
        "norm.weight": TensorSpec(40, dtype, "ones"),
        "rnn.q": TensorSpec((6, 9), dtype, "orthogonal"),
        "größe.ß": TensorSpec((5,), dtype, "uniform", low=-2, high=3),
    }


def listing(folder):
    return sorted(os.listdir(folder))


def integer_tensors():
    """name -> (value for specs, what the file must hold, written out by hand): integer and
    bool tensors, as TensorSpec constants at their dtype's extremes and as arrays given."""
    return {
        "bn.num_batches_tracked": (TensorSpec((), "int64", "zeros"), np.array(0, np.int64)),
        "step.max": (TensorSpec((2,), "int64", "constant", value=2**63 - 1),
                     np.array([9223372036854775807] * 2, np.int64)),
        "i32.min": (TensorSpec((3,), "int32", "constant", value=-2**31),
                    np.array([-2147483648] * 3, np.int32)),
        "i16.ones": (TensorSpec((2, 2), "int16", "ones"), np.array([[1, 1], [1, 1]], np.int16)),
        "pad/min": (TensorSpec((1, 3), "int8", "constant", value=-128.0),
                    np.array([[-128, -128, -128]], np.int8)),
        "pixels": (TensorSpec((4,), "uint8", "constant", value=np.uint8(255)),
                   np.array([255, 255, 255, 255], np.uint8)),
        "flags": (TensorSpec((2, 3), "bool", "constant", value=True), np.ones((2, 3), bool)),
        "empty.mask": (TensorSpec((0, 2), "bool", "zeros"), np.zeros((0, 2), bool)),
        "position_ids": (np.arange(6, dtype=np.int64).reshape(1, 6),
                         np.array([[0, 1, 2, 3, 4, 5]], np.int64)),
        "computed.mask": (np.array([[True, False], [False, True]]),
                          np.array([[1, 0], [0, 1]], bool)),
        "computed.u16": (np.array([1, 65535], np.uint16), np.array([1, 65535], np.uint16)),
    }


# ---- the file's contents ------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_file_loads_with_safetensors_numpy_to_what_sample_gives(tmp_path, dtype):
    safetensors = pytest.importorskip("safetensors")
    numpy_knows(dtype)
    specs = mixed_specs(dtype)
    [path] = fastinit.save_safetensors(tmp_path / "m.safetensors", specs, seed=SEED)
    with safetensors.safe_open(path, framework="np") as f:
        assert sorted(f.keys()) == sorted(specs)
        for name, spec in specs.items():
            got, want = f.get_tensor(name), expected(name, spec)
            assert got.dtype.name == dtype and got.shape == spec.shape
            assert_same_values(got, want, name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_file_loads_with_safetensors_torch_to_what_sample_gives(tmp_path, dtype):
    safetensors = pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    specs = mixed_specs(dtype)
    [path] = fastinit.save_safetensors(tmp_path / "m.safetensors", specs, seed=SEED)
    with safetensors.safe_open(path, framework="pt") as f:
        for name, spec in specs.items():
            got = f.get_tensor(name)
            assert got.dtype == getattr(torch, dtype) and tuple(got.shape) == spec.shape
            assert torch.equal(got, expected_torch(name, spec, torch)), name


def _header_without_metadata(data):
    """(header text with __metadata__'s object cut out, that object as a dict)."""
    n = int.from_bytes(data[:8], "little")
    text = data[8:8 + n].decode("utf-8")
    opening = '{"__metadata__":'
    assert text.startswith(opening), text[:40]
    meta, end = json.JSONDecoder().raw_decode(text, len(opening))
    return text[:len(opening)] + text[end:], meta


def assert_same_bytes(ours, reference):
    """Byte for byte, except the order of keys inside __metadata__: safetensors keeps
    it in a Rust HashMap, whose order changes from one run to the next."""
    ours, reference = ours.read_bytes(), reference.read_bytes()
    assert len(ours) == len(reference)
    assert ours[:8] == reference[:8]  # the header's length, padding included
    n = 8 + int.from_bytes(ours[:8], "little")
    assert ours[n:] == reference[n:]  # the data, in the same order
    assert _header_without_metadata(ours) == _header_without_metadata(reference)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bytes_equal_safetensors_numpy_writer(tmp_path, dtype):
    safetensors = pytest.importorskip("safetensors")
    from safetensors.numpy import save_file
    other = DTYPES[(DTYPES.index(dtype) + 1) % len(DTYPES)]  # two dtypes in one file
    numpy_knows(dtype)
    numpy_knows(other)
    specs = {**mixed_specs(dtype), **{f"other.{k}": v for k, v in mixed_specs(other).items()},
             'quote"back\\slash\nnew\tline\x01\x7f': TensorSpec(3, dtype, "normal"),
             "computed.buffer": np.linspace(0, 1, 7)}
    ours = fastinit.save_safetensors(tmp_path / "ours.safetensors", specs, seed=SEED,
                                     metadata={"note": "ünïcode \"quoted\""})[0]
    with safetensors.safe_open(ours, framework="np") as f:
        metadata = f.metadata()
    save_file({name: expected(name, v) for name, v in specs.items()},
              tmp_path / "reference.safetensors", metadata=metadata)
    assert_same_bytes(ours, tmp_path / "reference.safetensors")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bytes_equal_safetensors_torch_writer(tmp_path, dtype):
    safetensors = pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    specs = mixed_specs(dtype)
    ours = fastinit.save_safetensors(tmp_path / "ours.safetensors", specs, seed=SEED)[0]
    with safetensors.safe_open(ours, framework="pt") as f:
        metadata = f.metadata()
    save_file({name: expected_torch(name, v, torch) for name, v in specs.items()},
              tmp_path / "reference.safetensors", metadata=metadata)
    assert_same_bytes(ours, tmp_path / "reference.safetensors")


def test_an_empty_checkpoint_is_a_valid_file(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    [path] = fastinit.save_safetensors(tmp_path / "empty.safetensors", {}, seed=0)
    with safetensors.safe_open(path, framework="np") as f:
        assert list(f.keys()) == []


def test_metadata_records_version_stream_version_seed_and_users(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    [path] = fastinit.save_safetensors(tmp_path / "m.safetensors",
                                       {"w": TensorSpec(4, "float32", "normal")},
                                       seed=2**64 - 1, metadata={"model": "tiny", "format": "np"})
    with safetensors.safe_open(path, framework="np") as f:
        assert f.metadata() == {
            "format": "np", "model": "tiny", "fastinit_version": fastinit.__version__,
            "fastinit_stream_version": str(fastinit.get_config()["stream_version"]),
            "fastinit_seed": str(2**64 - 1)}


def test_metadata_format_is_pt_by_default(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    [path] = fastinit.save_safetensors(tmp_path / "m.safetensors", {}, seed=0)
    with safetensors.safe_open(path, framework="np") as f:
        assert f.metadata()["format"] == "pt"  # what transformers' save_pretrained writes


def test_same_bytes_for_any_thread_count_and_chunk_size(tmp_path, monkeypatch):
    specs = {**{f"{d}.{k}": v for d in DTYPES for k, v in mixed_specs(d).items()},
             **{n: v for n, (v, _) in integer_tensors().items()},
             "big": TensorSpec((7, 33, 65), "bfloat16", "normal", std=0.02),
             "steps": TensorSpec((5, 9), "int64", "constant", value=-3),
             "table": np.arange(35, dtype=np.float32).reshape(5, 7)}
    files = []
    for chunk in (8, 24, 1000, 4096 + 8, checkpoint.CHUNK_BYTES):
        for threads in (1, 2):
            monkeypatch.setattr(checkpoint, "CHUNK_BYTES", chunk)
            path = tmp_path / f"c{chunk}-t{threads}.safetensors"
            fastinit.save_safetensors(path, specs, seed=SEED, threads=threads)
            files.append(path.read_bytes())
    assert all(f == files[0] for f in files[1:])


def test_arrays_and_torch_tensors_are_written_as_given(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    torch = pytest.importorskip("torch")
    given = {"np.strided": np.arange(24, dtype=np.float64).reshape(4, 6)[:, ::2],
             "np.big_endian": np.arange(5, dtype=">f4"),
             "np.scalar": np.array(2.5, np.float32),
             "np.half": np.linspace(-1, 1, 9, dtype=np.float16),
             "torch.buffer": torch.arange(6, dtype=torch.float32).reshape(2, 3).t(),
             "torch.scalar": torch.tensor(3.0, dtype=torch.float64),
             "torch.rotary": torch.linspace(0, 1, 10, dtype=torch.bfloat16).reshape(2, 5),
             "np.big_endian_ids": np.arange(4, dtype=">i4"),
             "torch.ids": torch.arange(6, dtype=torch.int64).reshape(2, 3).t(),
             "torch.mask": torch.tensor([True, False, True])}
    [path] = fastinit.save_safetensors(tmp_path / "m.safetensors", given, seed=0)
    with safetensors.safe_open(path, framework="pt") as f:
        for name, value in given.items():
            want = value if isinstance(value, torch.Tensor) else torch.from_numpy(
                value.astype(value.dtype.newbyteorder("=")))
            got = f.get_tensor(name)
            assert got.dtype == want.dtype and torch.equal(got, want), name


def test_specs_may_be_a_sequence_of_pairs(tmp_path):
    pairs = [("b", TensorSpec(3, "float32", "normal")), ("a", TensorSpec(2, "float32", "ones"))]
    one = fastinit.save_safetensors(tmp_path / "pairs.safetensors", pairs, seed=5)[0]
    two = fastinit.save_safetensors(tmp_path / "dict.safetensors", dict(pairs), seed=5)[0]
    assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize("framework", ["np", "pt"])
def test_integer_and_bool_tensors_load_with_safetensors_to_their_exact_values(tmp_path,
                                                                              framework):
    safetensors = pytest.importorskip("safetensors")
    if framework == "pt":
        torch = pytest.importorskip("torch")
    tensors = integer_tensors()
    [path] = fastinit.save_safetensors(tmp_path / "m.safetensors",
                                       {n: v for n, (v, _) in tensors.items()}, seed=SEED)
    with safetensors.safe_open(path, framework=framework) as f:
        assert sorted(f.keys()) == sorted(tensors)
        for name, (_, want) in tensors.items():
            got = f.get_tensor(name)
            if framework == "pt":
                assert got.dtype == getattr(torch, want.dtype.name), name
                got = got.numpy()
            assert got.dtype == want.dtype and np.array_equal(got, want), name


def test_bytes_equal_safetensors_writer_with_integer_and_bool_tensors(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    from safetensors.numpy import save_file
    # with floats, so that safetensors' order by dtype puts I64 first and BOOL last
    tensors = {**integer_tensors(),
               **{n: (v, expected(n, v)) for n, v in mixed_specs("float32").items()}}
    ours = fastinit.save_safetensors(tmp_path / "ours.safetensors",
                                     {n: v for n, (v, _) in tensors.items()}, seed=SEED)[0]
    with safetensors.safe_open(ours, framework="np") as f:
        metadata = f.metadata()
    save_file({n: want for n, (_, want) in tensors.items()},
              tmp_path / "reference.safetensors", metadata=metadata)
    assert_same_bytes(ours, tmp_path / "reference.safetensors")


# ---- where the files go, and shards ---------------------------------------------------

def test_a_folder_gets_model_safetensors(tmp_path):
    paths = fastinit.save_safetensors(tmp_path, {"w": TensorSpec(3, "float32", "ones")}, seed=0)
    assert paths == [tmp_path / "model.safetensors"] and listing(tmp_path) == ["model.safetensors"]


def test_a_path_ending_in_a_slash_is_a_new_folder(tmp_path):
    paths = fastinit.save_safetensors(f"{tmp_path}/new/", {"w": TensorSpec(3, "float32", "ones")},
                                      seed=0)
    assert paths == [tmp_path / "new" / "model.safetensors"]
    assert listing(tmp_path / "new") == ["model.safetensors"]


def shard_specs():
    """Sizes that take every branch of Hugging Face's split at a 1000-byte limit: a
    tensor past the limit alone (in the middle), a shard that tips over, zero-size."""
    sizes = [100, 300, 500, 2000, 150, 0, 250, 1000, 400, 700, 10]  # float32 elements * 4
    return {f"layers.{i}.w": TensorSpec(n // 4, "float32", "normal") for i, n in enumerate(sizes)}


def test_shards_are_split_and_named_as_huggingface_does(tmp_path):
    hub = pytest.importorskip("huggingface_hub")
    specs = shard_specs()
    split = hub.split_state_dict_into_shards_factory(
        specs, get_storage_size=lambda spec: spec.nbytes,
        filename_pattern="model{suffix}.safetensors", max_shard_size=1000)
    paths = fastinit.save_safetensors(tmp_path / "ckpt", specs, seed=3, max_shard_size=1000)
    assert [p.name for p in paths] == [*split.filename_to_tensors, "model.safetensors.index.json"]
    index = json.loads((tmp_path / "ckpt" / "model.safetensors.index.json").read_text())
    assert index == {"metadata": split.metadata, "weight_map": split.tensor_to_filename}
    safetensors = pytest.importorskip("safetensors")
    for name, tensors in split.filename_to_tensors.items():
        with safetensors.safe_open(tmp_path / "ckpt" / name, framework="np") as f:
            assert sorted(f.keys()) == sorted(tensors)
            for t in tensors:
                assert np.array_equal(f.get_tensor(t), expected(t, specs[t], seed=3))


def test_index_is_written_as_save_pretrained_writes_it(tmp_path):
    fastinit.save_safetensors(tmp_path / "ckpt", shard_specs(), seed=3, max_shard_size=1000)
    text = (tmp_path / "ckpt" / "model.safetensors.index.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_one_shard_is_model_safetensors_without_an_index(tmp_path):
    paths = fastinit.save_safetensors(tmp_path / "ckpt", shard_specs(), seed=3,
                                      max_shard_size="1GB")
    assert paths == [tmp_path / "ckpt" / "model.safetensors"]
    assert listing(tmp_path / "ckpt") == ["model.safetensors"]


@pytest.mark.parametrize("text", ["5GB", "500MB", "1.5GB", "10KB", "3TB", " 7 gb", "2kb"])
def test_sizes_are_read_as_huggingface_hub_reads_them(text):
    hub = pytest.importorskip("huggingface_hub.serialization._base")
    assert checkpoint.parse_size(text) == hub.parse_size_to_int(text)


@pytest.mark.parametrize("text", ["2GiB", "1MiB", "3KiB", "5GIB"])
def test_binary_sizes_are_read_as_transformers_reads_them(text):
    hub = pytest.importorskip("transformers.utils.hub")
    assert checkpoint.parse_size(text) == hub.convert_file_size_to_int(text)


@pytest.mark.parametrize("size", ["5 parsecs", "GB", "-1GB", "", 0, -5, 1.5, True, "0.1B"])
def test_a_bad_size_is_refused(tmp_path, size):
    with pytest.raises((TypeError, ValueError), match="max_shard_size"):
        fastinit.save_safetensors(tmp_path / "ckpt", {}, seed=0, max_shard_size=size)
    assert listing(tmp_path) == []


def test_sharded_folder_loads_with_transformers_from_pretrained(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
        dtype="bfloat16")
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    specs = {name: (TensorSpec(tuple(t.shape), "bfloat16", "normal",
                               std=config.initializer_range) if t.dim() == 2
                    else TensorSpec(tuple(t.shape), "bfloat16", "ones"))
             for name, t in model.state_dict().items()}
    folder = tmp_path / "tiny-llama"
    paths = fastinit.save_safetensors(folder, specs, seed=SEED, max_shard_size="20KB")
    assert len(paths) > 3  # several shards and the index
    config.save_pretrained(folder)
    loaded, info = transformers.LlamaForCausalLM.from_pretrained(
        folder, output_loading_info=True, dtype=torch.bfloat16)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    state = loaded.state_dict()
    assert sorted(state) == sorted(specs)
    for name, spec in specs.items():
        assert state[name].dtype == torch.bfloat16
        assert torch.equal(state[name], expected_torch(name, spec, torch)), name


# ---- bad input: a clear error, and nothing left behind -------------------------------------

def test_a_path_in_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fastinit.save_safetensors(tmp_path / "no" / "m.safetensors", {}, seed=0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fastinit.save_safetensors(tmp_path / "no" / "ckpt", {}, seed=0, max_shard_size="1GB")
    assert listing(tmp_path) == []


def test_repeated_names_are_refused(tmp_path):
    pairs = [("w", TensorSpec(3, "float32", "ones")), ("w", TensorSpec(3, "float32", "zeros"))]
    with pytest.raises(ValueError, match="'w' appears twice"):
        fastinit.save_safetensors(tmp_path / "m.safetensors", pairs, seed=0)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("name, error", [(3, TypeError), ("__metadata__", ValueError),
                                         ("bad\ud800", ValueError)])
def test_a_bad_name_is_refused(tmp_path, name, error):
    with pytest.raises(error, match="name"):
        fastinit.save_safetensors(tmp_path / "m.safetensors",
                                  [(name, TensorSpec(3, "float32", "ones"))], seed=0)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("value", [[1.0, 2.0], np.arange(3, dtype=np.complex64), "normal"])
def test_a_value_that_is_neither_spec_nor_array_of_a_checkpoint_dtype_is_refused(tmp_path,
                                                                               value):
    with pytest.raises(TypeError, match="'w'"):
        fastinit.save_safetensors(tmp_path / "ckpt", {"w": value}, seed=0, max_shard_size=10)
    assert listing(tmp_path) == []


def test_a_meta_tensor_is_refused_naming_it(tmp_path):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"'w' is on the meta device.*TensorSpec"):
        fastinit.save_safetensors(tmp_path / "m.safetensors",
                                  {"w": torch.empty(3, device="meta")}, seed=0)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("metadata", [{"n": 1}, {1: "x"}, {"k": None}, ["a"]])
def test_metadata_that_is_not_str_to_str_is_refused(tmp_path, metadata):
    with pytest.raises(TypeError, match="metadata"):
        fastinit.save_safetensors(tmp_path / "m.safetensors", {}, seed=0, metadata=metadata)
    assert listing(tmp_path) == []


def test_metadata_may_not_rewrite_fastinits_record(tmp_path):
    with pytest.raises(ValueError, match="fastinit_seed"):
        fastinit.save_safetensors(tmp_path / "m.safetensors", {}, seed=0,
                                  metadata={"fastinit_seed": "7"})


@pytest.mark.parametrize("seed", [None, -1, 2**64, 1.0])
def test_a_bad_seed_is_refused(tmp_path, seed):
    with pytest.raises((TypeError, ValueError), match="seed"):
        fastinit.save_safetensors(tmp_path / "m.safetensors", {}, seed=seed)
    assert listing(tmp_path) == []


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    target = tmp_path / "m.safetensors"
    target.write_bytes(b"precious")
    specs = {"w": TensorSpec(3, "float32", "ones")}
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fastinit.save_safetensors(target, specs, seed=0)
    assert target.read_bytes() == b"precious" and listing(tmp_path) == ["m.safetensors"]
    fastinit.save_safetensors(target, specs, seed=0, overwrite=True)
    assert target.read_bytes() != b"precious" and listing(tmp_path) == ["m.safetensors"]


def test_overwrite_removes_the_shards_of_an_earlier_save(tmp_path):
    folder = tmp_path / "ckpt"
    first = fastinit.save_safetensors(folder, shard_specs(), seed=1, max_shard_size=1000)
    with pytest.raises(FileExistsError):
        fastinit.save_safetensors(folder, shard_specs(), seed=2, max_shard_size="1GB")
    assert listing(folder) == sorted(p.name for p in first)
    fastinit.save_safetensors(folder, shard_specs(), seed=2, max_shard_size="1GB", overwrite=True)
    assert listing(folder) == ["model.safetensors"]


def test_too_little_free_space_is_refused_before_writing(tmp_path, monkeypatch):
    real = os.statvfs

    class Full:
        def __init__(self, path):
            stat = real(path)
            self.f_frsize, self.f_bavail = stat.f_frsize, 1
    monkeypatch.setattr(checkpoint.os, "statvfs", Full)
    with pytest.raises(OSError, match="no space left"):
        fastinit.save_safetensors(tmp_path / "m.safetensors",
                                  {"w": TensorSpec(1 << 20, "float32", "ones")}, seed=0)
    assert listing(tmp_path) == []


def test_a_write_that_fails_midway_leaves_no_file(tmp_path):
    # A file-size limit makes the kernel refuse writes past 1 MiB (EFBIG), as a full
    # disk refuses them with ENOSPC, after the free-space check has passed.
    code = f"""
import errno, resource, signal, fastinit
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))
try:
    fastinit.save_safetensors({str(tmp_path / "m.safetensors")!r},
                              {{"w": fastinit.TensorSpec((1024, 1024), "float32", "normal")}},
                              seed=0)
except OSError as e:
    print(errno.errorcode[e.errno], e)
"""
    run = run_python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("EFBIG") and "m.safetensors" in run.stdout, run.stdout
    assert listing(tmp_path) == []


def test_keyboard_interrupt_during_a_write_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "CHUNK_BYTES", 4096)
    calls = []

    def interrupt(done, total):
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        fastinit.save_safetensors(tmp_path / "ckpt", shard_specs(), seed=0, max_shard_size=1000,
                                  progress=interrupt)
    assert listing(tmp_path) == []  # no temporary file, and not the folder it created


def test_ctrl_c_stops_a_write_within_a_second_and_leaves_no_file(tmp_path):
    # The writer is slowed down by its progress function, so that the signal lands in
    # the middle of the write; the signal is a real SIGINT, as Ctrl-C sends.
    code = f"""
import signal, sys, time, fastinit
from fastinit import checkpoint
# Python ignores SIGINT if it started ignoring it (a job run in the background by a
# script); a terminal's Ctrl-C reaches a process that raises KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
checkpoint.CHUNK_BYTES = 1 << 16
def slowly(done, total):
    if done > 1 << 20:
        print("writing", flush=True)
    time.sleep(0.01)
fastinit.save_safetensors({str(tmp_path / "m.safetensors")!r},
                          {{"w": fastinit.TensorSpec((4096, 4096), "float32", "normal")}},
                          seed=0, progress=slowly)
"""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=os.path.dirname(__file__),
                             env={**os.environ, "PYTHONPATH": package_parent})
    try:
        assert child.stdout.readline() == "writing\n"
        assert len(listing(tmp_path)) == 1  # the temporary file
        child.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = child.communicate(timeout=10)
        assert time.monotonic() - sent < 1.0
    finally:
        child.kill()
    assert "KeyboardInterrupt" in err
    assert listing(tmp_path) == []


# ---- progress ----------------------------------------------------------------------------

def test_progress_function_sees_every_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "CHUNK_BYTES", 4096)
    calls = []
    paths = fastinit.save_safetensors(tmp_path / "ckpt", shard_specs(), seed=0,
                                      max_shard_size=1000, progress=lambda *a: calls.append(a))
    total = sum(p.stat().st_size for p in paths if p.suffix == ".safetensors")
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total


def test_no_progress_when_asked_or_when_stderr_is_not_a_terminal(tmp_path, capfd):
    specs = {"w": TensorSpec(1000, "float32", "normal")}
    fastinit.save_safetensors(tmp_path / "a.safetensors", specs, seed=0, progress=False)
    fastinit.save_safetensors(tmp_path / "b.safetensors", specs, seed=0)  # stderr is captured
    assert capfd.readouterr() == ("", "")


def test_progress_bar_with_tqdm_goes_to_stderr(tmp_path, capsys):
    pytest.importorskip("tqdm")
    fastinit.save_safetensors(tmp_path / "m.safetensors",
                              {"w": TensorSpec(1000, "float32", "normal")}, seed=0, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "100%" in err and "m.safetensors" in err


def test_progress_bar_without_tqdm_says_bytes_rate_and_time_left(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails: the built-in bar
    [path] = fastinit.save_safetensors(tmp_path / "m.safetensors",
                                       {"w": TensorSpec(1000, "float32", "normal")}, seed=0,
                                       progress=True)
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"\rwriting {path}: ") and err.endswith("\n")
    size = f"{path.stat().st_size / 1000:.2f} kB"
    assert f"100% {size} / {size}, " in err and "B/s, 0:00 left" in err


def test_builtin_bar_line():
    from fastinit._progress import Bar
    bar = Bar(4_000_000_000, "writing x", None, clock=lambda: 10.0)
    assert bar.line(1_000_000_000, 12.0) == \
        "writing x:  25% 1.00 GB / 4.00 GB, 500.00 MB/s, 0:06 left"


@pytest.mark.parametrize("progress", ["yes", 1])
def test_a_bad_progress_is_refused(tmp_path, progress):
    with pytest.raises(TypeError, match="progress"):
        fastinit.save_safetensors(tmp_path / "m.safetensors", {}, seed=0, progress=progress)
    assert listing(tmp_path) == []


# ---- TensorSpec ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, error, words", [
    (((4, 4), "float32", "nromal"), {}, ValueError, "Did you mean 'normal'"),
    (((4, 4), "float32", "normal"), {"gain": 2}, TypeError, "does not take gain"),
    (((4, 4), "float32", "normal"), {"std": -1}, ValueError, "std must be > 0"),
    (((4, 4), "float32", "constant"), {}, TypeError, "needs value="),
    (((4,), "float32", "orthogonal"), {}, ValueError, "rank 2"),
    (((4, -1), "float32", "normal"), {}, ValueError, "shape\\[1\\] must be >= 0"),
    (((4, 2.5), "float32", "normal"), {}, TypeError, "shape"),
    (("4x4", "float32", "normal"), {}, TypeError, "shape"),
    (((4, 4), "complex64", "zeros"), {}, TypeError, "a checkpoint holds float32"),
    # fastinit's draws are floating-point: an integer or bool tensor holds one constant
    (((4, 4), "int8", "normal"), {}, TypeError, "'normal' gives floating-point values"),
    (((4, 4), "int64", "he_uniform"), {}, TypeError, "tensor is int64"),
    (((4,), "bool", "uniform"), {}, TypeError, "integer or bool tensor holds one constant"),
    (((4,), "int64", "constant"), {"value": 1.5}, ValueError, "exact int64 value"),
    (((4,), "uint8", "constant"), {"value": 256}, ValueError, "256 does not fit in uint8"),
    (((4,), "int8", "constant"), {"value": -129}, ValueError, "does not fit in int8"),
    (((4,), "bool", "constant"), {"value": 2}, ValueError, "does not fit in bool"),
    (((4,), "int32", "constant"), {"value": "1"}, ValueError, "exact int32 value"),
    (((4,), "int32", "zeros"), {"std": 1}, TypeError, "does not take std"),
    (((2**32, 2**32), "float32", "normal"), {}, ValueError, "2\\*\\*63"),
])
def test_tensor_spec_is_checked_when_made(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        TensorSpec(*args, **kwargs)


def test_tensor_spec_is_an_immutable_value():
    spec = TensorSpec([4, np.int64(3)], np.float64, "he_normal", layout="torch", mode="fan_out")
    assert spec.shape == (4, 3) and spec.dtype == "float64" and spec.scheme == "he_normal"
    assert spec.params == {"layout": "torch", "mode": "fan_out"}
    assert spec.size == 12 and spec.nbytes == 96
    assert repr(spec) == "TensorSpec((4, 3), 'float64', 'he_normal', layout='torch', mode='fan_out')"
    same = TensorSpec((4, 3), "float64", "he_normal", mode="fan_out", layout="torch")
    assert spec == same and hash(spec) == hash(same) and spec != TensorSpec(12, "float64", "ones")
    assert pickle.loads(pickle.dumps(spec)) == spec
    spec.params["mode"] = "fan_in"
    assert spec.params["mode"] == "fan_out"
    with pytest.raises(AttributeError):
        spec.shape = (1,)
    assert TensorSpec(5, "float32", "zeros").shape == (5,)
    assert TensorSpec((), "float32", "ones").shape == ()


def test_an_integer_tensor_spec_names_its_dtype_as_numpy_and_torch_do():
    torch = pytest.importorskip("torch")
    for dtype in ("int16", np.int16, np.dtype("int16"), torch.int16):
        spec = TensorSpec((3, 2), dtype, "constant", value=7)
        assert spec.dtype == "int16" and spec.nbytes == 12
    assert TensorSpec(4, bool, "ones").dtype == "bool" and TensorSpec(4, torch.bool, "ones") \
        .nbytes == 4
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert repr(spec) == "TensorSpec((3, 2), 'int16', 'constant', value=7)"


# ---- memory -------------------------------------------------------------------------------

PEAK_SCRIPT = """
import sys, fastinit

def peak_kib():  # VmHWM: this process's own peak resident memory
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))

before = peak_kib()  # the interpreter with NumPy and fastinit imported
specs = {f"layers.{i}.weight": fastinit.TensorSpec((8192, 8192), "float32", "normal", std=0.02)
         for i in range(8)}
[path] = fastinit.save_safetensors(sys.argv[1], specs, seed=0)
print(path.stat().st_size, (peak_kib() - before) * 1024)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_peak_memory_of_a_2gb_checkpoint_stays_within_256mb(tmp_path):
    # With the default CHUNK_BYTES (32 MiB): two buffers, 64 MiB, whatever the file size.
    path = tmp_path / "big.safetensors"
    try:
        run = run_python(PEAK_SCRIPT.replace("sys.argv[1]", repr(str(path))))
        assert run.returncode == 0, run.stderr
        size, added = map(int, run.stdout.split())
        assert size >= 2 * 2**30
        assert added <= 256 * 2**20, f"peak resident memory grew by {added / 2**20:.0f} MiB"
    finally:
        path.unlink(missing_ok=True)
