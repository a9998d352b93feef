"""fastinit.torch: redirect, init_module and materialize on torch's own modules.

The expected values are built here from torch's formulas, written out (not read from
fastinit.torch), and drawn with fastinit.fill on NumPy arrays with the stream of the
tensor's qualified name; the distributions are also compared with torch's own init
(two-sample Kolmogorov-Smirnov tests on large layers).
"""
import math
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

import fastinit
from conftest import run_python

torch = pytest.importorskip("torch")
nn = torch.nn
import fastinit.torch as ft  # noqa: E402
import torch_models as tm  # noqa: E402

SEED = 1234


def drawn(shape, scheme, name, dtype=np.float32, seed=SEED, **params):
    """The values fastinit.fill gives a whole tensor of this shape and name."""
    return fastinit.fill(np.empty(shape, dtype), scheme, seed=seed, stream=name, **params)


def kaiming_a_sqrt5_bound(fan_in):
    # torch: kaiming_uniform_(w, a=sqrt(5)): gain = sqrt(2 / (1 + a**2)), std = gain /
    # sqrt(fan_in), bound = sqrt(3) * std, in this order, in Python floats.
    gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))
    return math.sqrt(3.0) * (gain / math.sqrt(fan_in))


def uniform(bound):
    return ("uniform", {"low": -bound, "high": bound})


def constant(value):
    return ("constant", {"value": value})


def linear_like(module, fan_in):
    """Linear, Conv*: weight kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in))."""
    return {"weight": uniform(kaiming_a_sqrt5_bound(fan_in)),
            "bias": uniform(1 / math.sqrt(fan_in))}


def xavier_uniform(fan_in, fan_out, gain=1.0):
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform(math.sqrt(3.0) * std)


