"""Stream version 1 is frozen (STREAM.md): SHA-256 digests of its values, recorded
from the first, scalar implementation (commit d9ae7c4), must come out of every
SIMD path. The model tests check normal and truncated normal values only to a
tolerance (they use the platform's libm); these pin them to the bit, and pin
fastinit's own ln, sin, cos and erfinv over every float32 input the stream can
give them.

If one of these fails, the values of stream version 1 changed: that is a
breaking change, whatever the reason (STREAM.md).

The bfloat16 and float16 digests were recorded from the float32 fills above (pinned
by their own digests) rounded by torch's .to(torch.bfloat16) and NumPy's
.astype(np.float16), not by fastinit (STREAM.md, "Narrow formats"); the last two
tests derive them again that way."""
import hashlib

import numpy as np
import pytest

import fastinit
from fastinit import _engine, _fill

PATHS = _engine.simd_available()

FILLS = [
    ("uniform", dict(low=-0.027, high=0.027)), ("uniform", dict(low=2.5, high=7.25)),
    ("uniform", dict(low=-1e-40, high=1e-40)), ("uniform", dict(low=0.0, high=0.0)),
    ("normal", dict(std=0.022)), ("normal", dict(mean=1.5, std=3.0)),
    ("truncated_normal", dict(std=0.022, bound=2.0)), ("truncated_normal", dict(bound=6.0)),
    ("truncated_normal", dict(bound=1e-3)),
    ("truncated_normal", dict(mean=-1.0, std=2.0, bound=9.0)),
]

EXPECTED = {
    # fills of 200_003 elements at origin 77 of a (300_000,) tensor, seed 12345, stream 7
    ('uniform', 'float32', 0): "1db14cb20c631d1bb125959deea2dcc7",
    ('uniform', 'float32', 1): "e23c0b02135c19aae412373504c8f24e",
    ('uniform', 'float32', 2): "5ab15cd10e5b7ba1646c8e163b4b9298",
    ('uniform', 'float32', 3): "0993c9f2f5eaf431f366a97bf8d49cb3",
    ('normal', 'float32', 4): "663e673757bad24d1625e77459b00c90",
    ('normal', 'float32', 5): "07ac685a5c3a7a8fa473c101889c94d5",
    ('truncated_normal', 'float32', 6): "801c7e7aecf939cc15732a5f6a562768",
    ('truncated_normal', 'float32', 7): "1f005b23d355b914e50271258c3c21f8",
    ('truncated_normal', 'float32', 8): "3f732c2b096a80819118b918282a8880",
    ('truncated_normal', 'float32', 9): "9803014daa0818df0e6d65316cd127cb",
    ('uniform', 'float64', 0): "60d6da40f5c511c70b8f547cdb6cb9b5",
    ('uniform', 'float64', 1): "8037c5f3ff9f49d7403ba06d4f1ede3f",
    ('uniform', 'float64', 2): "fc5879239925f561199b54af83047905",
    ('uniform', 'float64', 3): "f1053500828aaa0e1b9b7e565ee44f67",
    ('normal', 'float64', 4): "632380dca7da84a7264c70be2e930384",
    ('normal', 'float64', 5): "c8ceb39b56a7f91a33df5dc1762faa14",
    ('truncated_normal', 'float64', 6): "2a51672259d5066dcddad1d8f31ac2e5",
    ('truncated_normal', 'float64', 7): "a2a6ef969e2ab718bbad21549b8c3282",
    ('truncated_normal', 'float64', 8): "1af913ef1afe8faec088c026c95c1c01",
    ('truncated_normal', 'float64', 9): "02201b4f49dd8f1c29cdb1649173960a",
    # the float32 fills above rounded to bfloat16 by torch, to float16 by NumPy
    ('uniform', 'bfloat16', 0): "c9b08c2671fcccae1b1d45d18a3dcca9",
    ('uniform', 'bfloat16', 1): "88863d64655a4096b7c5d4ec9a9dc8ec",
    ('uniform', 'bfloat16', 2): "843cef678b19804236a61b7b098ddfa9",
    ('uniform', 'bfloat16', 3): "be58234282bec08ea86d01f3e93db0d0",
    ('normal', 'bfloat16', 4): "fc71db0715df22c5a0145304390cb8bf",
    ('normal', 'bfloat16', 5): "ede74c45eccea20112e8314e69dfd367",
    ('truncated_normal', 'bfloat16', 6): "76d123e880d57941f0aba81831702ed5",
    ('truncated_normal', 'bfloat16', 7): "482488d04e17721ea8699d952ee768bf",
    ('truncated_normal', 'bfloat16', 8): "31ad88ab5af7d53b2c1fede391e09778",
    ('truncated_normal', 'bfloat16', 9): "4ce19d46443d39bac99c9300f8931352",
    ('uniform', 'float16', 0): "2193c0862ba11adcf8a61b6a4da613d7",
    ('uniform', 'float16', 1): "8aa1f19b967cdee47bf163da330a9f65",
    ('uniform', 'float16', 2): "c0043bf8c5d954d51cf7bf6e15d34159",
    ('uniform', 'float16', 3): "be58234282bec08ea86d01f3e93db0d0",
    ('normal', 'float16', 4): "b05b159e8e895b96efee883260c9661e",
    ('normal', 'float16', 5): "1f9fd75df622fe6ccf433cd846ae4fb3",
    ('truncated_normal', 'float16', 6): "4599a9e03e8539c35a29ca0988b5661f",
    ('truncated_normal', 'float16', 7): "888dcaaf596a42807a25ad563ce0817c",
    ('truncated_normal', 'float16', 8): "89e4692c13832aa7175af2865a39f0ee",
    ('truncated_normal', 'float16', 9): "eed36dbf5e9a1a01d9d2cf3067e07932",
    # fastinit's own functions on math_inputs(fn, dtype)
    ('log', 'float32'): "a79cde8a0c3d8bb81dbf66e3e12649d7",
    ('sin', 'float32'): "8720b7efbe4bb8dac611b3b88b57661d",
    ('cos', 'float32'): "3fabe1ab83673cbb58be5fc277cd7ff8",
    ('erfinv', 'float32'): "66980e0a620ab32f799bd58b2a0e9073",
    ('log', 'float64'): "dc8730bf2da06e102c0223be3c58c6e8",
    ('sin', 'float64'): "30cdb318c5b50f1d7d578866ac441f6d",
    ('cos', 'float64'): "3bbee087d89b26879dc16341f5fba4f7",
    ('erfinv', 'float64'): "574bcb90de2104679b9d9c93bbee7717",
}


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).view(np.uint8)).hexdigest()[:32]


