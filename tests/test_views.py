"""Any view is filled with the values of its logical positions (docs/stream.md, "Regions"),
writing nothing outside its elements, unless two of its elements share memory: then it
is refused, with nothing written. Property-based (hypothesis, a fixed number of
derandomized examples, so CI runs the same cases every time) next to the cases by hand.

The reference for overlap is independent of fastinit and of NumPy's np.shares_memory:
the sorted byte offsets of every element, each item `itemsize` bytes long."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

import fastinit
from fastinit import _fill

FUZZ = settings(max_examples=200, derandomize=True, deadline=None, database=None)
SENTINEL = 0xA5  # every byte of a buffer before a fill
# name: (NumPy dtype of the buffer, itemsize)
DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
          "bfloat16": np.uint16}  # bfloat16 as raw bits, through _fill.fill_as
SCHEMES = [("uniform", {}), ("normal", {"std": 0.5}), ("truncated_normal", {}),
           ("glorot_uniform", {}), ("constant", {"value": 0.25}), ("orthogonal", {})]


def fill(view, dtype, scheme, params, global_shape=None, origin=None, seed=3, stream=5):
    """fastinit.fill, or _fill.fill_as for bfloat16 (raw uint16 bits)."""
    if dtype == "bfloat16":
        return _fill.fill_as(view, "bfloat16", scheme, params, seed, stream, 2, global_shape,
                             origin)
    return fastinit.fill(view, scheme, seed=seed, stream=stream, threads=2,
                         global_shape=global_shape, origin=origin, **params)


def whole(shape, dtype, scheme, params):
    """The values (as bytes of a C-ordered array) of a tensor of `shape` filled whole."""
    return fill(np.empty(shape, DTYPES[dtype]), dtype, scheme, params)


def bits(a):
    """a's elements, in logical order, as bytes (so that -0.0 differs from 0.0)."""
    return np.array(a, order="C").reshape(-1).view(np.uint8)


def element_offsets(shape, strides):
    """Every element's byte offset from element (0, ..., 0), in row-major order."""
    offsets = np.zeros(shape, np.int64)
    for k, (n, s) in enumerate(zip(shape, strides)):
        offsets += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - k - 1))
    return offsets.reshape(-1)


def overlaps(shape, strides, itemsize):
    """Whether two elements share a byte (the reference: no cleverness at all)."""
    offsets = np.sort(element_offsets(shape, strides))
    return bool(np.any(np.diff(offsets) < itemsize))


def strided(shape, strides, dtype):
    """(buffer, view): a view of a fresh buffer of SENTINEL bytes with these strides, its
    element 0 placed so that every element lies inside the buffer."""
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    offsets = element_offsets(shape, strides)
    low, high = (offsets.min(), offsets.max()) if offsets.size else (0, 0)
    buffer = np.full(high - low + itemsize + 16, SENTINEL, np.uint8)
    start = buffer[8 - low:].view(np.uint8)
    base = start[:itemsize].view(DTYPES[dtype])
    return buffer, as_strided(base, shape, strides, writeable=True)


def written_bytes(buffer, view):
    """A mask of the bytes of `buffer` that `view`'s elements cover."""
    mask = np.zeros(buffer.size, bool)
    first = view.__array_interface__["data"][0] - buffer.__array_interface__["data"][0]
    for offset in element_offsets(view.shape, view.strides):
        mask[first + offset: first + offset + view.itemsize] = True
    return mask


# ---- overlapping views are refused --------------------------------------------------------

@pytest.mark.parametrize("scheme, params", SCHEMES)
@pytest.mark.parametrize("shape, strides", [((4, 3), (0, 4)), ((3, 4), (4, 0)),
                                            ((2, 3), (4, 4)), ((3, 3), (8, 4)),
                                            ((5,), (2,)), ((2, 2, 2), (16, 0, 4))])
def test_views_whose_elements_share_memory_are_refused(scheme, params, shape, strides):
    if scheme == "orthogonal" and len(shape) < 2:
        scheme, params = "uniform", {}
    buffer, view = strided(shape, strides, "float32")
    with pytest.raises(ValueError, match="share memory.*contiguous"):
        fill(view, "float32", scheme, params)
    assert (buffer == SENTINEL).all()


def test_a_zero_stride_is_named_in_the_message():
    _, view = strided((1 << 20, 16), (0, 4), "float32")
    with pytest.raises(ValueError, match=r"dimension 0 has stride 0.*np\.broadcast_to, "
                                         r"torch's expand\(\)"):
        fastinit.fill(view, "glorot_uniform", seed=0)


def test_a_refused_view_uses_no_fresh_stream():
    gen = fastinit.Generator(9)
    for scheme in ("he_normal", "zeros"):
        with pytest.raises(ValueError, match="share memory"):
            gen.fill(strided((4, 3), (0, 4), "float32")[1], scheme)
    np.testing.assert_array_equal(gen.fill(np.empty((4, 3), np.float32), "he_normal"),
                                  fastinit.fill(np.empty((4, 3), np.float32), "he_normal",
                                                seed=9, stream=0))


# ---- views that do not overlap are filled ---------------------------------------------------

