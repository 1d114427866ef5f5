//! nll_loss forward and backward (torch's `nll_loss_forward` / `nll_loss_backward`, also the
//! 2-d and K-dimensional forms): one pass over the targets on every device, instead of a
//! gather, a where and an index_select. `cross_entropy` over class indices is this after the
//! fused `log_softmax`.
//!
//! The input `(N, C)`, `(C)` or `(N, C, d1, ...)` is seen as `[batch, classes, inner]`, the
//! target `(N)`, `()` or `(N, d1, ...)` as `[batch * inner]`.

use crate::cpu::loss::{first_out_of_bounds, nll_backward, nll_forward, NllDims};
use crate::dtype::{scalar_type_name, DType};
use crate::error::{Error, Result};
use crate::ops::check_same_device;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// How a loss over many elements is reduced (torch's `reduction=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    None,
    Mean,
    Sum,
}

impl Reduction {
    /// `"none"`, `"mean"` or `"sum"`.
    pub fn parse(s: &str) -> Result<Reduction> {
        match s {
            "none" => Ok(Reduction::None),
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            _ => Err(Error::value(format!(
                "{s} is not a valid value for reduction"
            ))),
        }
    }
}

/// torch's error for a class index outside `[0, classes)`.
pub(crate) fn out_of_bounds(t: i64) -> Error {
    Error::index(format!("Target {t} is out of bounds."))
}

/// Checks nll_loss's arguments with torch's messages; returns the geometry.
fn check(input: &Tensor, target: &Tensor, weight: Option<&Tensor>) -> Result<NllDims> {
    let (nd, ts, xs) = (input.ndim(), target.shape(), input.shape());
    if nd < 1 {
        bail!(Value, "Expected 1 or more dimensions (got {nd})");
    }
    let classes = if nd == 1 { xs[0] } else { xs[1] };
    if nd == 1 {
        if target.numel() != 1 || target.ndim() > 1 {
            bail!(Runtime, "size mismatch (got input: {xs:?}, target: {ts:?})");
        }
    } else {
        let expected: Vec<usize> = [xs[0]].into_iter().chain(xs[2..].iter().copied()).collect();
        if target.ndim() == 0 {
            bail!(Runtime, "Expected target size {expected:?}, got []");
        }
        if ts[0] != xs[0] {
            bail!(
                Value,
                "Expected input batch_size ({}) to match target batch_size ({}).",
                xs[0],
                ts[0]
            );
        }
        if nd == 2 && target.ndim() != 1 {
            bail!(
                Runtime,
                "0D or 1D target tensor expected, multi-target not supported"
            );
        }
        if nd > 2 && ts != expected.as_slice() {
            bail!(Runtime, "Expected target size {expected:?}, got {ts:?}");
        }
    }
    if let Some(w) = weight {
        if w.numel() != classes || (nd <= 2 && w.ndim() != 1) {
            bail!(
                Runtime,
                "weight tensor should be defined either for all {classes} classes or no classes \
                 but got weight tensor of shape: {:?}",
                w.shape()
            );
        }
    }
    if !matches!(target.dtype(), DType::I64 | DType::U8) {
        bail!(
            Runtime,
            "expected scalar type Long but found {}",
            scalar_type_name(target.dtype())
        );
    }
    if !input.dtype().is_floating_point() {
        bail!(
            Runtime,
            "\"nll_loss_out_frame\" not implemented for '{}'",
            scalar_type_name(input.dtype())
        );
    }
    if let Some(w) = weight.filter(|w| w.dtype() != input.dtype()) {
        bail!(
            Runtime,
            "expected scalar type {} but found {}",
            scalar_type_name(input.dtype()),
            scalar_type_name(w.dtype())
        );
    }
    let all: Vec<&Tensor> = [Some(input), Some(target), weight]
        .into_iter()
        .flatten()
        .collect();
    check_same_device("nll_loss", &all)?;
    let batch = if nd == 1 { 1 } else { xs[0] };
    let inner = if nd > 2 { xs[2..].iter().product() } else { 1 };
    Ok((batch, classes, inner))
}

/// The contiguous int64 target and the contiguous weight.
fn prepare(target: &Tensor, weight: Option<&Tensor>) -> Result<(Tensor, Option<Tensor>)> {
    let t = target.to_dtype(DType::I64)?.contiguous()?;
    Ok((t, weight.map(|w| w.contiguous()).transpose()?))
}

