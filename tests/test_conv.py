"""im2col/col2im, Conv2D and MaxPool2D against naive loops and numerical gradients."""
import numpy as np
import pytest

from mlcourse.conv import Conv2D, MaxPool2D, col2im, conv_output_size, im2col
from mlcourse.gradcheck import check_layer

TOL = 1e-6


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def naive_conv(x, W, b, stride, padding):
    """Direct loops: the definition of a (cross-correlation) convolution."""
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def naive_maxpool(x, size, stride):
    n, c, h, w = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
    return out


CONFIGS = [  # (kernel, stride, padding, input H, W)
    (3, 1, 0, 6, 6), (3, 1, 1, 5, 7), (3, 2, 1, 7, 6), ((2, 3), 2, 2, 5, 6), (1, 1, 0, 4, 4), (5, 3, 2, 9, 8),
]


@pytest.mark.parametrize("k,stride,padding,h,w", CONFIGS)
def test_im2col_rows_are_receptive_fields(k, stride, padding, h, w):
    kh, kw = (k, k) if isinstance(k, int) else k
    x = randn(2, 3, h, w)
    cols = im2col(x, kh, kw, stride, padding)
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    assert cols.shape == (2 * oh * ow, 3 * kh * kw)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, i, j = 1, oh - 1, ow // 2  # some row: image 1, position (i, j)
    row = cols[n * oh * ow + i * ow + j]
    np.testing.assert_array_equal(row, xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw].ravel())


@pytest.mark.parametrize("k,stride,padding,h,w", CONFIGS)
def test_col2im_is_adjoint_of_im2col(k, stride, padding, h, w):
    # <im2col(x), c> == <x, col2im(c)> for all x, c: col2im is exactly im2col's backward.
    kh, kw = (k, k) if isinstance(k, int) else k
    x = randn(2, 3, h, w)
    cols = im2col(x, kh, kw, stride, padding)
    c = randn(*cols.shape, seed=1)
    back = col2im(c, x.shape, kh, kw, stride, padding)
    assert back.shape == x.shape
    assert np.sum(cols * c) == pytest.approx(np.sum(x * back), rel=1e-12)


@pytest.mark.parametrize("k,stride,padding,h,w", CONFIGS)
def test_conv_forward_matches_naive(k, stride, padding, h, w):
    conv = Conv2D(3, 4, k, stride=stride, padding=padding, rng=0)
    conv.params["b"][:] = randn(4, seed=3)
    x = randn(2, 3, h, w)
    expected = naive_conv(x, conv.params["W"], conv.params["b"], stride, padding)
    np.testing.assert_allclose(conv(x), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k,stride,padding,h,w", CONFIGS)
def test_conv_gradcheck(k, stride, padding, h, w):
    errs = check_layer(Conv2D(2, 3, k, stride=stride, padding=padding, rng=1), randn(2, 2, h, w, seed=4))
    assert set(errs) == {"x", "W", "b"}
    assert max(errs.values()) <= TOL, errs


def test_conv_shapes_and_param_shapes():
    conv = Conv2D(3, 8, 5, stride=2, padding=2, rng=0)
    assert conv.params["W"].shape == (8, 3, 5, 5) and conv.params["b"].shape == (8,)
    assert conv(randn(4, 3, 28, 28)).shape == (4, 8, 14, 14)
    assert "Conv2D(3→8, 5×5" in repr(conv)


@pytest.mark.parametrize("size,stride,h,w", [(2, None, 6, 6), (2, None, 7, 5), (3, 2, 7, 7), (3, 1, 5, 6), (2, 3, 8, 8)])
def test_maxpool_matches_naive_and_gradcheck(size, stride, h, w):
    pool = MaxPool2D(size, stride)
    x = randn(2, 3, h, w, seed=5)
    np.testing.assert_array_equal(pool(x), naive_maxpool(x, size, stride or size))
    assert check_layer(pool, x)["x"] <= TOL


def test_maxpool_stride_defaults_to_size():
    assert MaxPool2D(3).stride == 3
    assert MaxPool2D(2)(randn(1, 1, 8, 8)).shape == (1, 1, 4, 4)


def test_maxpool_gradient_goes_to_first_max_only():
    # A window of ties (e.g. all zeros after ReLU) passes its gradient to one position, once.
    x = np.zeros((1, 1, 2, 2))
    pool = MaxPool2D(2)
    pool(x)
    dx = pool.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(dx, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_cnn_stack_gradcheck():
    from mlcourse import nn
    model = nn.Sequential([Conv2D(1, 2, 3, padding=1, rng=0), "relu", MaxPool2D(2), nn.Flatten(),
                           nn.Dense(2 * 3 * 3, 3, rng=1)])
    errs = check_layer(model, randn(2, 1, 6, 6, seed=6))
    assert max(errs.values()) <= TOL, errs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_pool_dtype_end_to_end(dtype):
    conv, pool = Conv2D(2, 4, 3, padding=1, rng=0, dtype=dtype), MaxPool2D(2)
    x = randn(2, 2, 6, 6).astype(dtype)
    out = pool(conv(x))
    assert out.dtype == dtype
    dx = conv.backward(pool.backward(np.ones_like(out)))
    assert dx.dtype == dtype and conv.grads["W"].dtype == dtype and conv.grads["b"].dtype == dtype
    assert im2col(x, 3, 3, 1, 1).dtype == dtype


def test_conv_float32_layer_casts_float64_input():
    assert Conv2D(1, 2, 3, rng=0, dtype=np.float32)(randn(1, 1, 5, 5)).dtype == np.float32


def test_conv_bad_input():
    conv = Conv2D(3, 4, 3)
    with pytest.raises(ValueError) as e:
        conv(randn(2, 1, 8, 8))
    assert "Conv2D(3→4" in str(e.value) and "(N, 3, H, W)" in str(e.value) and "(2, 1, 8, 8)" in str(e.value)
    with pytest.raises(ValueError, match="4-D|N, 3, H, W"):
        conv(randn(2, 3, 8))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        conv(randn(2, 3, 2, 2))
    with pytest.raises(ValueError, match="init"):
        Conv2D(1, 1, 3, init="bogus")
    with pytest.raises(ValueError, match="stride"):
        Conv2D(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="MaxPool2D"):
        MaxPool2D(2)(randn(1, 1, 1, 5))


def test_conv_same_seed_same_weights():
    np.testing.assert_array_equal(Conv2D(2, 3, 3, rng=4).params["W"], Conv2D(2, 3, 3, rng=4).params["W"])
