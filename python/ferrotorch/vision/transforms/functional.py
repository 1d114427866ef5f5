"""Functional transforms, as ``torchvision.transforms.functional``.

Tensors are images of shape ``(..., H, W)`` (usually ``(C, H, W)``); PIL images are handled
where PIL does the work directly, else through NumPy.
"""

import enum
import numbers

import numpy as np

from ... import Tensor, as_tensor, float32, from_numpy, uint8
from ...nn import functional as _F

try:
    from PIL import Image as _Image
except ImportError:  # pragma: no cover - depends on the environment
    _Image = None


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _is_pil_image(img):
    return _Image is not None and isinstance(img, _Image.Image)


def _check_image(img, name):
    if not (isinstance(img, Tensor) or _is_pil_image(img)):
        raise TypeError(f"{name}: img should be a Tensor or PIL Image. Got {type(img)}")


def get_dimensions(img):
    """``[channels, height, width]`` of a tensor or PIL image."""
    if _is_pil_image(img):
        return [len(img.getbands()), img.height, img.width]
    _check_image(img, "get_dimensions")
    if img.dim() < 2:
        raise TypeError(f"Tensor is not a torch image: {img.dim()} dims")
    return [img.shape[-3] if img.dim() > 2 else 1, img.shape[-2], img.shape[-1]]


def to_tensor(pic):
    """PIL image or ``(H, W[, C])`` array/tensor -> ``(C, H, W)`` tensor; uint8 is scaled to
    float32 in ``[0, 1]``, other dtypes keep their values (as torchvision).

    A tensor is taken as ``(H, W)`` or ``(H, W, C)`` like an array, so the uint8 ``(28, 28)``
    items that MNIST yields without PIL go through ``ToTensor`` as PIL images would.
    """
    if _is_pil_image(pic):
        arr = np.array(pic, copy=True)
        if pic.mode == "1":
            arr = arr.astype(np.uint8) * 255
    elif isinstance(pic, np.ndarray):
        arr = pic
    elif isinstance(pic, Tensor):
        arr = pic.detach().cpu().numpy()
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if arr.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        # Divide in float32 like torchvision's img.float().div(255): same rounding.
        return from_numpy(chw.astype(np.float32) / np.float32(255))
    return from_numpy(chw)


