"""fan_in and fan_out from a shape, in both layouts, and calculate_gain.

The frameworks' rules are written out in reference_rules.py (not imported
from the frameworks), as their sources state them.
"""
import math

import pytest

import fastinit
from reference_rules import keras_fans, torch_fans


KERAS_SHAPES = [(784, 256), (256, 10), (3, 64, 128), (3, 3, 64, 128), (5, 5, 3, 32),
                (3, 3, 3, 16, 32), (1, 1, 512, 2048)]
TORCH_SHAPES = [(256, 784), (10, 256), (128, 64, 3), (128, 64, 3, 3), (32, 3, 5, 5),
                (32, 16, 3, 3, 3), (2048, 512, 1, 1)]


@pytest.mark.parametrize("shape", KERAS_SHAPES)
def test_keras_layout_follows_keras(shape):
    assert fastinit.compute_fans(shape) == keras_fans(shape)
    assert fastinit.compute_fans(shape, layout="keras") == keras_fans(shape)


@pytest.mark.parametrize("shape", TORCH_SHAPES)
def test_torch_layout_follows_pytorch(shape):
    assert fastinit.compute_fans(shape, layout="torch") == torch_fans(shape)


@pytest.mark.parametrize("keras_shape, torch_shape", list(zip(KERAS_SHAPES, TORCH_SHAPES)))
def test_the_same_layer_has_the_same_fans_in_both_layouts(keras_shape, torch_shape):
    assert (fastinit.compute_fans(keras_shape, "keras")
            == fastinit.compute_fans(torch_shape, "torch"))


@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_vectors_and_scalars(layout):
    assert fastinit.compute_fans((37,), layout) == (37, 37)
    assert fastinit.compute_fans((), layout) == (1, 1)


def test_layout_names_are_checked():
    with pytest.raises(ValueError, match="'keras'.*'torch'"):
        fastinit.compute_fans((3, 4), layout="tf")


# PyTorch's table of gains (torch.nn.init.calculate_gain), as documented there.
GAINS = [("linear", None, 1.0), ("identity", None, 1.0), ("conv1d", None, 1.0),
         ("conv2d", None, 1.0), ("conv3d", None, 1.0), ("conv_transpose2d", None, 1.0),
         ("sigmoid", None, 1.0), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
         ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
         ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.2 ** 2))),
         ("leaky_relu", 0, math.sqrt(2)), ("selu", None, 0.75), ("relu", 0, math.sqrt(2))]


@pytest.mark.parametrize("nonlinearity, param, gain", GAINS)
def test_calculate_gain(nonlinearity, param, gain):
    assert fastinit.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize("nonlinearity, param", [("swish", None), ("leaky_relu", "0.2"),
                                                 ("leaky_relu", True),
                                                 ("leaky_relu", float("nan"))])
def test_calculate_gain_refuses_what_it_does_not_know(nonlinearity, param):
    with pytest.raises(ValueError):
        fastinit.calculate_gain(nonlinearity, param)
