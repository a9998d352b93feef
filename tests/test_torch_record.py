"""A meta-device model's init, recorded instead of run (what save_initialized writes):
a tensor drawn or set whole is a (scheme, params) record, any other is computed
alone; together they are exactly what materialize gives the model."""
import numpy as np
import pytest

import fastinit

torch = pytest.importorskip("torch")
nn = torch.nn
from fastinit.torch import _module  # noqa: E402
import fastinit.torch as ft  # noqa: E402
import torch_models as tm  # noqa: E402

SEED = 21


def hf(name):
    transformers = pytest.importorskip("transformers")
    config = getattr(tm, f"tiny_{name}_config")()
    return {"llama": transformers.LlamaForCausalLM,
            "bert": transformers.BertForMaskedLM}[name](config)


def on_meta(build):
    with torch.device("meta"):
        return build()


def values_of(record, name, like, dtype):
    kind, *what = record
    if kind == "spec":
        return fastinit.fill(torch.empty(tuple(like.shape), dtype=dtype), what[0], seed=SEED,
                             stream=name, **what[1])
    if kind == "constant":
        return torch.full(tuple(like.shape), what[0],
                          dtype=dtype if like.is_floating_point() else like.dtype)
    return what[0]


@pytest.mark.parametrize("build", [tm.Zoo, tm.transformer, lambda: hf("llama"),
                                   lambda: hf("bert")],
                         ids=["zoo", "transformer", "hf_llama", "hf_bert"])
def test_recorded_values_are_what_materialize_writes(build):
    records = _module.record(on_meta(build), SEED)
    model = ft.materialize(on_meta(build), seed=SEED)
    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    assert records.keys() == tensors.keys()
    for name, record in records.items():
        got = values_of(record, name, tensors[name], tensors[name].dtype)
        assert torch.equal(got, tensors[name]), name


def test_drawn_tensors_are_records_and_only_computed_ones_have_values():
    records = _module.record(on_meta(lambda: hf("llama")), SEED)
    kinds = {name: record[0] for name, record in records.items()}
    assert {n for n, k in kinds.items() if k == "values"} == {
        "model.rotary_emb.inv_freq", "model.rotary_emb.original_inv_freq"}
    assert records["model.embed_tokens.weight"] == (
        "spec", "normal", {"mean": 0.0, "std": tm.tiny_llama_config().initializer_range})


def test_a_write_the_recording_cannot_see_is_refused():
    class Scaled(nn.Linear):
        def reset_parameters(self):
            nn.init.normal_(self.weight)
            with torch.no_grad():
                self.weight.mul_(0.5)  # would be lost: recorded calls are not run
            nn.init.zeros_(self.bias)

    with pytest.raises(ValueError, match=r"writes weight with aten\.mul_.*materialize"):
        _module.record(on_meta(lambda: Scaled(3, 2)), SEED)