def pil_to_tensor(pic):
    """PIL image -> uint8 ``(C, H, W)`` tensor, values unchanged."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def normalize(tensor, mean, std, inplace=False):
    """``(tensor - mean) / std`` per channel of a float ``(..., C, H, W)`` tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.dim() < 3:
        raise ValueError(
            f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tuple(tensor.shape)}"
        )
    if not inplace:
        tensor = tensor.clone()
    mean = as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std = as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if bool((std == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean.dim() == 1:
        mean = mean.reshape(-1, 1, 1)
    if std.dim() == 1:
        std = std.reshape(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def hflip(img):
    """Flips left-right."""
    if _is_pil_image(img):
        return img.transpose(_Image.FLIP_LEFT_RIGHT)
    _check_image(img, "hflip")
    return img.flip(-1)


def vflip(img):
    """Flips top-bottom."""
    if _is_pil_image(img):
        return img.transpose(_Image.FLIP_TOP_BOTTOM)
    _check_image(img, "vflip")
    return img.flip(-2)


def _parse_padding(padding):
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        padding = [padding]
    if not isinstance(padding, (list, tuple)) or len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not {padding}")
    if not all(isinstance(p, numbers.Integral) for p in padding):
        raise TypeError("Got inappropriate padding arg")
    p = [int(x) for x in padding]
    if len(p) == 1:
        return p[0], p[0], p[0], p[0]
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    return tuple(p)


# torchvision's padding_mode -> numpy.pad's mode; every non-constant mode is an index gather.
_NP_MODES = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads the last two dims. ``padding`` is an int (all sides), ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``padding_mode`` is ``constant`` (with ``fill``), ``edge``,
    ``reflect`` (mirror without the edge pixel) or ``symmetric`` (mirror with it).
    A negative amount crops (tensors)."""
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_padding(padding)
    if _is_pil_image(img):
        arr = np.asarray(img)
        widths = [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))] + [(0, 0)] * (arr.ndim - 2)
        if padding_mode == "constant":
            out = np.pad(arr, widths, mode="constant", constant_values=fill)
        else:
            out = np.pad(arr, widths, mode=_NP_MODES[padding_mode])
        return _Image.fromarray(out)
    _check_image(img, "pad")
    if padding_mode == "constant":
        return _F.pad(img, [left, right, top, bottom], value=fill)
    # Crop the negative sides first, so only non-negative amounts reach the gather.
    h, w = img.shape[-2], img.shape[-1]
    img = img[..., max(-top, 0): h - max(-bottom, 0), max(-left, 0): w - max(-right, 0)]
    h, w = img.shape[-2], img.shape[-1]
    mode = _NP_MODES[padding_mode]
    if mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(f"Padding size should be less than the corresponding input dimension, got {padding} for {h}x{w}")
    rows = np.pad(np.arange(h), (max(top, 0), max(bottom, 0)), mode=mode)
    cols = np.pad(np.arange(w), (max(left, 0), max(right, 0)), mode=mode)
    rows = from_numpy(rows.astype(np.int64)).to(img.device)
    cols = from_numpy(cols.astype(np.int64)).to(img.device)
    return img[..., rows.reshape(-1, 1), cols]


def crop(img, top, left, height, width):
    """The ``height x width`` region whose top-left corner is ``(top, left)``; parts outside
    the image are zero (as torchvision)."""
    if _is_pil_image(img):
        return img.crop((left, top, left + width, top + height))
    _check_image(img, "crop")
    h, w = img.shape[-2], img.shape[-1]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        img = img[..., max(top, 0): min(bottom, h), max(left, 0): min(right, w)]
        return _F.pad(img, [max(-left, 0), max(right - w, 0), max(-top, 0), max(bottom - h, 0)], value=0)
    return img[..., top:bottom, left:right]


def _setup_size(size, name="size"):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")
    return int(size[0]), int(size[1])


def center_crop(img, output_size):
    """Crops the centre ``output_size`` region, zero-padding first where it is larger."""
    crop_h, crop_w = _setup_size(output_size, "output_size")
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        padding = [
            (crop_w - w) // 2 if crop_w > w else 0,
            (crop_h - h) // 2 if crop_h > h else 0,
            (crop_w - w + 1) // 2 if crop_w > w else 0,
            (crop_h - h + 1) // 2 if crop_h > h else 0,
        ]
        img = pad(img, padding, fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def _output_size(h, w, size, max_size):
    """torchvision's rule: an int (or 1-sequence) sets the smaller edge and keeps the ratio."""
    if isinstance(size, (list, tuple)) and len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge")
        return int(size[0]), int(size[1])
    requested = int(size[0] if isinstance(size, (list, tuple)) else size)
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size = {requested}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


_PIL_RESAMPLE = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3}


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resizes to ``size``: ``(h, w)``, or an int for the smaller edge (keeping the aspect ratio).

    Tensors go through ``nn.functional.interpolate`` (``align_corners=False``) without
    antialiasing, the only mode it has; so a large downscale of a tensor aliases where
    torchvision's default ``antialias=True`` would smooth. PIL images use PIL's own filters.
    """
    mode = InterpolationMode(interpolation).value
    _, h, w = get_dimensions(img)
    out_h, out_w = _output_size(h, w, size, max_size)
    if _is_pil_image(img):
        return img.resize((out_w, out_h), _PIL_RESAMPLE[mode])
    _check_image(img, "resize")
    if (out_h, out_w) == (h, w):
        return img
    shape = tuple(img.shape)
    x = img.reshape(1, -1, h, w)
    is_int = not x.is_floating_point()
    if is_int:
        x = x.to(float32)
    kwargs = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    y = _F.interpolate(x, size=(out_h, out_w), mode=mode, antialias=False, **kwargs)
    if is_int:
        # As torchvision: round back to the integer dtype, clamped to its range for uint8.
        y = y.round()
        if img.dtype == uint8:
            y = y.clamp(0, 255)
        y = y.to(img.dtype)
    return y.reshape(*shape[:-2], out_h, out_w)


__all__ = [
    "InterpolationMode", "get_dimensions", "to_tensor", "pil_to_tensor", "normalize", "hflip", "vflip",
    "pad", "crop", "center_crop", "resize",
]