# (module, {parameter or buffer name: (scheme, params)}) for each built-in kind.
KINDS = {
    "Linear": lambda: (nn.Linear(20, 30), linear_like(None, 20)),
    "Bilinear": lambda: (nn.Bilinear(5, 7, 4), {"weight": uniform(1 / math.sqrt(5)),
                                                "bias": uniform(1 / math.sqrt(5))}),
    "Conv1d": lambda: (nn.Conv1d(4, 6, 3), linear_like(None, 4 * 3)),
    "Conv2d": lambda: (nn.Conv2d(4, 6, (3, 2), groups=2), linear_like(None, 2 * 3 * 2)),
    "Conv3d": lambda: (nn.Conv3d(2, 3, 2), linear_like(None, 2 * 8)),
    # ConvTranspose2d's weight is (in, out / groups, kh, kw): fan_in = out/groups * kh*kw.
    "ConvTranspose2d": lambda: (nn.ConvTranspose2d(4, 6, 3), linear_like(None, 6 * 9)),
    "Embedding": lambda: (nn.Embedding(10, 4, padding_idx=3),
                          {"weight": ("normal", {"mean": 0.0, "std": 1.0})}),
    "EmbeddingBag": lambda: (nn.EmbeddingBag(10, 4),
                             {"weight": ("normal", {"mean": 0.0, "std": 1.0})}),
    "LayerNorm": lambda: (nn.LayerNorm(6), {"weight": constant(1.0), "bias": constant(0.0)}),
    "RMSNorm": lambda: (nn.RMSNorm(6), {"weight": constant(1.0)}),
    "GroupNorm": lambda: (nn.GroupNorm(2, 6), {"weight": constant(1.0), "bias": constant(0.0)}),
    "BatchNorm1d": lambda: (nn.BatchNorm1d(5), {
        "weight": constant(1.0), "bias": constant(0.0), "running_mean": constant(0.0),
        "running_var": constant(1.0), "num_batches_tracked": constant(0)}),
    "BatchNorm2d": lambda: (nn.BatchNorm2d(3), {
        "weight": constant(1.0), "bias": constant(0.0), "running_mean": constant(0.0),
        "running_var": constant(1.0), "num_batches_tracked": constant(0)}),
    "MultiheadAttention": lambda: (nn.MultiheadAttention(8, 2, add_bias_kv=True), {
        "in_proj_weight": xavier_uniform(8, 24), "in_proj_bias": constant(0.0),
        "bias_k": ("normal", {"mean": 0.0, "std": math.sqrt(2.0 / float(8 + 8))}),
        "bias_v": ("normal", {"mean": 0.0, "std": math.sqrt(2.0 / float(8 + 8))}),
        "out_proj.weight": uniform(kaiming_a_sqrt5_bound(8)), "out_proj.bias": constant(0.0)}),
    "LSTM": lambda: (nn.LSTM(5, 4, num_layers=2), {
        name: uniform(1.0 / math.sqrt(4)) for name in (
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1")}),
    "GRU": lambda: (nn.GRU(3, 6), {
        name: uniform(1.0 / math.sqrt(6)) for name in (
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}),
    "PReLU": lambda: (nn.PReLU(3, init=0.3), {"weight": constant(0.3)}),
    "TransformerEncoderLayer": lambda: (nn.TransformerEncoderLayer(8, 2, dim_feedforward=12), {
        "self_attn.in_proj_weight": xavier_uniform(8, 24),
        "self_attn.in_proj_bias": constant(0.0),
        "self_attn.out_proj.weight": uniform(kaiming_a_sqrt5_bound(8)),
        "self_attn.out_proj.bias": constant(0.0),
        "linear1.weight": uniform(kaiming_a_sqrt5_bound(8)),
        "linear1.bias": uniform(1 / math.sqrt(8)),
        "linear2.weight": uniform(kaiming_a_sqrt5_bound(12)),
        "linear2.bias": uniform(1 / math.sqrt(12)),
        "norm1.weight": constant(1.0), "norm1.bias": constant(0.0),
        "norm2.weight": constant(1.0), "norm2.bias": constant(0.0)}),
}


def expected_value(name, tensor, scheme, params):
    if scheme == "constant":
        return torch.full(tuple(tensor.shape), params["value"], dtype=tensor.dtype).numpy()
    dtype = np.float64 if tensor.dtype == torch.float64 else np.float32
    return drawn(tuple(tensor.shape), scheme, name, dtype, **params)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_module_kind_gets_torchs_distribution_drawn_from_its_stream(kind):
    module, expected = KINDS[kind]()
    state = dict(module.state_dict(keep_vars=True))
    with torch.no_grad():  # garbage first, so that a tensor init skips shows
        for tensor in state.values():
            tensor.fill_(7)
    ft.init_module(module, seed=SEED)
    assert sorted(expected) == sorted(state), "the test must name every tensor"
    for name, (scheme, params) in expected.items():
        got = state[name].detach().numpy()
        want = expected_value(name, state[name], scheme, params)
        if kind.startswith("Embedding") and name == "weight" and module.padding_idx is not None:
            want[module.padding_idx] = 0
        np.testing.assert_array_equal(got, want, err_msg=f"{kind}.{name}")


def test_kinds_of_torch_init_functions_draw_what_torch_asks_for():
    module = tm.Kinds()
    ft.init_module(module, seed=SEED)
    s = dict(module.named_parameters())

    def same(name, scheme, **params):
        want = drawn(tuple(s[name].shape), scheme, name, **params)
        np.testing.assert_array_equal(s[name].detach().numpy(), want, err_msg=name)
    same("normal", "normal", mean=0.5, std=0.2)
    same("trunc", "truncated_normal", mean=0.0, std=0.02, bound=0.04 / 0.02)
    same("xavier_u", "uniform", low=-math.sqrt(3.0) * (5 / 3) * math.sqrt(2.0 / 15),
         high=math.sqrt(3.0) * (5 / 3) * math.sqrt(2.0 / 15))
    same("xavier_n", "normal", std=math.sqrt(2.0 / 15))
    same("kaiming_n", "normal", std=math.sqrt(2.0) / math.sqrt(5 * 2))  # fan_out = 5 * 2
    same("ortho", "orthogonal", gain=2.0, layout="torch")
    same("method_u", "uniform", low=-0.3, high=0.1)
    np.testing.assert_array_equal(s["eye"].detach().numpy(), np.eye(5, 7))
    np.testing.assert_array_equal(s["const"].detach().numpy(), np.full(5, 0.25))
    dirac = np.zeros((4, 2, 3, 3))
    for g in range(2):
        for d in range(2):
            dirac[g * 2 + d, d, 1, 1] = 1
    np.testing.assert_array_equal(s["dirac"].detach().numpy(), dirac)
    values = drawn((9, 4), "normal", "sparse", std=0.1)
    zeros = s["sparse"].detach().numpy() == 0
    assert (zeros.sum(axis=0) == math.ceil(0.4 * 9)).all()
    np.testing.assert_array_equal(s["sparse"].detach().numpy()[~zeros], values[~zeros])
    asym = s["trunc_asym"].detach().numpy()
    assert asym.min() >= -1.0 and asym.max() <= 2.0


def ks_pvalue(a, b):
    scipy_stats = pytest.importorskip("scipy.stats")
    return scipy_stats.ks_2samp(np.ravel(a), np.ravel(b)).pvalue


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(1024, 512),
    lambda: nn.Embedding(2000, 256),
    lambda: nn.Conv2d(64, 128, 3),
    lambda: nn.LSTM(256, 256),
], ids=["Linear", "Embedding", "Conv2d", "LSTM"])
def test_distributions_match_torchs_own_init_on_large_layers(make):
    torch.manual_seed(0)
    theirs = make()
    ours = ft.init_module(make(), seed=SEED)
    for (name, a), (_, b) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert ks_pvalue(a.detach(), b.detach()) > 1e-3, name


@pytest.mark.parametrize("call", [
    lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
    lambda t: nn.init.xavier_normal_(t, gain=0.5),
    lambda t: nn.init.trunc_normal_(t, std=0.02),
    lambda t: nn.init.trunc_normal_(t, mean=1.0, std=2.0, a=-1.0, b=5.0),
    lambda t: nn.init.orthogonal_(t),
], ids=["kaiming_normal", "xavier_normal", "trunc_normal", "trunc_normal_asym", "orthogonal"])
def test_init_functions_match_torchs_distribution(call):
    torch.manual_seed(0)
    theirs = call(torch.empty(400, 300))
    holder = nn.Module()
    holder.w = nn.Parameter(torch.empty(400, 300))
    with ft.redirect(holder, seed=SEED):
        call(holder.w)
    assert ks_pvalue(theirs, holder.w.detach()) > 1e-3


def test_asymmetric_truncated_normal_is_the_truncated_normal():
    scipy_stats = pytest.importorskip("scipy.stats")
    holder = nn.Module()
    holder.w = nn.Parameter(torch.empty(300, 200, dtype=torch.float64))
    with ft.redirect(holder, seed=SEED):
        nn.init.trunc_normal_(holder.w, mean=1.0, std=2.0, a=-1.0, b=5.0)
    values = holder.w.detach().numpy().ravel()
    assert values.min() >= -1.0 and values.max() <= 5.0
    law = scipy_stats.truncnorm((-1.0 - 1.0) / 2.0, (5.0 - 1.0) / 2.0, loc=1.0, scale=2.0)
    assert scipy_stats.kstest(values, law.cdf).pvalue > 1e-3


def test_asymmetric_truncated_normal_with_the_mean_outside_is_refused():
    holder = nn.Module()
    holder.w = nn.Parameter(torch.zeros(4, 4))
    with ft.redirect(holder, seed=SEED), pytest.raises(ValueError, match="mean inside"):
        nn.init.trunc_normal_(holder.w, mean=0.0, std=1.0, a=1.0, b=3.0)


def test_values_do_not_depend_on_the_order_modules_are_built_or_initialised():
    class AB(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(6, 4)
            self.b = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3))

    class BA(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3))
            self.a = nn.Linear(6, 4)

    ab, ba = ft.init_module(AB(), seed=3), ft.init_module(BA(), seed=3)
    assert [n for n, _ in ab.named_parameters()] != [n for n, _ in ba.named_parameters()]
    for name, value in ab.state_dict().items():
        assert torch.equal(value, ba.state_dict()[name]), name
    with ft.redirect(ba, seed=3):  # initialised in another order: the same values
        ba.b[0].reset_parameters()
        ba.a.reset_parameters()
    for name, value in ab.state_dict().items():
        assert torch.equal(value, ba.state_dict()[name]), name


