//! Layer norm and RMS norm over the trailing `normalized_shape` dims: one fused forward giving
//! `(y, mean, rstd)` and one fused backward giving `dx`, `dweight`, `dbias` (torch's
//! `native_layer_norm` / `native_layer_norm_backward`), on every device.
//!
//! The input is seen as `[rows, n]`: rows the product of the leading dims, n that of
//! `normalized_shape`. The statistics are returned with the leading dims and a 1 for each
//! normalised dim, in float for f16/bf16 inputs (as torch's CUDA kernels keep them).

use crate::cpu::norm::{norm_backward, norm_forward, NormGradPtrs, Rows};
use crate::dtype::scalar_type_name;
use crate::element::Float;
use crate::error::Result;
use crate::ops::check_same_device;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// Checks a norm's arguments with torch's messages; returns the `[rows, n]` view of `x`.
fn check(
    op: &str,
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
) -> Result<Rows> {
    let ns = normalized_shape;
    if ns.is_empty() {
        bail!(
            Runtime,
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least \
             one element, but got normalized_shape = []"
        );
    }
    for (name, p) in [("weight", weight), ("bias", bias)] {
        if let Some(p) = p {
            if p.shape() != ns {
                bail!(
                    Runtime,
                    "Expected {name} to be of same shape as normalized_shape, but got {name} of \
                     shape {:?} and normalized_shape = {ns:?}",
                    p.shape()
                );
            }
        }
    }
    let nd = x.ndim();
    if nd < ns.len() || &x.shape()[nd - ns.len()..] != ns {
        let dims: Vec<String> = ns.iter().map(|d| d.to_string()).collect();
        bail!(
            Runtime,
            "Given normalized_shape={ns:?}, expected input with shape [*, {}], but got input of \
             size{:?}",
            dims.join(", "),
            x.shape()
        );
    }
    if !x.dtype().is_floating_point() {
        bail!(
            Runtime,
            "\"{op}\" not implemented for '{}'",
            scalar_type_name(x.dtype())
        );
    }
    let params: Vec<&Tensor> = [Some(x), weight, bias].into_iter().flatten().collect();
    check_same_device(op, &params)?;
    for p in &params[1..] {
        if p.dtype() != x.dtype() {
            bail!(
                Runtime,
                "{op}: expected scalar type {} but found {}",
                scalar_type_name(x.dtype()),
                scalar_type_name(p.dtype())
            );
        }
    }
    let n: usize = ns.iter().product();
    let rows = x.shape()[..nd - ns.len()].iter().product();
    Ok(Rows { rows, n })
}

/// The statistics' shape: the leading dims, then 1 for each normalised dim.
fn stat_shape(x: &Tensor, k: usize) -> Vec<i64> {
    let nd = x.ndim();
    x.shape()[..nd - k]
        .iter()
        .map(|&d| d as i64)
        .chain(std::iter::repeat_n(1, k))
        .collect()
}

fn contiguous(t: Option<&Tensor>) -> Result<Option<Tensor>> {
    t.map(|t| t.contiguous()).transpose()
}

/// The fused forward: `(y, mean, rstd)` (mean zero for RMS norm).
fn forward(
    x: &Tensor,
    ns: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
    rms: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    let op = if rms {
        "RmsNormKernelImpl"
    } else {
        "LayerNormKernelImpl"
    };
    let r = check(op, x, ns, weight, bias)?;
    let (xc, wc, bc) = (x.contiguous()?, contiguous(weight)?, contiguous(bias)?);
    let sd = x.dtype().float_acc();
    let (y, mean, rstd) = if xc.is_cuda() {
        crate::cuda::rowwise::norm(&xc, wc.as_ref(), bc.as_ref(), (r.rows, r.n), eps, rms, sd)?
    } else {
        let y = Tensor::empty(x.shape(), x.dtype(), x.device())?;
        let mean = Tensor::empty(&[r.rows], sd, x.device())?;
        let rstd = Tensor::empty(&[r.rows], sd, x.device())?;
        // SAFETY: every tensor is contiguous with the sizes `r` describes; the statistics'
        // dtype is T::Acc's (`DType::float_acc`); outputs are fresh.
        dispatch_float!(x.dtype(), T => unsafe {
            norm_forward::<T>(
                xc.data_ptr::<T>(),
                wc.as_ref().map(|w| w.data_ptr::<T>() as *const T),
                bc.as_ref().map(|b| b.data_ptr::<T>() as *const T),
                y.data_ptr::<T>(),
                mean.data_ptr_raw() as *mut <T as Float>::Acc,
                rstd.data_ptr_raw() as *mut <T as Float>::Acc,
                r,
                eps,
                rms,
            )
        }, _ => {});
        (y, mean, rstd)
    };
    let shape = stat_shape(x, ns.len());
    Ok((
        y,
        crate::ops::shape::reshape(&mean, &shape)?,
        crate::ops::shape::reshape(&rstd, &shape)?,
    ))
}

