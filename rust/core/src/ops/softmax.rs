//! softmax and log_softmax along one dim, and their backward from the saved output
//! (`_softmax_backward_data`, `_log_softmax_backward_data`): one fused kernel each, on every
//! device, instead of a chain of max / sub / exp / sum / div.
//!
//! The result has the input's dtype (f16/bf16 compute in float); torch's `dtype=` argument is a
//! cast before the op. Outputs are contiguous.

use crate::cpu::rowwise::{self, Lines};
use crate::dtype::scalar_type_name;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::check_same_device;
use crate::ops::index_mask::masked_fill;
use crate::tensor::Tensor;
use crate::Scalar;
use crate::{bail, dispatch_float};

/// `x` made contiguous and seen as `[outer, n, inner]` around `dim` (a 0-d tensor is one
/// line of one element).
pub(crate) fn lines_around(x: &Tensor, dim: i64, op: &str) -> Result<(Tensor, Lines)> {
    let d = wrap_dim(dim, x.ndim(), op)?;
    let xc = x.contiguous()?;
    if x.ndim() == 0 {
        let one = Lines {
            outer: 1,
            n: 1,
            inner: 1,
        };
        return Ok((xc, one));
    }
    let s = x.shape();
    let lines = Lines {
        outer: s[..d].iter().product(),
        n: s[d],
        inner: s[d + 1..].iter().product(),
    };
    Ok((xc, lines))
}

/// Refuses integer and bool inputs with torch's message, which names the kernel that would
/// have run (`softmax_lastdim_kernel_impl` along the last dim, `softmax_kernel_impl` else).
fn check_floating(x: &Tensor, op: &str, lines: Lines) -> Result<()> {
    if !x.dtype().is_floating_point() {
        let last = if lines.inner == 1 { "lastdim_" } else { "" };
        bail!(
            Runtime,
            "\"{op}_{last}kernel_impl\" not implemented for '{}'",
            scalar_type_name(x.dtype())
        );
    }
    Ok(())
}

fn forward(x: &Tensor, dim: i64, log: bool) -> Result<Tensor> {
    let op = if log { "log_softmax" } else { "softmax" };
    let (xc, lines) = lines_around(x, dim, op)?;
    check_floating(x, op, lines)?;
    if xc.is_cuda() {
        return crate::cuda::rowwise::softmax(&xc, (lines.outer, lines.n, lines.inner), log);
    }
    let y = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    // SAFETY: xc and y are contiguous with lines.numel() elements each; y is fresh.
    dispatch_float!(x.dtype(), T => unsafe {
        rowwise::softmax::<T>(xc.data_ptr::<T>(), y.data_ptr::<T>(), lines, log)
    }, _ => {});
    Ok(y)
}

/// `torch.softmax(x, dim)`: `exp(x - max) / sum(exp(x - max))` along `dim`.
pub fn softmax(x: &Tensor, dim: i64) -> Result<Tensor> {
    forward(x, dim, false)
}

/// `softmax` over the last dim of `x` (`..., L, S`) under SDPA's causal mask: row `i` of each
/// `L x S` matrix sees columns `0..=i` (top-left aligned) and the others come out 0. Its
/// gradient is softmax's, whose rule gives those zeros a zero gradient.
pub fn causal_softmax(x: &Tensor) -> Result<Tensor> {
    if x.ndim() < 2 {
        bail!(
            Runtime,
            "causal softmax: expected an input of at least 2 dims (..., L, S), got {:?}",
            x.shape()
        );
    }
    let (l, s) = (x.shape()[x.ndim() - 2], x.shape()[x.ndim() - 1]);
    let (xc, lines) = lines_around(x, -1, "softmax")?;
    check_floating(x, "softmax", lines)?;
    if xc.is_cuda() {
        return crate::cuda::rowwise::causal_softmax(&xc, lines.outer, lines.n, l);
    }
    let ones = Tensor::full(&[l, s], Scalar::Bool(true), DType::Bool, x.device())?;
    let hidden = crate::ops::shape_copy::triu(&ones, 1)?;
    let masked = masked_fill(&xc, &hidden, Scalar::Float(f64::NEG_INFINITY))?;
    forward(&masked, -1, false)
}

/// The gradient of [`causal_softmax`] at its output `out`: softmax's, which on CUDA reads only
/// the visible part of each row (the hidden outputs are 0, and so is their gradient).
pub fn causal_softmax_backward(grad: &Tensor, out: &Tensor) -> Result<Tensor> {
    if !out.is_cuda() || grad.shape() != out.shape() || out.ndim() < 2 {
        return backward(grad, out, -1, false);
    }
    let l = out.shape()[out.ndim() - 2];
    let (yc, lines) = lines_around(out, -1, "_softmax_backward_data")?;
    check_same_device("_softmax_backward_data", &[grad, out])?;
    check_floating(out, "softmax_backward", lines)?;
    let gc = grad.to_dtype(out.dtype())?.contiguous()?;
    crate::cuda::rowwise::causal_softmax_backward(&gc, &yc, lines.outer, lines.n, l)
}

/// `torch.log_softmax(x, dim)`: `(x - max) - log(sum(exp(x - max)))` along `dim`.
pub fn log_softmax(x: &Tensor, dim: i64) -> Result<Tensor> {
    forward(x, dim, true)
}

fn backward(grad: &Tensor, out: &Tensor, dim: i64, log: bool) -> Result<Tensor> {
    let op = if log {
        "_log_softmax_backward_data"
    } else {
        "_softmax_backward_data"
    };
    check_same_device(op, &[grad, out])?;
    if grad.shape() != out.shape() {
        bail!(
            Runtime,
            "{op}: grad_output of shape {:?} does not match output of shape {:?}",
            grad.shape(),
            out.shape()
        );
    }
    let (yc, lines) = lines_around(out, dim, op)?;
    check_floating(
        out,
        if log {
            "log_softmax_backward"
        } else {
            "softmax_backward"
        },
        lines,
    )?;
    let gc = grad.to_dtype(out.dtype())?.contiguous()?;
    if yc.is_cuda() {
        let dims = (lines.outer, lines.n, lines.inner);
        return crate::cuda::rowwise::softmax_backward(&gc, &yc, dims, log);
    }
    let dx = Tensor::empty(out.shape(), out.dtype(), out.device())?;
    // SAFETY: gc, yc and dx are contiguous with lines.numel() elements each; dx is fresh.
    dispatch_float!(out.dtype(), T => unsafe {
        rowwise::softmax_backward::<T>(
            gc.data_ptr::<T>(), yc.data_ptr::<T>(), dx.data_ptr::<T>(), lines, log,
        )
    }, _ => {});
    Ok(dx)
}

/// torch's `_softmax_backward_data(grad, out, dim)`: the gradient of softmax at its output
/// `out`, `out * (grad - sum(grad * out, dim))`.
pub fn softmax_backward_data(grad: &Tensor, out: &Tensor, dim: i64) -> Result<Tensor> {
    backward(grad, out, dim, false)
}

/// torch's `_log_softmax_backward_data(grad, out, dim)`: the gradient of log_softmax at its
/// output `out`, `grad - exp(out) * sum(grad, dim)`.
pub fn log_softmax_backward_data(grad: &Tensor, out: &Tensor, dim: i64) -> Result<Tensor> {
    backward(grad, out, dim, true)
}