@pytest.mark.parametrize("build", [tm.Zoo, tm.transformer], ids=["zoo", "transformer"])
def test_materialize_of_a_meta_model_equals_init_module_of_a_cpu_model(build):
    with torch.device("meta"):
        meta = build()
    ft.materialize(meta, seed=SEED)
    cpu = ft.init_module(build(), seed=SEED)
    assert meta.state_dict().keys() == cpu.state_dict().keys()
    for name, value in cpu.state_dict().items():
        assert torch.equal(meta.state_dict()[name], value), name


def test_materialize_with_a_dtype_equals_init_module_in_that_dtype():
    with torch.device("meta"):
        meta = tm.Zoo()
    ft.materialize(meta, seed=SEED, dtype=torch.float64)
    cpu = ft.init_module(tm.Zoo().to(torch.float64), seed=SEED)
    for name, value in cpu.state_dict().items():
        assert meta.state_dict()[name].dtype == value.dtype
        assert torch.equal(meta.state_dict()[name], value), name


def test_materialize_keeps_ties_flags_and_attributes_in_one_allocation():
    with torch.device("meta"):
        model = tm.transformer()
    model[-1].weight = model[0].weight  # tied: (13, 8) both
    model[0].weight.requires_grad_(False)
    model[1].linear1.weight.tag = "column-parallel"
    ft.materialize(model, seed=SEED)
    assert model[-1].weight is model[0].weight
    assert not model[0].weight.requires_grad and model[1].linear1.weight.requires_grad
    assert model[1].linear1.weight.tag == "column-parallel"
    assert isinstance(model[1].linear1.weight, nn.Parameter)
    storages = {t.untyped_storage().data_ptr() for t in model.state_dict().values()}
    assert len(storages) == 1
    # The tied weight has the values of its first name's init (Embedding: N(0, 1)).
    np.testing.assert_array_equal(model[0].weight.detach().numpy(),
                                  drawn((13, 8), "normal", "0.weight"))