@pytest.mark.parametrize("shape, strides", [
    ((2, 3), (12, 8)),           # interleaved: offsets 0, 8, 16 and 12, 20, 28
    ((3, 2), (4, 24)),           # a transposed (2, 3)... spaced out
    ((4, 1, 3), (12, 0, 4)),     # a dimension of one element: its stride does not matter
    ((4, 1, 3), (12, -999, 4)),
    ((0, 3), (0, 0)), ((3, 0, 2), (0, 4, 0)),  # no elements: nothing to share
    ((2, 2), (5, 10)),           # unaligned elements that do not meet: 0, 5, 10, 15
    ((2, 3, 2), (12, 8, 40)),    # interleaved, under a third dimension
])
def test_views_whose_elements_do_not_share_memory_are_filled(shape, strides):
    itemsize = 4
    if overlaps(shape, strides, itemsize):
        pytest.fail(f"case {shape} {strides} overlaps: not a case for this test")
    buffer, view = strided(shape, strides, "float32")
    fastinit.fill(view, "he_normal", seed=2)
    np.testing.assert_array_equal(view, fastinit.fill(np.empty(shape, np.float32),
                                                      "he_normal", seed=2))
    assert (buffer[~written_bytes(buffer, view)] == SENTINEL).all()


@st.composite
def strided_layouts(draw):
    """Any strides: multiples of the item size (overlapping or not) or any byte count."""
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    ndim = draw(st.sampled_from([0, 1, 2, 2, 3, 3, 4]))
    size = st.sampled_from([0, 1, 2, 2, 3, 3, 4, 4])  # mostly more than one element
    shape = tuple(draw(st.lists(size, min_size=ndim, max_size=ndim)))
    stride = st.one_of(st.integers(-8, 8).map(lambda m: m * itemsize), st.integers(-40, 40))
    strides = tuple(draw(st.lists(stride, min_size=ndim, max_size=ndim)))
    return dtype, shape, strides


@st.composite
def interleaved_layouts(draw):
    """Layouts that interleave without overlapping, which no test by sorted strides
    accepts: a C-ordered array spaced out to every other item, its dimensions permuted
    and signs flipped, and a dimension of 2 whose stride is an odd number of items (its
    second half falls in the gaps of the first)."""
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    inner = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    strides = list(np.cumprod([1] + inner[:0:-1])[::-1] * 2 * itemsize)
    order = draw(st.permutations(range(len(inner))))
    signs = draw(st.lists(st.sampled_from([1, -1]), min_size=len(inner), max_size=len(inner)))
    shape = [inner[k] for k in order]
    strides = [int(strides[k]) * sign for k, sign in zip(order, signs)]
    at = draw(st.integers(0, len(shape)))
    shape.insert(at, 2)
    strides.insert(at, (2 * draw(st.integers(-4, 4)) + 1) * itemsize)
    return dtype, tuple(shape), tuple(strides)


@FUZZ
@given(st.one_of(strided_layouts(), interleaved_layouts()), st.sampled_from(SCHEMES))
def test_any_strided_layout_is_filled_exactly_when_no_elements_overlap(layout, scheme):
    dtype, shape, strides = layout
    name, params = scheme
    if name == "orthogonal" and len(shape) < 2:
        name, params = "uniform", {}
    buffer, view = strided(shape, strides, dtype)
    if overlaps(shape, strides, view.itemsize):
        with pytest.raises(ValueError, match="share memory"):
            fill(view, dtype, name, params)
        assert (buffer == SENTINEL).all(), "a refused fill wrote"
        return
    fill(view, dtype, name, params)
    want = whole(shape, dtype, name, params)
    np.testing.assert_array_equal(bits(view), bits(want))
    assert (buffer[~written_bytes(buffer, view)] == SENTINEL).all(), "wrote outside the view"


@st.composite
def views_of_regions(draw):
    """A view made by slicing (steps of either sign) and transposing a C- or F-ordered
    array, taken as the box at `origin` of a tensor of `global_shape`."""
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    ndim = draw(st.integers(1, 4))
    base_shape = tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim)))
    order = draw(st.sampled_from("CF"))
    index = []
    for n in base_shape:
        start, stop = sorted(draw(st.lists(st.integers(0, n), min_size=2, max_size=2)))
        step = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
        index.append(slice(start, stop, step) if step > 0 else
                     slice(stop - 1 if stop > start else None, start - 1 if start else None, step))
    axes = draw(st.permutations(range(ndim)))
    pad = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    offset = tuple(draw(st.integers(0, p)) for p in pad)
    region = draw(st.booleans())
    return dtype, base_shape, order, tuple(index), tuple(axes), pad, offset, region


@FUZZ
@given(views_of_regions(), st.sampled_from(SCHEMES))
def test_a_view_holds_its_logical_positions_values_and_nothing_else_is_written(case, scheme):
    dtype, base_shape, order, index, axes, pad, offset, region = case
    name, params = scheme
    base = np.empty(base_shape, DTYPES[dtype], order=order)
    base.reshape(-1, order="A").view(np.uint8)[...] = SENTINEL  # in memory order: a view
    view = base[index].transpose(axes)
    if name == "orthogonal" and view.ndim < 2:
        name, params = "uniform", {}
    positions = np.arange(base.size).reshape(base_shape)[index].transpose(axes)
    if region:
        global_shape = tuple(n + p for n, p in zip(view.shape, pad))
        fill(view, dtype, name, params, global_shape, offset)
        box = tuple(slice(o, o + n) for o, n in zip(offset, view.shape))
        want = whole(global_shape, dtype, name, params)[box]
    else:
        fill(view, dtype, name, params)
        want = whole(view.shape, dtype, name, params)
    np.testing.assert_array_equal(bits(view), bits(want))
    outside = np.ones(base_shape, bool)
    outside.reshape(-1)[positions.reshape(-1)] = False
    assert (base[outside].view(np.uint8) == SENTINEL).all(), "wrote outside the view"
