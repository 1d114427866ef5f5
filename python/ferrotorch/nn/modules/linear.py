"""Identity, Linear, Bilinear and LazyLinear."""

import math

import ferrotorch as torch

from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedParameter
from .module import Module


class Identity(Module):
    r"""Returns its input unchanged; any constructor arguments are ignored (as torch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    r"""``y = x A^T + b``.

    Args:
        in_features: size of each input sample
        out_features: size of each output sample
        bias: if ``False``, the layer learns no additive bias. Default: ``True``

    Shape:
        - Input: ``(*, in_features)``; Output: ``(*, out_features)``.

    Weights ``(out_features, in_features)`` and bias ``(out_features)`` are drawn from
    ``U(-1/sqrt(in_features), 1/sqrt(in_features))``, as torch.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.empty((out_features, in_features), **kw))
        if bias:
            self.bias = Parameter(torch.empty(out_features, **kw))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    r"""``y = x_1^T A x_2 + b``; weight ``(out, in1, in2)``, both drawn from
    ``U(-1/sqrt(in1), 1/sqrt(in1))``."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(torch.empty((out_features, in1_features, in2_features), **kw))
        if bias:
            self.bias = Parameter(torch.empty(out_features, **kw))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class LazyLinear(Linear):
    r"""A ``Linear`` whose ``in_features`` is inferred from the first input; it then becomes a
    plain ``Linear``."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self._factory = {"device": device, "dtype": dtype}
        self.in_features = 0
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.in_features != 0:
            super().reset_parameters()

    def __call__(self, input, *args, **kwargs):
        if isinstance(self.weight, UninitializedParameter):
            self._materialize(input.shape[-1])
        # Not super(): materialising turned this object into a plain Linear.
        return Module.__call__(self, input, *args, **kwargs)

    def _materialize(self, in_features):
        kw = {k: v for k, v in self._factory.items() if v is not None}
        self.in_features = in_features
        with torch.no_grad():
            self.weight = Parameter(torch.empty((self.out_features, in_features), **kw))
            if self.bias is not None:
                self.bias = Parameter(torch.empty(self.out_features, **kw))
        del self._factory
        self.reset_parameters()
        self.__class__ = self.cls_to_become


__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]