def test_materialized_model_trains():
    with torch.device("meta"):
        model = tm.transformer()
    ft.materialize(model, seed=SEED)
    loss = model(torch.randint(0, 13, (5, 2))).sum()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_progress_callable_is_told_bytes_done_and_total():
    calls = []
    with torch.device("meta"):
        model = tm.transformer()
    ft.materialize(model, seed=SEED, progress=lambda done, total: calls.append((done, total)))
    total = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    assert calls and all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and calls[-1][0] == total


# ---- redirect -----------------------------------------------------------------------------

def holder_of(*shape, dtype=torch.float32):
    holder = nn.Module()
    holder.w = nn.Parameter(torch.zeros(*shape, dtype=dtype))
    return holder


def test_tensors_outside_the_module_get_torchs_values():
    holder = holder_of(3)
    torch.manual_seed(5)
    want = (torch.empty(100).normal_(), nn.init.kaiming_uniform_(torch.empty(10, 10)))
    torch.manual_seed(5)
    with ft.redirect(holder, seed=SEED):
        got = (torch.empty(100).normal_(), nn.init.kaiming_uniform_(torch.empty(10, 10)))
    assert all(torch.equal(a, b) for a, b in zip(want, got))


def test_data_attribute_and_tensor_methods_are_found_by_storage():
    holder = holder_of(40, 30)
    with ft.redirect(holder, seed=SEED):
        holder.w.data.normal_(0.0, 0.5)
    np.testing.assert_array_equal(holder.w.detach().numpy(),
                                  drawn((40, 30), "normal", "w", std=0.5))


