"""Transforms against NumPy references: layout, scaling, exact crop/flip/pad positions, seeding."""

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.vision import transforms as T
from ferrotorch.vision.transforms import functional as F


def chw(c=3, h=5, w=6, seed=0):
    return np.random.default_rng(seed).random((c, h, w), dtype=np.float32)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 3)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_to_tensor_uint8(shape, as_tensor):
    a = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    out = T.ToTensor()(t(a) if as_tensor else a)
    ref = (a.reshape(4, 5, -1).transpose(2, 0, 1).astype(np.float32)) / 255
    assert out.dtype == torch.float32 and tuple(out.shape) == ref.shape
    np.testing.assert_array_equal(out.numpy(), ref)
    assert out.numpy().max() <= 1.0


def test_to_tensor_float_keeps_values_and_rejects_bad_input():
    a = np.random.default_rng(2).random((3, 4, 2)).astype(np.float64)
    out = T.ToTensor()(a)
    assert out.dtype == torch.float64
    np.testing.assert_array_equal(out.numpy(), a.transpose(2, 0, 1))
    with pytest.raises(TypeError):
        T.ToTensor()([1, 2, 3])
    with pytest.raises(ValueError):
        T.ToTensor()(np.zeros((1, 2, 3, 4), dtype=np.uint8))


def test_to_tensor_pil():
    Image = pytest.importorskip("PIL.Image")
    a = np.random.default_rng(3).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    out = T.ToTensor()(Image.fromarray(a, mode="RGB"))
    np.testing.assert_array_equal(out.numpy(), a.transpose(2, 0, 1).astype(np.float32) / 255)


