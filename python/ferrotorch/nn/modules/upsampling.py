"""Upsampling modules: thin owners of :func:`~ferrotorch.nn.functional.interpolate`'s arguments."""

from .. import functional as F
from .module import Module

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    r"""Upsamples 1-D (temporal), 2-D (spatial) or 3-D (volumetric) multi-channel data.

    Args:
        size (int or Tuple[int], optional): output spatial size.
        scale_factor (float or Tuple[float], optional): multiplier for the spatial size.
        mode (str, optional): ``'nearest'`` | ``'linear'`` | ``'bilinear'`` | ``'bicubic'`` |
            ``'trilinear'``. Default: ``'nearest'``
        align_corners (bool, optional): align the centres of the corner pixels (linear and
            cubic modes only). Default: ``False``
        recompute_scale_factor (bool, optional): derive the sampling scale from the output size.

    Shape:
        - Input: :math:`(N, C, W_{in})`, :math:`(N, C, H_{in}, W_{in})` or
          :math:`(N, C, D_{in}, H_{in}, W_{in})`
        - Output: the same with each spatial size :math:`\lfloor \text{in} \times \text{scale\_factor} \rfloor`
          or ``size``.

    Example::

        >>> m = nn.Upsample(scale_factor=2, mode='nearest')
        >>> m(torch.arange(1., 5.).view(1, 1, 2, 2))
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.],
                  [3., 3., 4., 4.],
                  [3., 3., 4., 4.]]]])
    """

    __constants__ = ["size", "scale_factor", "mode", "align_corners", "name", "recompute_scale_factor"]

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def __setstate__(self, state):
        # Modules saved before recompute_scale_factor existed behaved as if it were True.
        if "recompute_scale_factor" not in state:
            state["recompute_scale_factor"] = True
        super().__setstate__(state)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        info += ", mode=" + repr(self.mode)
        return info


class UpsamplingNearest2d(Upsample):
    r"""2-D nearest-neighbour upsampling of ``(N, C, H, W)`` inputs (deprecated in favour of
    :class:`Upsample`).

    Args:
        size (int or Tuple[int, int], optional): output spatial size.
        scale_factor (float or Tuple[float, float], optional): multiplier for the spatial size.
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    r"""2-D bilinear upsampling of ``(N, C, H, W)`` inputs with ``align_corners=True``
    (deprecated in favour of :class:`Upsample`).

    Args:
        size (int or Tuple[int, int], optional): output spatial size.
        scale_factor (float or Tuple[float, float], optional): multiplier for the spatial size.
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