def test_a_slice_draws_that_box_of_the_tensors_stream():
    holder = holder_of(40, 30)
    with ft.redirect(holder, seed=SEED):
        nn.init.uniform_(holder.w[10:20, 5:], -2.0, 2.0)
    want = np.zeros((40, 30), np.float32)
    want[10:20, 5:] = drawn((40, 30), "uniform", "w", low=-2.0, high=2.0)[10:20, 5:]
    np.testing.assert_array_equal(holder.w.detach().numpy(), want)


def test_a_transposed_view_takes_its_fans_from_the_view_and_values_from_the_tensor():
    holder = holder_of(40, 30)
    with ft.redirect(holder, seed=SEED):
        nn.init.kaiming_uniform_(holder.w.T)  # fan_in = 40 (the view is 30 x 40)
    bound = math.sqrt(3.0) * (math.sqrt(2.0 / (1 + 0 ** 2)) / math.sqrt(40))
    np.testing.assert_array_equal(holder.w.detach().numpy(),
                                  drawn((40, 30), "uniform", "w", low=-bound, high=bound))


def test_version_counter_is_bumped_so_autograd_sees_the_change():
    holder = holder_of(4, 4)
    loss = (holder.w * holder.w).sum()  # saves w for the backward pass
    before = holder.w._version
    with ft.redirect(holder, seed=SEED):
        nn.init.normal_(holder.w)
    assert holder.w._version > before
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_torch_functions_are_restored_after_an_exception():
    holder = holder_of(3)
    before = (nn.init.normal_, torch.nn.modules.linear.init.kaiming_uniform_,
              dict(torch.Tensor.__dict__), nn.Embedding._fill_padding_idx_with_zero)
    with pytest.raises(KeyError), ft.redirect(holder, seed=SEED):
        assert nn.init.normal_ is not before[0]
        raise KeyError("boom")
    after = (nn.init.normal_, torch.nn.modules.linear.init.kaiming_uniform_,
             dict(torch.Tensor.__dict__), nn.Embedding._fill_padding_idx_with_zero)
    assert after == before


def test_references_held_by_other_modules_are_replaced_and_restored():
    user_code = types.ModuleType("user_model_code")
    user_code.normal_ = nn.init.normal_  # from torch.nn.init import normal_
    sys.modules[user_code.__name__] = user_code
    try:
        holder = holder_of(20)
        with ft.redirect(holder, seed=SEED):
            user_code.normal_(holder.w, std=3.0)
        np.testing.assert_array_equal(holder.w.detach().numpy(),
                                      drawn((20,), "normal", "w", std=3.0))
        assert user_code.normal_ is torch.nn.init.normal_
    finally:
        del sys.modules[user_code.__name__]


def test_nested_redirects_are_refused():
    a, b = holder_of(3), holder_of(3)
    with ft.redirect(a, seed=1):
        with pytest.raises(RuntimeError, match="already active"), ft.redirect(b, seed=1):
            pass
        nn.init.normal_(a.w)  # the outer one still works
    np.testing.assert_array_equal(a.w.detach().numpy(), drawn((3,), "normal", "w", seed=1))


def test_generator_argument_does_not_change_the_modules_values():
    holder = holder_of(50)
    with ft.redirect(holder, seed=SEED):
        nn.init.normal_(holder.w, generator=torch.Generator().manual_seed(9))
    np.testing.assert_array_equal(holder.w.detach().numpy(), drawn((50,), "normal", "w"))


class CopiesTorchDraws(nn.Module):
    """Init code as Mamba2's dt_bias: torch's own draws, transformed, then copied in."""

    def __init__(self):
        super().__init__()
        self.dt_bias = nn.Parameter(torch.empty(6))
        self.weight = nn.Parameter(torch.empty(4, 6))
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            self.dt_bias.copy_(torch.exp(torch.rand(6) * 3.0 - 7.0))
        nn.init.normal_(self.weight, std=0.02)


