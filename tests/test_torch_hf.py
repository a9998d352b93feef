"""Hugging Face models (transformers 5): their own init code, drawn from fastinit.

A tiny Llama and a tiny BERT are built on the meta device, given memory, and
initialised by their own `init_weights()` under fastinit.torch.redirect. The tensors
that transformers' own init writes (found by running it, with torch's generator, on
a copy whose tensors were NaN) are exactly the ones fastinit's run writes, with the
values of fastinit.fill(..., "normal", std=config.initializer_range) for Linear and
Embedding weights, ones for norms and zeros for biases.
"""
import numpy as np
import pytest

import fastinit

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
import fastinit.torch as ft  # noqa: E402
import torch_models as tm  # noqa: E402

SEED = 99
MODELS = {
    "llama": (lambda: transformers.LlamaForCausalLM(tm.tiny_llama_config()),
              tm.tiny_llama_config),
    "llama_tied": (lambda: transformers.LlamaForCausalLM(
        tm.tiny_llama_config(tie_word_embeddings=True)),
        lambda: tm.tiny_llama_config(tie_word_embeddings=True)),
    "bert": (lambda: transformers.BertForMaskedLM(tm.tiny_bert_config()), tm.tiny_bert_config),
}


def on_meta_with_memory(build):
    """The model built on meta, given uninitialised CPU memory as a user would."""
    with torch.device("meta"):
        model = build()
    model.to_empty(device="cpu")
    return model


def poisoned(model):
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.fill_(float("nan") if tensor.is_floating_point() else -7)
    return model


def touched(model):
    """Names (state_dict keys) whose values are no longer the poison."""
    return {name for name, t in model.state_dict().items()
            if not (t.isnan().any() if t.is_floating_point() else (t == -7).any())}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_redirected_init_weights_draws_hf_distributions_from_each_tensors_stream(kind):
    build, config = MODELS[kind]
    std = config().initializer_range
    reference = poisoned(on_meta_with_memory(build))
    reference.init_weights()  # transformers' own init, torch's generator
    ours = poisoned(on_meta_with_memory(build))
    with ft.redirect(ours, seed=SEED):
        ours.init_weights()
    assert touched(ours) == touched(reference) == set(ours.state_dict())

    canonical = {id(t): n for n, t in ours.named_parameters()}
    for name, module in ours.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
            stream = canonical[id(weight)]  # a tied weight has its first name's values
            want = fastinit.fill(np.empty(tuple(weight.shape), np.float32), "normal",
                                 std=std, seed=SEED, stream=stream)
            owner = ours.get_submodule(stream.rsplit(".", 1)[0])
            if getattr(owner, "padding_idx", None) is not None:
                want[owner.padding_idx] = 0
            np.testing.assert_array_equal(weight.detach().numpy(), want, err_msg=name)
        elif "Norm" in type(module).__name__:
            assert (weight == 1).all(), name
        bias = getattr(module, "bias", None)
        if isinstance(bias, torch.nn.Parameter):
            assert (bias == 0).all(), name
    for name, value in ours.state_dict().items():  # buffers: what transformers computes
        if not name.endswith(("weight", "bias")):
            assert torch.equal(value, reference.state_dict()[name]), name


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_materialize_of_a_meta_hf_model_equals_init_module_of_a_cpu_one(kind, dtype):
    build, _ = MODELS[kind]
    with torch.device("meta"):
        meta = build()
    ft.materialize(meta, seed=SEED, dtype=dtype)
    cpu = ft.init_module(build().to(dtype), seed=SEED)
    assert meta.state_dict().keys() == cpu.state_dict().keys()
    for name, value in cpu.state_dict().items():
        assert torch.equal(meta.state_dict()[name], value), name
    if kind == "llama_tied":
        assert meta.lm_head.weight is meta.model.embed_tokens.weight


def test_materialized_hf_model_computes_rotary_tables_and_runs():
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(tm.tiny_llama_config())
    ft.materialize(model, seed=SEED)
    rotary = model.model.rotary_emb
    head = tm.tiny_llama_config().hidden_size // tm.tiny_llama_config().num_attention_heads
    theta = tm.tiny_llama_config().rope_parameters["rope_theta"]
    want = 1.0 / theta ** (torch.arange(0, head, 2, dtype=torch.int64).float() / head)
    torch.testing.assert_close(rotary.inv_freq, want)
    logits = model(torch.tensor([[1, 2, 3]])).logits
    assert torch.isfinite(logits).all()


def test_transformers_bfloat16_orthogonal_drawn_by_torch_is_warned_about():
    # transformers.initialization.orthogonal_ draws a bfloat16 tensor into a float32 copy
    # with torch's generator, then copies it in: values fastinit cannot make reproducible.
    from transformers import initialization

    class Recurrent(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.empty(8, 8, dtype=torch.bfloat16))

        def reset_parameters(self):
            initialization.orthogonal_(self.w)

    with pytest.warns(UserWarning, match=r"gave w \(copy_\) values drawn from torch's"):
        ft.init_module(Recurrent(), seed=SEED)
