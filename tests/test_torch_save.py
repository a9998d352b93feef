"""fastinit.torch.save_initialized and `fastinit init config.json`: a meta-device model's
initial values written as safetensors, without its memory, equal to what materialize
gives the same model (read back by safetensors' safe_open and transformers'
from_pretrained)."""
import json
import os

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")
import fastinit.torch as ft  # noqa: E402
from fastinit.__main__ import main  # noqa: E402
import torch_models as tm  # noqa: E402

SEED = 77


def on_meta(build):
    with torch.device("meta"):
        return build()


def llama(**overrides):
    return transformers.LlamaForCausalLM(tm.tiny_llama_config(**overrides))


def assert_state_equal(got, want):
    assert got.keys() == want.keys()
    for name, value in want.items():
        assert got[name].dtype == value.dtype, name
        assert torch.equal(got[name], value), name


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
@pytest.mark.parametrize("tied", [False, True])
def test_a_sharded_folder_loads_with_from_pretrained_as_materialize_gives_it(tmp_path, dtype,
                                                                             tied):
    paths = ft.save_initialized(on_meta(lambda: llama(tie_word_embeddings=tied)),
                                tmp_path / "out", seed=SEED, dtype=dtype,
                                max_shard_size="20kB", progress=False)
    names = sorted(p.name for p in paths)
    assert "model.safetensors.index.json" in names and "config.json" in names
    assert sum(n.startswith("model-0") for n in names) > 1
    loaded = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "out")
    want = ft.materialize(on_meta(lambda: llama(tie_word_embeddings=tied)), seed=SEED,
                          dtype=dtype)
    assert_state_equal(loaded.state_dict(), want.state_dict())
    assert (loaded.lm_head.weight is loaded.model.embed_tokens.weight) == tied


@pytest.mark.parametrize("build", [tm.transformer, tm.Kinds, tm.Zoo],
                         ids=["transformer", "kinds", "zoo"])
def test_every_tensor_of_the_file_is_what_materialize_writes(tmp_path, build):
    # Kinds: eye_, dirac_, sparse_, an asymmetric trunc_normal_ (computed, written from
    # memory) next to drawn tensors (written from their TensorSpec). Zoo: torch's own
    # modules, BatchNorm1d's int64 num_batches_tracked among them.
    path = tmp_path / "model.safetensors"
    ft.save_initialized(on_meta(build), path, seed=SEED, progress=False)
    want = ft.materialize(on_meta(build), seed=SEED).state_dict()
    assert_state_equal(safetensors_torch.load_file(path), want)


def batchnorms():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                               torch.nn.Flatten(), torch.nn.BatchNorm1d(4 * 2 * 2))


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_a_model_with_batchnorm_loads_strictly_as_materialize_gives_it(tmp_path, dtype):
    path = tmp_path / "model.safetensors"
    ft.save_initialized(on_meta(batchnorms), path, seed=SEED, dtype=dtype, progress=False)
    state = safetensors_torch.load_file(path)
    want = ft.materialize(on_meta(batchnorms), seed=SEED, dtype=dtype).state_dict()
    assert_state_equal(state, want)  # num_batches_tracked included, bit for bit
    for name in ("1.num_batches_tracked", "3.num_batches_tracked"):
        assert state[name].dtype == torch.int64 and state[name].shape == () \
            and state[name].item() == 0  # dtype= casts floating tensors only
    model = batchnorms().to(dtype or torch.float32)
    model.load_state_dict(state, strict=True)
    assert_state_equal(model.state_dict(), want)


def test_integer_and_bool_buffers_the_init_computes_are_written_exactly(tmp_path):
    path = tmp_path / "model.safetensors"
    ft.save_initialized(on_meta(tm.IntegerBuffers), path, seed=SEED, dtype=torch.float16,
                        progress=False)
    state = safetensors_torch.load_file(path)
    assert_state_equal(state, ft.materialize(on_meta(tm.IntegerBuffers), seed=SEED,
                                             dtype=torch.float16).state_dict())
    # written out by hand: what torch's own fill_, ones_, copy_ and constant_ store
    assert state["steps"].tolist() == [7, 7] and state["steps"].dtype == torch.int64
    assert state["mask"].dtype == torch.bool and state["mask"].all()
    assert state["position_ids"].tolist() == [[0, 1, 2, 3, 4, 5]]
    assert state["position_ids"].dtype == torch.int32
    assert state["offset"].tolist() == [-128] * 3 and state["offset"].dtype == torch.int8