/// torch's `nll_loss_forward(input, target, weight, reduction, ignore_index)`:
/// `(output, total_weight)`, the total weight 0 for `Reduction::None` (which does not use it).
/// Each target element `t` contributes `-weight[t] * input[.., t, ..]`
/// (0 where `t == ignore_index`); `Mean` divides the sum by the total weight of the targets that
/// are not ignored (NaN when there are none). A target outside `[0, C)` raises torch's
/// `IndexError`.
pub fn nll_loss(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
    ignore_index: i64,
) -> Result<(Tensor, Tensor)> {
    let dims = check(input, target, weight)?;
    let (tc, wc) = prepare(target, weight)?;
    let xc = input.contiguous()?;
    let dt = input.dtype();
    if xc.is_cuda() {
        let acc = if dt == DType::F64 { dt } else { DType::F32 };
        return crate::cuda::loss::nll_loss(
            &xc,
            &tc,
            wc.as_ref(),
            dims,
            reduction,
            ignore_index,
            target.shape(),
            acc,
        );
    }
    // SAFETY: tc is a contiguous CPU int64 tensor.
    let targets = unsafe { std::slice::from_raw_parts(tc.data_ptr::<i64>(), tc.numel()) };
    if let Some(t) = first_out_of_bounds(targets, dims.1, ignore_index) {
        return Err(out_of_bounds(t));
    }
    let out = (reduction == Reduction::None)
        .then(|| Tensor::empty(target.shape(), dt, input.device()))
        .transpose()?;
    // SAFETY: xc is contiguous with batch * classes * inner elements, out (if any) holds one
    // element per target, every target was checked above; weight has `classes` elements.
    let (total, total_weight) = dispatch_float!(dt, T => unsafe {
        let w = wc.as_ref().map(|w| std::slice::from_raw_parts(w.data_ptr::<T>() as *const T, w.numel()));
        nll_forward::<T>(
            xc.data_ptr::<T>(), targets, w, dims, ignore_index,
            out.as_ref().map(|o| o.data_ptr::<T>()),
        )
    }, _ => (0.0, 0.0));
    if let Some(out) = out {
        return Ok((out, Tensor::zeros(&[], dt, input.device())?));
    }
    let result = if reduction == Reduction::Mean {
        total / total_weight
    } else {
        total
    };
    Ok((
        Tensor::scalar(Scalar::Float(result), dt)?,
        Tensor::scalar(Scalar::Float(total_weight), dt)?,
    ))
}

/// torch's `nll_loss_backward(grad, input, target, weight, reduction, ignore_index,
/// total_weight)`: the gradient for `input`, `-weight[t] * grad` at each target's class
/// (divided by `total_weight` for `Mean`), zero elsewhere.
pub fn nll_loss_backward(
    grad: &Tensor,
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
    ignore_index: i64,
    total_weight: &Tensor,
) -> Result<Tensor> {
    let dims = check(input, target, weight)?;
    check_same_device("nll_loss_backward", &[grad, input, total_weight])?;
    let per_element = reduction == Reduction::None;
    let expected = if per_element { target.numel() } else { 1 };
    if grad.numel() != expected || total_weight.numel() != 1 {
        bail!(
            Runtime,
            "nll_loss_backward: expected a grad_output of {expected} element(s) and a one-element \
             total_weight, got shapes {:?} and {:?}",
            grad.shape(),
            total_weight.shape()
        );
    }
    let (tc, wc) = prepare(target, weight)?;
    let dt = input.dtype();
    let gc = grad.to_dtype(dt)?.contiguous()?;
    let twc = total_weight.to_dtype(dt)?;
    let mean = reduction == Reduction::Mean;
    if input.is_cuda() {
        return crate::cuda::loss::nll_loss_backward(
            &gc,
            &tc,
            wc.as_ref(),
            mean.then_some(&twc),
            dims,
            ignore_index,
            input.shape(),
            per_element,
        );
    }
    // SAFETY: tc is a contiguous CPU int64 tensor.
    let targets = unsafe { std::slice::from_raw_parts(tc.data_ptr::<i64>(), tc.numel()) };
    if let Some(t) = first_out_of_bounds(targets, dims.1, ignore_index) {
        return Err(out_of_bounds(t));
    }
    let gi = Tensor::zeros(input.shape(), dt, input.device())?;
    // SAFETY: gc holds `expected` elements, gi is zeroed with the input's element count, every
    // target was checked above; weight has `classes` elements.
    dispatch_float!(dt, T => unsafe {
        let w = wc.as_ref().map(|w| std::slice::from_raw_parts(w.data_ptr::<T>() as *const T, w.numel()));
        let g = std::slice::from_raw_parts(gc.data_ptr::<T>() as *const T, gc.numel());
        let tw = mean.then(|| *twc.data_ptr::<T>());
        nll_backward::<T>(g, targets, w, tw, dims, ignore_index, gi.data_ptr::<T>())
    }, _ => {});
    Ok(gi)
}