def torch_draw_warnings(caught):
    return [str(w.message) for w in caught if "torch's random generator" in str(w.message)]


def test_values_that_init_code_copies_from_torchs_generator_are_warned_about():
    # They depend on torch.manual_seed, not on the seed: the warning names them.
    with pytest.warns(UserWarning, match=r"gave dt_bias \(copy_\) values drawn from torch's "
                                         r"random generator.*rule") as caught:
        ft.init_module(CopiesTorchDraws(), seed=SEED)
    assert "weight" not in torch_draw_warnings(caught)[0].split(" values")[0]
    with pytest.warns(UserWarning, match=r"gave w \(aten\.bernoulli_"):
        holder = holder_of(5)
        with ft.redirect(holder, seed=SEED):
            holder.w.data.bernoulli_(0.5)


def test_no_warning_once_a_rule_or_fastinit_draws_them():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ft.init_module(CopiesTorchDraws(), seed=SEED, rules=[("dt_bias", "uniform")])
        with torch.device("meta"):
            model = tm.Zoo()
        ft.materialize(model, seed=SEED)  # every kind of torch init, drawn by fastinit
        holder = holder_of(5)
        with ft.redirect(holder, seed=SEED):
            torch.rand(3)  # not the module's: no concern of the redirect
            nn.init.normal_(holder.w)
    assert torch_draw_warnings(caught) == []


# ---- rules ------------------------------------------------------------------------------

def test_rules_override_the_modules_init_first_match_wins_torch_layout():
    model = nn.Sequential(nn.Linear(20, 30), nn.Linear(30, 10))
    ft.init_module(model, seed=SEED, rules=[("1.weight", "zeros"),
                                            ("*.weight", "he_normal"),
                                            ("*.bias", "constant", {"value": 0.5})])
    np.testing.assert_array_equal(model[1].weight.detach().numpy(), 0)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(),
                                  drawn((30, 20), "normal", "0.weight",
                                        std=math.sqrt(2.0) / math.sqrt(20)))
    np.testing.assert_array_equal(model[0].bias.detach().numpy(), 0.5)


def test_a_module_whose_tensors_rules_cover_is_not_reset():
    class Refuses(nn.Linear):
        def reset_parameters(self):
            if getattr(self, "built", False):
                raise AssertionError("reset although rules cover every tensor")
            super().reset_parameters()

    model = Refuses(3, 4)
    model.built = True
    ft.init_module(model, seed=SEED, rules=[("weight", "glorot_uniform"), ("bias", "zeros")])
    np.testing.assert_array_equal(model.bias.detach().numpy(), 0)


def test_rules_that_match_nothing_are_warned_about_by_pattern():
    with pytest.warns(UserWarning, match=r"'nothing\.\*'.*'0\.weight'"):
        ft.init_module(nn.Sequential(nn.Linear(2, 2)), seed=SEED,
                       rules=[("nothing.*", "zeros"), ("*", "ones"), ("0.weight", "zeros")])


def snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def assert_unchanged(module, before):
    for name, value in module.state_dict().items():
        assert torch.equal(value, before[name]), f"{name} was written"


@pytest.mark.parametrize("rules, error, match", [
    ([("*.weight", "he_nromal")], ValueError, "he_normal"),
    ([("*.weight", "normal", {"std": -1})], ValueError, r"rules\[0\].*std"),
    ([("*.weight", "normal", {"gian": 2})], TypeError, "gian"),
    ([("*.weight",)], TypeError, r"rules\[0\]"),
    ("*.weight", TypeError, "sequence"),
    ([("*.bias", "orthogonal")], ValueError, "rank 2"),
])
def test_bad_rules_are_refused_before_anything_is_written(rules, error, match):
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    before = snapshot(model)
    with pytest.raises(error, match=match):
        ft.init_module(model, seed=SEED, rules=rules)
    assert_unchanged(model, before)