def test_normalize():
    a = chw()
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    x = t(a)
    out = T.Normalize(mean, std)(x)
    ref = (a - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    np.testing.assert_array_equal(x.numpy(), a)  # not in place by default
    y = t(a)
    assert T.Normalize(mean, std, inplace=True)(y) is y
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize([0.5], [0.5])(torch.zeros(1, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize([0.5], [0.0])(torch.zeros(1, 2, 2))
    with pytest.raises(ValueError):
        T.Normalize([0.5], [0.5])(torch.zeros(2, 2))


def test_lambda_and_compose():
    f = T.Compose([T.Lambda(lambda x: x * 2), T.Lambda(lambda x: x + 1)])
    np.testing.assert_array_equal(f(t(np.ones((1, 2, 2), np.float32))).numpy(), np.full((1, 2, 2), 3.0))
    with pytest.raises(TypeError):
        T.Lambda(3)


def test_flips():
    a = chw()
    np.testing.assert_array_equal(F.hflip(t(a)).numpy(), a[..., ::-1])
    np.testing.assert_array_equal(F.vflip(t(a)).numpy(), a[..., ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(t(a)).numpy(), a[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(t(a)).numpy(), a)


@pytest.mark.parametrize("padding", [2, (1, 3), (1, 2, 3, 4), [0, 1, 0, 2]])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_numpy(padding, mode):
    a = chw()
    left, top, right, bottom = F._parse_padding(padding)
    widths = [(0, 0), (top, bottom), (left, right)]
    ref = np.pad(a, widths, mode="constant", constant_values=7) if mode == "constant" else np.pad(a, widths, mode=mode)
    out = T.Pad(padding, fill=7, padding_mode=mode)(t(a))
    np.testing.assert_array_equal(out.numpy(), ref)


def test_pad_uint8_and_errors():
    a = np.arange(12, dtype=np.uint8).reshape(1, 3, 4)
    out = F.pad(t(a), 1, fill=9)
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.numpy(), np.pad(a, [(0, 0), (1, 1), (1, 1)], constant_values=9))
    with pytest.raises(ValueError):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError):
        T.Pad((1, 2, 3))


def test_crop_and_center_crop():
    a = chw(2, 7, 8)
    np.testing.assert_array_equal(F.crop(t(a), 1, 2, 3, 4).numpy(), a[:, 1:4, 2:6])
    # Outside the image reads as zeros, as torchvision.
    out = F.crop(t(a), -1, 6, 3, 4).numpy()
    ref = np.zeros((2, 3, 4), np.float32)
    ref[:, 1:, :2] = a[:, 0:2, 6:8]
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(T.CenterCrop(3)(t(a)).numpy(), a[:, 2:5, 2:5])
    np.testing.assert_array_equal(T.CenterCrop((4, 5)).forward(t(a)).numpy(), a[:, 2:6, 2:7])  # round((7-4)/2)=2
    big = T.CenterCrop((9, 10))(t(a)).numpy()
    np.testing.assert_array_equal(big, np.pad(a, [(0, 0), (1, 1), (1, 1)]))


def test_random_crop_positions_and_seed():
    a = chw(1, 6, 7)
    crop = T.RandomCrop((3, 4))
    torch.manual_seed(123)
    first = [crop(t(a)).numpy() for _ in range(5)]
    torch.manual_seed(123)
    second = [crop(t(a)).numpy() for _ in range(5)]
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    # Every crop is some exact window of the input.
    windows = {(i, j): a[:, i:i + 3, j:j + 4] for i in range(4) for j in range(4)}
    for x in first:
        assert any(np.array_equal(x, w) for w in windows.values())
    # The window matches get_params under the same seed.
    torch.manual_seed(7)
    i, j, h, w = T.RandomCrop.get_params(t(a), (3, 4))
    torch.manual_seed(7)
    np.testing.assert_array_equal(crop(t(a)).numpy(), a[:, i:i + h, j:j + w])


def test_random_crop_padding_and_pad_if_needed():
    a = chw(1, 4, 4)
    torch.manual_seed(0)
    out = T.RandomCrop(8, padding=2, fill=0)(t(a)).numpy()  # pad to 8x8, crop is the whole
    np.testing.assert_array_equal(out, np.pad(a, [(0, 0), (2, 2), (2, 2)]))
    out = T.RandomCrop((5, 6), pad_if_needed=True, fill=1, padding_mode="constant")(t(a)).numpy()
    # torchvision pads (w-diff, 0) = both sides by the shortfall, then crops randomly.
    assert out.shape == (1, 5, 6)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(5)(t(a))
    a2 = chw(1, 4, 4)
    np.testing.assert_array_equal(T.RandomCrop(4)(t(a2)).numpy(), a2)


def test_random_flip_seeded():
    a = chw()
    flip = T.RandomHorizontalFlip()
    torch.manual_seed(5)
    r = [torch.rand(1).item() for _ in range(20)]  # one draw per call, as the transform does
    torch.manual_seed(5)
    for p in r:
        out = flip(t(a)).numpy()
        np.testing.assert_array_equal(out, a[..., ::-1] if p < 0.5 else a)
    assert 0 < sum(p < 0.5 for p in r) < 20  # both branches exercised


def test_resize_shapes():
    a = chw(3, 10, 20)
    assert tuple(T.Resize((4, 6))(t(a)).shape) == (3, 4, 6)
    assert tuple(T.Resize(5)(t(a)).shape) == (3, 5, 10)  # smaller edge, aspect kept
    assert tuple(T.Resize(5)(t(chw(1, 20, 10))).shape) == (1, 10, 5)
    assert tuple(T.Resize([5])(t(a)).shape) == (3, 5, 10)
    assert tuple(T.Resize(5, max_size=8)(t(a)).shape) == (3, 4, 8)
    assert tuple(T.Resize((7, 9))(t(np.zeros((2, 4, 10, 20), np.float32))).shape) == (2, 4, 7, 9)


def test_resize_values():
    const = np.full((2, 5, 7), 0.25, np.float32)
    np.testing.assert_allclose(T.Resize((9, 4))(t(const)).numpy(), np.full((2, 9, 4), 0.25), rtol=1e-6)
    u8 = np.full((1, 5, 7), 200, np.uint8)
    out = T.Resize((3, 11))(t(u8))
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.numpy(), np.full((1, 3, 11), 200))
    # Exact 2x bilinear downscale with align_corners=False averages each 2x2 block.
    a = chw(1, 4, 4)
    ref = a.reshape(1, 2, 2, 2, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(T.Resize((2, 2))(t(a)).numpy(), ref, rtol=1e-5)
    np.testing.assert_array_equal(
        T.Resize((2, 2), interpolation=T.InterpolationMode.NEAREST)(t(a)).numpy(), a[:, ::2, ::2]
    )


def test_pipeline_on_mnist_like_item():
    torch.manual_seed(0)
    pipe = T.Compose([T.ToTensor(), T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), T.Normalize((0.1307,), (0.3081,))])
    img = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8))
    out = pipe(img)
    assert tuple(out.shape) == (1, 28, 28) and out.dtype == torch.float32
    assert "RandomCrop" in repr(pipe)