def fill_digest(case, dtype):
    kind, params = FILLS[case]
    out = np.empty(200_003, dtype)
    fastinit.fill(out, kind, seed=12345, stream=7, global_shape=(300_000,), origin=(77,),
                  threads=1, **params)
    return digest(out)


def narrow_fill_digest(case, dtype_name):
    """The same fill as fill_digest, into 16-bit words written as dtype_name."""
    kind, params = FILLS[case]
    out = np.empty(200_003, np.uint16)
    _fill.fill_as(out, dtype_name, kind, params, 12345, 7, 1, (300_000,), (77,))
    return digest(out)


def math_inputs(fn, dtype):
    """float32: every value the stream can pass (u, 2 pi u, s * erf(2 / sqrt 2));
    float64: 2^18 random stream values plus the ends of the ranges."""
    if dtype == np.float32:
        k = np.arange(1 << 24, dtype=np.float32)
        u = (k + np.float32(0.5)) * np.float32(2.0**-24)
        s = (2 * k - np.float32(2**24 - 1)) * np.float32(2.0**-24)
        return {"log": u, "sin": np.float32(2 * np.pi) * u, "cos": np.float32(2 * np.pi) * u,
                "erfinv": s * np.float32(0.9544997)}[fn]
    k = np.random.default_rng(5).integers(0, 2**53, 1 << 18, dtype=np.uint64)
    k = np.concatenate([k, np.array([0, 1, 2**52, 2**53 - 2, 2**53 - 1], np.uint64)])
    u = (k.astype(np.float64) + 0.5) * 2.0**-53
    s = (2 * k.astype(np.float64) - (2**53 - 1)) * 2.0**-53
    return {"log": u, "sin": 2 * np.pi * u, "cos": 2 * np.pi * u,
            "erfinv": np.concatenate([s, s * 0.9544997, s * (1 - 1e-9)])}[fn]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fills_have_the_recorded_values(simd_path, path, dtype):
    simd_path(path)
    got = {(FILLS[c][0], np.dtype(dtype).name, c): fill_digest(c, dtype) for c in range(len(FILLS))}
    want = {key: EXPECTED[key] for key in got}
    assert got == want


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fn", ["log", "sin", "cos", "erfinv"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_math_has_the_recorded_values(simd_path, path, fn, dtype):
    simd_path(path)
    got = digest(_engine.eval_math(fn, math_inputs(fn, dtype)))
    assert got == EXPECTED[(fn, np.dtype(dtype).name)]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("rounding", ["hardware", "integer"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_narrow_fills_have_the_recorded_values(simd_path, path, rounding, dtype):
    simd_path(path)
    _engine.round_select(rounding)
    try:
        got = {(FILLS[c][0], dtype, c): narrow_fill_digest(c, dtype) for c in range(len(FILLS))}
    finally:
        _engine.round_select("hardware")
    assert got == {key: EXPECTED[key] for key in got}


def recorded_float32_fills():
    """The float32 fills of fill_digest, checked against their own recorded digests."""
    for c, (kind, params) in enumerate(FILLS):
        out = np.empty(200_003, np.float32)
        fastinit.fill(out, kind, seed=12345, stream=7, global_shape=(300_000,), origin=(77,),
                      threads=1, **params)
        assert digest(out) == EXPECTED[(kind, "float32", c)]
        yield c, kind, out


def test_recorded_float16_digests_are_numpys_cast_of_the_float32_fills():
    for c, kind, f32 in recorded_float32_fills():
        assert digest(f32.astype(np.float16)) == EXPECTED[(kind, "float16", c)]


def test_recorded_bfloat16_digests_are_torchs_cast_of_the_float32_fills():
    torch = pytest.importorskip("torch")
    for c, kind, f32 in recorded_float32_fills():
        bf16 = torch.from_numpy(f32).to(torch.bfloat16).view(torch.int16).numpy()
        assert digest(bf16) == EXPECTED[(kind, "bfloat16", c)]