@pytest.mark.parametrize("dtype, params", [(torch.float16, {"mean": 60000.0, "std": 4000.0}),
                                           (torch.bfloat16, {"std": 1e-45})])
def test_rules_whose_values_the_models_dtype_cannot_hold_are_refused_before_anything_is_written(
        dtype, params):
    # Past float16's largest value; below bfloat16's least (float32 holds both): the
    # rules are checked in the dtype the tensors are written in, not in float32.
    rules = [("1.weight", "normal", params)]
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).to(dtype)
    before = snapshot(model)
    name = str(dtype).removeprefix("torch.")
    with pytest.raises(ValueError, match=rf"rules\[0\].*1\.weight.*{name}"):
        ft.init_module(model, seed=SEED, rules=rules)
    assert_unchanged(model, before)
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"rules\[0\].*1\.weight"):
        ft.materialize(model, seed=SEED, dtype=dtype, rules=rules)
    assert all(p.is_meta and p.dtype == torch.float32 for p in model.parameters())


# ---- bad input ------------------------------------------------------------------------------

class NoInit(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.scale = nn.Parameter(torch.full((3,), 2.0))


@pytest.mark.parametrize("call", [ft.init_module, ft.materialize,
                                  lambda m, seed: ft.redirect(m, seed=seed)])
def test_a_non_module_is_refused(call):
    with pytest.raises(TypeError, match="torch.nn.Module"):
        call(torch.zeros(3), seed=1)


def test_a_parameter_no_init_covers_is_an_error_naming_it_and_nothing_is_written():
    model = NoInit()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"initialises scale;.*unmatched='keep'"):
        ft.init_module(model, seed=SEED)
    assert_unchanged(model, before)
    ft.init_module(model, seed=SEED, unmatched="keep")
    assert torch.equal(model.scale, before["scale"])
    assert not torch.equal(model.lin.weight, before["lin.weight"])


def test_init_code_that_does_not_write_a_parameter_it_claims_is_an_error():
    class Forgets(nn.Linear):
        def reset_parameters(self):
            nn.init.zeros_(self.weight)  # and not the bias

    with pytest.raises(ValueError, match="did not initialise bias"):
        ft.init_module(Forgets(3, 2), seed=SEED)


def test_materialize_refuses_a_buffer_no_init_computes_before_allocating():
    class Rotary(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("inv_freq", 1.0 / 10000 ** (torch.arange(0, 8, 2) / 8),
                                 persistent=False)

    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(3, 3), Rotary())
    with pytest.raises(ValueError, match=r"values to 1\.inv_freq"):
        ft.materialize(model, seed=SEED)
    assert all(t.is_meta for t in model.state_dict().values())


def test_a_parameter_on_another_device_is_refused_before_anything_is_written():
    from torch._subclasses.fake_tensor import FakeTensorMode
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    before = snapshot(model)
    with FakeTensorMode():
        model[1].weight = nn.Parameter(torch.empty(3, 3, device="cuda"))
    for call in (ft.init_module, ft.materialize):
        with pytest.raises(ValueError, match=r"1\.weight is on cuda.*GPU support"):
            call(model, seed=SEED)
    assert torch.equal(model[0].weight, before["0.weight"])


def test_init_module_of_a_meta_model_says_to_use_materialize():
    with torch.device("meta"):
        model = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="materialize"):
        ft.init_module(model, seed=SEED)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"device": "cuda"}, ValueError, "GPU support"),
    ({"dtype": torch.int32}, TypeError, "dtype"),
    ({"seed": -1}, ValueError, "seed"),
    ({"threads": 0}, ValueError, "threads"),
])
def test_materialize_refuses_bad_arguments_and_leaves_the_model_on_meta(kwargs, error, match):
    with torch.device("meta"):
        model = nn.Linear(3, 3)
    with pytest.raises(error, match=match):
        ft.materialize(model, **{"seed": SEED, **kwargs})
    assert model.weight.is_meta


