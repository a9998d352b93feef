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


@pytest.mark.parametrize("build", [tm.transformer, tm.Kinds], ids=["transformer", "kinds"])
def test_every_tensor_of_the_file_is_what_materialize_writes(tmp_path, build):
    # Kinds: eye_, dirac_, sparse_, an asymmetric trunc_normal_ (computed, written from
    # memory) next to drawn tensors (written from their TensorSpec).
    path = tmp_path / "model.safetensors"
    ft.save_initialized(on_meta(build), path, seed=SEED, progress=False)
    want = ft.materialize(on_meta(build), seed=SEED).state_dict()
    assert_state_equal(safetensors_torch.load_file(path), want)


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
    (lambda: torch.nn.BatchNorm1d(4), r"num_batches_tracked is a torch.int64 tensor"),
    (lambda: tm_scaled(), r"writes weight with aten\.mul_"),
])
def test_what_cannot_be_written_is_refused_before_any_file(tmp_path, build, match):
    with pytest.raises((TypeError, ValueError), match=match):
        ft.save_initialized(on_meta(build), tmp_path / "model.safetensors", seed=SEED)
    assert os.listdir(tmp_path) == []


def tm_scaled():
    class Scaled(torch.nn.Linear):
        def reset_parameters(self):
            torch.nn.init.normal_(self.weight)
            with torch.no_grad():
                self.weight.mul_(0.5)
            torch.nn.init.zeros_(self.bias)
    return Scaled(3, 2)