def test_fastinit_init_of_a_hugging_face_config_with_batchnorm(tmp_path):
    config = tmp_path / "config.json"
    transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                              architectures=["ResNetModel"]).to_json_file(config)
    out = tmp_path / "resnet"
    assert main(["init", str(config), "-o", f"{out}/", "--seed", "3", "--quiet"]) == 0
    with safetensors_torch.safe_open(out / "model.safetensors", framework="pt") as f:
        counters = [n for n in f.keys() if n.endswith("num_batches_tracked")]
        assert counters and all(f.get_tensor(n).dtype == torch.int64 for n in counters)
    loaded = transformers.ResNetModel.from_pretrained(out)
    want = ft.materialize(on_meta(lambda: transformers.ResNetModel(
        transformers.ResNetConfig.from_json_file(config))), seed=3)
    assert_state_equal(loaded.state_dict(), want.state_dict())


def test_fastinit_init_of_a_hugging_face_config(tmp_path, capsys):
    config = tmp_path / "config.json"
    tm.tiny_llama_config(architectures=["LlamaForCausalLM"]).to_json_file(config)
    out = tmp_path / "tiny-llama"
    assert main(["init", str(config), "-o", f"{out}/", "--seed", "3", "--dtype", "bfloat16",
                 "--quiet"]) == 0
    loaded = transformers.AutoModelForCausalLM.from_pretrained(out)
    want = ft.materialize(on_meta(llama), seed=3, dtype=torch.bfloat16)
    assert_state_equal(loaded.state_dict(), want.state_dict())
    assert json.loads((out / "config.json").read_text())["dtype"] == "bfloat16"


def test_fastinit_init_of_a_config_without_model_type_is_a_usage_error(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 8}))
    assert main(["init", str(config), "-o", str(tmp_path / "out")]) == 2
    assert f"{config}: a Hugging Face config.json needs its \"model_type\"" in \
        capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("dtype, code", [("bogus", 2), (7, 2), ("auto", 0)])
def test_fastinit_init_reads_the_configs_dtype_or_refuses_it(tmp_path, capsys, dtype, code):
    config = tmp_path / "config.json"
    document = tm.tiny_llama_config(architectures=["LlamaForCausalLM"]).to_dict()
    config.write_text(json.dumps({**document, "dtype": dtype}))
    out = tmp_path / "out"
    assert main(["init", str(config), "-o", f"{out}/", "--quiet"]) == code
    if code:
        assert f"{config}: the config's dtype {dtype!r} is not a floating-point torch " \
               f"dtype" in capsys.readouterr().err
        assert not out.exists()
    else:  # "auto": the model's own dtype, float32
        state = safetensors_torch.load_file(out / "model.safetensors")
        assert {t.dtype for t in state.values()} == {torch.float32}


@pytest.mark.parametrize("build, match", [
    (tm.DrawnIntegers, r"^ids \(torch\.int64\): scheme 'normal' gives floating-point values"),
    (lambda: tm_scaled(), r"writes weight with aten\.mul_"),
])
@pytest.mark.parametrize("shards", [None, "1kB"])
def test_what_cannot_be_written_is_refused_before_any_file(tmp_path, build, match, shards):
    out = tmp_path / ("model.safetensors" if shards is None else "folder")
    with pytest.raises((TypeError, ValueError), match=match):
        ft.save_initialized(on_meta(build), out, seed=SEED, max_shard_size=shards)
    assert os.listdir(tmp_path) == []


def tm_scaled():
    class Scaled(torch.nn.Linear):
        def reset_parameters(self):
            torch.nn.init.normal_(self.weight)
            with torch.no_grad():
                self.weight.mul_(0.5)
            torch.nn.init.zeros_(self.bias)
    return Scaled(3, 2)
