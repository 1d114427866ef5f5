"""Printing of tensors exactly as torch prints them.

The algorithm is torch's ``_tensor_str``: one ``_Formatter`` looks at every value that will be
printed (the summarised edges of a large tensor) and picks a mode -- integers, integer-valued
floats (``1.``), fixed point with ``precision`` decimals, or scientific notation -- and a common
width; the nested brackets are then laid out with torch's indentation, blank lines between
blocks of 3-D and higher tensors, ``...`` for summarised rows and ``linewidth`` wrapping.

Values are read through a NumPy view of the tensor (no copy, except bfloat16, which NumPy
lacks and is widened to float32), so printing the edges of a huge tensor stays cheap.
"""

import contextlib
import dataclasses
import math
from typing import Any, Dict, Optional

import numpy as np

from . import _C


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: Optional[bool] = None


PRINT_OPTS = _PrinterOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    r"""Set options for printing. Items shamelessly taken from NumPy.

    Args:
        precision: Number of digits of precision for floating point output (default = 4).
        threshold: Total number of array elements which trigger summarization rather than
            full ``repr`` (default = 1000).
        edgeitems: Number of array items in summary at beginning and end of each dimension
            (default = 3).
        linewidth: The number of characters per line for the purpose of inserting line
            breaks (default = 80). Thresholded matrices will ignore this parameter.
        profile: Sane defaults for pretty printing. Can override with any of the above
            options. (any one of ``default``, ``short``, ``full``)
        sci_mode: Enable (True) or disable (False) scientific notation. If None (default) is
            specified, the value is defined by the formatter.
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
        elif profile == "short":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
        elif profile == "full":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> Dict[str, Any]:
    """The current print options as a dict, which ``set_printoptions(**d)`` accepts."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that temporarily changes the print options."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def _extreme_values(vals):
    """The values whose formatted width is largest: for fixed, integer and scientific
    formats alike the width grows with the magnitude (or the exponent's magnitude) and a
    sign adds one, so the extremes of each sign suffice."""
    out = []
    for part in (vals[vals > 0], vals[vals < 0]):
        if part.size:
            out += [float(part.min()), float(part.max())]
    return out


class _Formatter:
    """Picks torch's number format and common width for a set of values."""

    def __init__(self, values, floating):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            if flat.size:
                if flat.dtype == np.bool_:
                    candidates = [str(bool(v)) for v in np.unique(flat)]
                else:
                    candidates = [str(int(flat.min())), str(int(flat.max()))]
                self.max_width = max(self.max_width, *(len(s) for s in candidates))
        else:
            vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if vals.size == 0:
                # No finite nonzero value: torch keeps integer mode and ignores sci_mode.
                return
            absv = np.abs(vals)
            vmin, vmax = float(absv.min()), float(absv.max())
            p = PRINT_OPTS.precision
            extremes = _extreme_values(vals)
            self.int_mode = bool(np.all(vals == np.ceil(vals)))
            if self.int_mode:
                if vmax / vmin > 1000.0 or vmax > 1.0e8:
                    self.sci_mode = True
                    widths = [len(f"{v:.{p}e}") for v in extremes]
                else:
                    # The trailing "." that marks an integer-valued float takes one column.
                    widths = [len(f"{v:.0f}") + 1 for v in extremes]
            elif vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4:
                self.sci_mode = True
                widths = [len(f"{v:.{p}e}") for v in extremes]
            else:
                widths = [len(f"{v:.{p}f}") for v in extremes]
            self.max_width = max(self.max_width, *widths)
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def width(self):
        return self.max_width

    def format(self, value):
        p = PRINT_OPTS.precision
        if self.floating_dtype:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a):
    """The values a summarised print shows: ``edgeitems`` from each end of every dim."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return a[(slice(0, 0),) * a.ndim]
    if a.shape[0] > 2 * e:
        rows = [a[i] for i in range(e)] + [a[i] for i in range(len(a) - e, len(a))]
    else:
        rows = list(a)
    return np.stack([_summarized(r) for r in rows])


def _vector_str(a, indent, summarize, formatter):
    # Each element takes its width plus ", ".
    element_length = formatter.width() + 2
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = (
            [formatter.format(v) for v in a[:e].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in a[-e:].tolist()]
        )
    else:
        data = [formatter.format(v) for v in a.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a, indent, summarize, formatter):
    dim = a.ndim
    if dim == 0:
        return formatter.format(a.item())
    if dim == 1:
        return _vector_str(a, indent, summarize, formatter)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = (
            [_tensor_str_with_formatter(a[i], indent + 1, summarize, formatter) for i in range(e)]
            + ["..."]
            + [
                _tensor_str_with_formatter(a[i], indent + 1, summarize, formatter)
                for i in range(len(a) - e, len(a))
            ]
        )
    else:
        slices = [_tensor_str_with_formatter(a[i], indent + 1, summarize, formatter) for i in range(a.shape[0])]
    # Blocks of a k-D tensor are separated by k-2 blank lines.
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _values(t):
    """A NumPy array with the tensor's values (a view; bfloat16 is widened to float32)."""
    return t.numpy(force=True)


def _tensor_str(t, indent):
    if t.numel() == 0:
        return "[]"
    summarize = t.numel() > PRINT_OPTS.threshold
    a = _values(t)
    formatter = _Formatter(_summarized(a) if summarize else a, t.dtype.is_floating_point)
    return _tensor_str_with_formatter(a, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline):
    tensor_strs = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


def _str(inp, *, tensor_contents=None):
    """``repr(tensor)``: ``tensor([...])`` plus device/size/dtype/grad suffixes as torch."""
    cls = type(inp)
    plain = cls is _C.Tensor or cls.__name__ == "Parameter"
    prefix = "tensor(" if plain else f"{cls.__name__}("
    indent = len(prefix)
    suffixes = []
    if inp.device.type != "cpu":
        suffixes.append("device='" + str(inp.device) + "'")
    default = _C._get_default_dtype()
    if inp.numel() == 0:
        # Show the shape unless it is (0,); the dtype cannot be guessed from no values.
        if inp.dim() != 1:
            suffixes.append("size=" + str(tuple(inp.shape)))
        if inp.dtype != default:
            suffixes.append("dtype=" + str(inp.dtype))
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(inp.shape)))
        if inp.dtype not in (default, _C.int64, _C.bool):
            suffixes.append("dtype=" + str(inp.dtype))
        tensor_str = _tensor_str(inp, indent) if tensor_contents is None else None
    if tensor_contents is not None:
        tensor_str = tensor_contents
    grad_fn = getattr(inp, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name()}>")
    elif getattr(inp, "requires_grad", False):
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)


def _repr(self, *, tensor_contents=None):
    return _str(self, tensor_contents=tensor_contents)


_C.Tensor.__repr__ = _repr
