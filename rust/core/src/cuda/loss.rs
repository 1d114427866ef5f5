//! nll_loss on CUDA tensors (`kernels/loss.cu`). Callers (`ops::loss`) have checked shapes,
//! dtypes and devices and made every tensor contiguous: the input is `[batch, classes, inner]`,
//! the target `[batch * inner]` of int64.
//!
//! Targets outside `[0, classes)` are found on the device: the kernel lowers one int64 flag to
//! the first bad position, which is read at the device's next synchronisation (`.item()`,
//! `.cpu()`, `cuda.synchronize()`; see `pending.rs`), so a bad target raises torch's
//! `IndexError` there, where torch would report a device-side assert, and no loss call waits for
//! the device. [`bad_target_flag`] and [`defer_bad_target_check`] serve cross entropy too.

use super::rowwise::defines;
use super::{device_of, launch_config, ptr, CudaDevice, Source};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::binary::{binary, BinaryOp};
use crate::ops::loss::Reduction;
use crate::ops::reduce::sum;
use crate::tensor::Tensor;
use crate::Scalar;

pub const SOURCE: Source = Source {
    name: "loss",
    text: include_str!("kernels/loss.cu"),
};

/// A fresh flag for a kernel that checks targets on `x`'s device: one int64 holding
/// `i64::MAX`, which the kernel lowers to the first bad target's position.
pub(crate) fn bad_target_flag(x: &Tensor) -> Result<Tensor> {
    Tensor::full(&[1], Scalar::Int(i64::MAX), DType::I64, x.device())
}

/// Leaves the check of a launched kernel's `flag` (from [`bad_target_flag`]) against its
/// contiguous int64 `target` to `dev`'s next synchronisation, which raises
/// `Target {t} is out of bounds.` for the first bad target.
pub(crate) fn defer_bad_target_check(
    dev: &CudaDevice,
    flag: Tensor,
    target: &Tensor,
) -> Result<()> {
    let target = target.clone();
    dev.defer_check(flag, move |v| {
        let pos = *v.first()?;
        (pos != i64::MAX).then(|| {
            let value = usize::try_from(pos)
                .map_err(|_| Error::runtime(format!("internal error: bad target position {pos}")))
                .and_then(|i| super::pending::read_i64(&target, i));
            value.map_or_else(|e| e, crate::ops::loss::out_of_bounds)
        })
    })
}

/// The nll_loss forward: `(output, total_weight)`, output of `out_shape` for
/// `Reduction::None`, else 0-d; the total weight (of the non-ignored targets) 0-d, in `x`'s
/// dtype. `acc` is the dtype sums are carried in.
#[allow(clippy::too_many_arguments)]
pub fn nll_loss(
    x: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    (batch, classes, inner): (usize, usize, usize),
    reduction: Reduction,
    ignore_index: i64,
    out_shape: &[usize],
    acc: DType,
) -> Result<(Tensor, Tensor)> {
    let dev = device_of(x)?;
    let dt = x.dtype();
    let n_el = batch * inner;
    let none = reduction == Reduction::None;
    let out = none
        .then(|| Tensor::empty(out_shape, dt, x.device()))
        .transpose()?;
    let terms = (!none)
        .then(|| -> Result<(Tensor, Tensor)> {
            Ok((
                Tensor::empty(&[n_el], acc, x.device())?,
                Tensor::empty(&[n_el], acc, x.device())?,
            ))
        })
        .transpose()?;
    if n_el > 0 {
        let (xp, tp, wp) = (ptr(x), ptr(target), weight.map(ptr).unwrap_or(0));
        let op = out.as_ref().map(ptr).unwrap_or(0);
        let (lp, sp) = terms
            .as_ref()
            .map(|(l, w)| (ptr(l), ptr(w)))
            .unwrap_or((0, 0));
        let bad = bad_target_flag(x)?;
        let bp = ptr(&bad);
        let (n64, c64, i64_) = (n_el as i64, classes as i64, inner as i64);
        let f = dev.kernel(&SOURCE, &defines(dt), "nll_loss_terms_k")?;
        crate::cuda_launch!(dev, f, "nll_loss_terms_k", launch_config(dev, n_el);
            xp, tp, wp, n64, c64, i64_, ignore_index, op, lp, sp, bp)?;
        defer_bad_target_check(dev, bad, target)?;
    }
    if let Some(out) = out {
        return Ok((out, Tensor::zeros(&[], dt, x.device())?));
    }
    let (l, w) = terms.ok_or_else(|| Error::runtime("nll_loss: internal error: no loss terms"))?;
    let total = sum(&l, None, false, None)?;
    let tw = sum(&w, None, false, None)?;
    let out = match reduction {
        Reduction::Mean => binary(BinaryOp::Div, &total, &tw)?,
        _ => total,
    };
    Ok((out.to_dtype(dt)?, tw.to_dtype(dt)?))
}

/// The nll_loss backward: `grad_input` of `in_shape` (zeros except at the targets' classes).
/// `g` holds one value per target element for `Reduction::None`, else one value;
/// `total_weight` is given for `Reduction::Mean`. All of `x`'s dtype `dt`.
#[allow(clippy::too_many_arguments)]
pub fn nll_loss_backward(
    g: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    total_weight: Option<&Tensor>,
    (batch, classes, inner): (usize, usize, usize),
    ignore_index: i64,
    in_shape: &[usize],
    per_element: bool,
) -> Result<Tensor> {
    let dev = device_of(target)?;
    let dt = g.dtype();
    let gi = Tensor::zeros(in_shape, dt, target.device())?;
    let n_el = batch * inner;
    if n_el == 0 || classes == 0 {
        return Ok(gi);
    }
    let (gp, tp) = (ptr(g), ptr(target));
    let (wp, twp) = (
        weight.map(ptr).unwrap_or(0),
        total_weight.map(ptr).unwrap_or(0),
    );
    let gip = ptr(&gi);
    let per = per_element as i32;
    let (n64, c64, i64_) = (n_el as i64, classes as i64, inner as i64);
    let f = dev.kernel(&SOURCE, &defines(dt), "nll_loss_backward_k")?;
    crate::cuda_launch!(dev, f, "nll_loss_backward_k", launch_config(dev, n_el);
        gp, per, twp, tp, wp, gip, n64, c64, i64_, ignore_index)?;
    Ok(gi)
}