def test_unmatched_must_be_error_or_keep():
    with pytest.raises(ValueError, match="unmatched"):
        ft.init_module(nn.Linear(2, 2), seed=1, unmatched="ignore")


def test_import_fastinit_does_not_import_torch():
    result = run_python("import sys, fastinit; print('torch' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_redirect_as_gives_the_module():
    holder = holder_of(3)
    with ft.redirect(holder, seed=SEED) as module:
        assert module is holder


def test_a_random_init_of_a_view_that_is_not_a_box_is_refused():
    holder = holder_of(6, 4)
    with ft.redirect(holder, seed=SEED):
        with pytest.raises(ValueError, match="not a box"):
            nn.init.normal_(holder.w.view(-1)[1:7])  # across two rows
        nn.init.zeros_(holder.w.view(-1)[::5])  # a constant: torch writes it
    assert (holder.w.view(-1)[::5] == 0).all()


HUGE_PAGES_PROBE = """
import torch, fastinit.torch as ft
with torch.device("meta"):
    model = torch.nn.Linear(2048, 2048)
ft.materialize(model, seed=1)
address, huge = model.weight.data_ptr(), None
for line in open("/proc/self/smaps"):
    if "-" in line.split()[0] and not line.startswith(("Anon", "Size")):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        mine = start <= address < end
    elif mine and line.startswith("AnonHugePages:"):
        huge = int(line.split()[1])
print(huge)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/smaps is Linux's")
def test_huge_pages_are_asked_for_only_with_fastinit_huge_pages():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            thp = f.read()
    except OSError:
        thp = "[never]"
    plain = run_python(HUGE_PAGES_PROBE, FASTINIT_HUGE_PAGES="0")
    assert plain.returncode == 0, plain.stderr
    if "[madvise]" in thp:
        assert int(plain.stdout) == 0
    huge = run_python(HUGE_PAGES_PROBE, FASTINIT_HUGE_PAGES="1")
    assert huge.returncode == 0, huge.stderr
    if "[never]" not in thp:
        assert int(huge.stdout) > 0


# ---- bfloat16 and float16 ---------------------------------------------------------------

@pytest.mark.parametrize("build", [tm.Zoo, tm.transformer], ids=["zoo", "transformer"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_materialize_in_a_narrow_dtype_equals_init_module_of_a_model_in_it(build, dtype):
    with torch.device("meta"):
        meta = build()
    ft.materialize(meta, seed=SEED, dtype=dtype)
    cpu = ft.init_module(build().to(dtype), seed=SEED)
    for name, value in cpu.state_dict().items():
        assert meta.state_dict()[name].dtype == value.dtype
        assert torch.equal(meta.state_dict()[name], value), name


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_a_narrow_model_holds_the_float32_models_values_rounded(dtype):
    # docs/stream.md, "Narrow formats": each value is the float32 one, rounded to nearest even.
    with torch.device("meta"):
        narrow, wide = tm.Zoo(), tm.Zoo()
    ft.materialize(narrow, seed=SEED, dtype=dtype)
    ft.materialize(wide, seed=SEED)
    for name, value in wide.to(dtype).state_dict().items():
        assert torch.equal(narrow.state_dict()[name], value), name


def test_each_module_kind_in_bfloat16_gets_the_float32_draw_rounded():
    for kind in ("Linear", "Conv2d", "Embedding", "MultiheadAttention", "GRU"):
        module, expected = KINDS[kind]()
        module = ft.init_module(module.to(torch.bfloat16), seed=SEED)
        state = module.state_dict()
        for name, (scheme, params) in expected.items():
            want = torch.from_numpy(expected_value(name, state[name].float(), scheme, params))
            if kind == "Embedding" and name == "weight":
                want[module.padding_idx] = 0
            assert torch.equal(state[name], want.to(torch.bfloat16)), f"{kind}.{name}"
