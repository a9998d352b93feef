"""The orthogonal scheme: Q of a QR of the stream's normal draw, sign-corrected,
shaped per layout; checked against the same construction done here from the
pure-Python stream model."""
import math

import numpy as np
import pytest

import fastinit
import stream_model

SEED, STREAM = 31, 4


def reference(shape, layout, gain=1.0):
    """Q built from stream_model's normals by the recipe of Saxe et al. / Mezzadri."""
    if layout == "torch":
        rows, cols = shape[0], math.prod(shape[1:])
    else:
        rows, cols = math.prod(shape[:-1]), shape[-1]
    big, small = max(rows, cols), min(rows, cols)
    draw = stream_model.normal(SEED, STREAM, 0, big * small, np.float64, 0.0, 1.0)
    q, r = np.linalg.qr(draw.reshape(big, small))
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape), rows, cols


CASES = [((64, 32), "keras"), ((32, 64), "keras"), ((3, 3, 8, 16), "keras"),
         ((64, 32), "torch"), ((16, 8, 3, 3), "torch"), ((8, 72), "torch"), ((20, 20), "keras")]


@pytest.mark.parametrize("shape, layout", CASES)
def test_equals_the_reference_construction(shape, layout):
    got = fastinit.sample(shape, "orthogonal", dtype=np.float64, seed=SEED, stream=STREAM,
                          layout=layout)
    want, _, _ = reference(shape, layout)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape, layout", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_or_columns_are_orthonormal(shape, layout, dtype):
    gain = 1.7
    got = fastinit.sample(shape, "orthogonal", dtype=dtype, seed=SEED, layout=layout, gain=gain)
    _, rows, cols = reference(shape, layout)
    m = got.astype(np.float64).reshape(rows, cols)
    gram = m.T @ m if rows >= cols else m @ m.T
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=tol * gain ** 2)


def test_float32_is_the_float64_result_rounded_once():
    f64 = fastinit.sample((40, 24), "orthogonal", dtype=np.float64, seed=SEED)
    f32 = fastinit.sample((40, 24), "orthogonal", dtype=np.float32, seed=SEED)
    np.testing.assert_array_equal(f32, f64.astype(np.float32))


def test_sign_correction_makes_q_uniform():
    # LAPACK's Householder QR alone makes Q[0, 0] negative every time; with R's
    # signs moved into Q it is positive about half the time.
    signs = [np.sign(fastinit.sample((3, 3), "orthogonal", seed=s)[0, 0]) for s in range(400)]
    assert 0.4 < np.mean(np.array(signs) > 0) < 0.6


def test_shards_equal_the_whole():
    shape = (48, 36)
    whole = fastinit.sample(shape, "orthogonal", seed=SEED, stream="w")
    shard = np.empty((20, 12), np.float32)
    fastinit.fill(shard, "orthogonal", seed=SEED, stream="w", global_shape=shape, origin=(10, 24))
    np.testing.assert_array_equal(shard, whole[10:30, 24:36])


def test_an_empty_region_does_not_compute_the_whole_matrix():
    # Q of this tensor would need 8e18 bytes of float64 workspace: an empty box of it is
    # checked (scheme, parameters, region) and written at once, with no QR.
    empty = np.empty((0, 1000), np.float32)
    out = fastinit.fill(empty, "orthogonal", seed=SEED, gain=2.0,
                        global_shape=(10**9, 10**9), origin=(5, 0))
    assert out is empty
    with pytest.raises(ValueError, match="gain"):
        fastinit.fill(empty, "orthogonal", seed=SEED, gain=-1.0,
                      global_shape=(10**9, 10**9), origin=(5, 0))