/// torch's `native_layer_norm(x, normalized_shape, weight, bias, eps)`:
/// `y = (x - mean) / sqrt(var + eps) * weight + bias` over the trailing `normalized_shape`
/// dims (biased variance), with the per-row `mean` and `rstd = 1 / sqrt(var + eps)`.
pub fn native_layer_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    forward(x, normalized_shape, weight, bias, eps, false)
}

/// RMS norm: `y = x / sqrt(mean(x^2) + eps) * weight` over the trailing `normalized_shape`
/// dims; returns `(y, rstd)`.
pub fn rms_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    eps: f64,
) -> Result<(Tensor, Tensor)> {
    let (y, _, rstd) = forward(x, normalized_shape, weight, None, eps, true)?;
    Ok((y, rstd))
}

/// Gradients of a norm: each `Some` where it was asked for.
pub type NormGrads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

/// The fused backward; `need` = which of (dx, dweight, dbias) to return.
#[allow(clippy::too_many_arguments)]
fn backward(
    grad: &Tensor,
    x: &Tensor,
    ns: &[usize],
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    need: [bool; 3],
    rms: bool,
) -> Result<NormGrads> {
    let op = if rms {
        "rms_norm_backward"
    } else {
        "native_layer_norm_backward"
    };
    let r = check(op, x, ns, weight, None)?;
    check_same_device(op, &[grad, x, mean, rstd])?;
    if grad.shape() != x.shape() || mean.numel() != r.rows || rstd.numel() != r.rows {
        bail!(
            Runtime,
            "{op}: grad_out of shape {:?}, mean of shape {:?} and rstd of shape {:?} do not fit \
             input of shape {:?}",
            grad.shape(),
            mean.shape(),
            rstd.shape(),
            x.shape()
        );
    }
    let sd = x.dtype().float_acc();
    let gc = grad.to_dtype(x.dtype())?.contiguous()?;
    let (xc, wc) = (x.contiguous()?, contiguous(weight)?);
    let (mc, rc) = (
        mean.to_dtype(sd)?.contiguous()?,
        rstd.to_dtype(sd)?.contiguous()?,
    );
    let (need_w, need_b) = (need[1] && weight.is_some(), need[2]);
    let (dx, dw, db) = if xc.is_cuda() {
        let g = crate::cuda::rowwise::norm_backward(
            &gc,
            &xc,
            &mc,
            &rc,
            wc.as_ref(),
            (r.rows, r.n),
            rms,
            (need_w, need_b),
        )?;
        (g.dx, g.dw, g.db)
    } else {
        let dx = Tensor::empty(x.shape(), x.dtype(), x.device())?;
        let param = |wanted: bool| {
            wanted
                .then(|| Tensor::empty(ns, x.dtype(), x.device()))
                .transpose()
        };
        let (dw, db) = (param(need_w)?, param(need_b)?);
        // SAFETY: every tensor is contiguous with the sizes `r` describes, the statistics of
        // T::Acc's dtype; outputs are fresh.
        dispatch_float!(x.dtype(), T => unsafe {
            let out = NormGradPtrs {
                dx: dx.data_ptr::<T>(),
                dw: dw.as_ref().map(|t| t.data_ptr::<T>()),
                db: db.as_ref().map(|t| t.data_ptr::<T>()),
            };
            norm_backward::<T>(
                gc.data_ptr::<T>(),
                xc.data_ptr::<T>(),
                mc.data_ptr_raw() as *const <T as Float>::Acc,
                rc.data_ptr_raw() as *const <T as Float>::Acc,
                wc.as_ref().map(|w| w.data_ptr::<T>() as *const T),
                out,
                r,
                rms,
            )
        }, _ => {});
        (dx, dw, db)
    };
    let shape_params = |t: Option<Tensor>| -> Result<Option<Tensor>> {
        let dims: Vec<i64> = ns.iter().map(|&d| d as i64).collect();
        t.map(|t| crate::ops::shape::reshape(&t, &dims)).transpose()
    };
    Ok((need[0].then_some(dx), shape_params(dw)?, shape_params(db)?))
}

/// torch's `native_layer_norm_backward`: `(dx, dweight, dbias)` from the output gradient, the
/// input, the saved `mean` / `rstd` and the weight; `need` picks which are computed.
#[allow(clippy::too_many_arguments)]
pub fn native_layer_norm_backward(
    grad: &Tensor,
    x: &Tensor,
    normalized_shape: &[usize],
    mean: &Tensor,
    rstd: &Tensor,
    weight: Option<&Tensor>,
    need: [bool; 3],
) -> Result<NormGrads> {
    backward(grad, x, normalized_shape, mean, rstd, weight, need, false)
}

/// The backward of [`rms_norm`]: `(dx, dweight)`; `need` picks which are computed.
pub fn rms_norm_backward(
    grad: &Tensor,
    x: &Tensor,
    normalized_shape: &[usize],
    rstd: &Tensor,
    weight: Option<&Tensor>,
    need: [bool; 2],
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let mean = Tensor::zeros(rstd.shape(), x.dtype().float_acc(), x.device())?;
    let (dx, dw, _) = backward(
        grad,
        x,
        normalized_shape,
        &mean,
        rstd,
        weight,
        [need[0], need[1], false],
        true,
    )?;
    Ok((dx, dw))
}
