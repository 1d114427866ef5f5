//! Batch norm (torch's `native_batch_norm` / `native_batch_norm_backward`): each channel (dim 1)
//! normalised over the batch and spatial dims, by one fused forward (statistics, running-stat
//! update, normalise, scale and shift) and one fused backward, on every device.
//!
//! The input is seen as `[n, c, hw]`. The statistics used (the batch's when training, the
//! running ones otherwise) are returned as `[c]` tensors `(mean, invstd)` in the compute dtype
//! (float for f16/bf16, as torch's kernels keep them); the backward takes them back.

use crate::cpu::batch_norm as kernels;
use crate::dtype::{scalar_type_name, DType};
use crate::element::Float;
use crate::error::Result;
use crate::ops::binary::{add, mul};
use crate::ops::check_same_device;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float, Scalar};

/// Checks the arguments with torch's messages; returns the `[n, c, hw]` layout of `x`.
fn check(op: &str, x: &Tensor, per_channel: &[(&str, Option<&Tensor>)]) -> Result<kernels::Layout> {
    if x.ndim() < 2 {
        bail!(
            Runtime,
            "{op}: expected an input with at least 2 dims (N, C, ...), but got input of size {:?}",
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
    let c = x.shape()[1];
    let mut all = vec![x];
    for (name, t) in per_channel {
        if let Some(t) = t {
            if t.numel() != c {
                bail!(
                    Runtime,
                    "{name} should contain {c} elements not {}",
                    t.numel()
                );
            }
            all.push(t);
        }
    }
    check_same_device(op, &all)?;
    let n = x.shape()[0];
    let hw = x.shape()[2..].iter().product();
    Ok((n, c, hw))
}

/// `t` flattened, contiguous, in `dtype`.
fn flat(t: &Tensor, dtype: DType) -> Result<Tensor> {
    crate::ops::shape::reshape(&t.to_dtype(dtype)?.contiguous()?, &[-1])
}

fn flat_opt(t: Option<&Tensor>, dtype: DType) -> Result<Option<Tensor>> {
    t.map(|t| flat(t, dtype)).transpose()
}

/// A `[c]` statistic computed on the CPU, as a tensor.
fn stat_tensor<A: crate::element::Element>(v: Vec<A>) -> Result<Tensor> {
    let c = v.len();
    Tensor::from_vec(v, &[c])
}

/// `(mean, var, invstd)` of each channel of the contiguous `x`.
fn batch_moments(x: &Tensor, l: kernels::Layout, eps: f64) -> Result<[Tensor; 3]> {
    let sd = x.dtype().float_acc();
    if x.is_cuda() {
        return crate::cuda::batch_norm::moments(x, l, eps, sd);
    }
    dispatch_float!(x.dtype(), T => {
        // SAFETY: `x` is contiguous with `n * c * hw` elements of T.
        let xs = unsafe { std::slice::from_raw_parts(x.data_ptr::<T>() as *const T, x.numel()) };
        let [m, v, i] = kernels::moments::<T>(xs, l, eps);
        Ok([stat_tensor(m)?, stat_tensor(v)?, stat_tensor(i)?])
    }, _ => unreachable!("checked floating"))
}

/// `running = (1 - momentum) * running + momentum * stat`, in place.
fn update_running(running: &Tensor, stat: &Tensor, momentum: f64) -> Result<()> {
    let (d, dev) = (stat.dtype(), stat.device());
    let keep = Tensor::full(&[], Scalar::Float(1.0 - momentum), d, dev)?;
    let take = Tensor::full(&[], Scalar::Float(momentum), d, dev)?;
    let old = flat(running, d)?;
    let new = add(&mul(&old, &keep)?, &mul(stat, &take)?)?;
    running.copy_(&crate::ops::shape::reshape(&new, &shape_i64(running))?)
}

fn shape_i64(t: &Tensor) -> Vec<i64> {
    t.shape().iter().map(|&d| d as i64).collect()
}

/// torch's `native_batch_norm(x, weight, bias, running_mean, running_var, training, momentum,
/// eps)`: `y = (x - mean) * invstd * weight + bias` per channel, with `(y, mean, invstd)` out.
/// Training uses the batch's statistics (biased variance) and, where given, updates the running
/// ones in place (`momentum`, unbiased variance, as torch); otherwise the running statistics
/// are used and must be given.
#[allow(clippy::too_many_arguments)]
pub fn native_batch_norm(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let op = "batch_norm";
    let l = check(
        op,
        x,
        &[
            ("weight", weight),
            ("bias", bias),
            ("running_mean", running_mean),
            ("running_var", running_var),
        ],
    )?;
    let (n, c, hw) = l;
    let sd = x.dtype().float_acc();
    let xc = x.contiguous()?;
    let (mean, invstd) = if training {
        if n * hw == 0 {
            bail!(
                Runtime,
                "{op}: expected at least one value per channel when training, but got input of \
                 size {:?}",
                x.shape()
            );
        }
        let [mean, var, invstd] = batch_moments(&xc, l, eps)?;
        if let (Some(rm), Some(rv)) = (running_mean, running_var) {
            let m = n * hw;
            let unbiased = Tensor::full(
                &[],
                Scalar::Float(m as f64 / (m.max(2) - 1) as f64),
                sd,
                x.device(),
            )?;
            update_running(rm, &mean, momentum)?;
            update_running(rv, &mul(&var, &unbiased)?, momentum)?;
        }
        (mean, invstd)
    } else {
        let (Some(rm), Some(rv)) = (running_mean, running_var) else {
            bail!(
                Runtime,
                "{op}: running_mean and running_var must be defined in evaluation mode"
            );
        };
        let var = flat(rv, sd)?;
        let eps_t = Tensor::full(&[], Scalar::Float(eps), sd, x.device())?;
        let invstd = crate::ops::unary::rsqrt(&add(&var, &eps_t)?, None)?;
        (flat(rm, sd)?, invstd)
    };
    let (wc, bc) = (flat_opt(weight, x.dtype())?, flat_opt(bias, x.dtype())?);
    let y = if xc.is_cuda() {
        crate::cuda::batch_norm::apply(&xc, l, &mean, &invstd, wc.as_ref(), bc.as_ref())?
    } else {
        let y = Tensor::empty(x.shape(), x.dtype(), x.device())?;
        dispatch_float!(x.dtype(), T => unsafe {
            // SAFETY: every tensor is contiguous of the sizes `l` gives (statistics of
            // T::Acc's dtype, parameters of T); `y` is fresh.
            let s = |t: &Tensor| std::slice::from_raw_parts(t.data_ptr::<T>() as *const T, t.numel());
            let a = |t: &Tensor| std::slice::from_raw_parts(t.data_ptr_raw() as *const <T as Float>::Acc, c);
            let ys = std::slice::from_raw_parts_mut(y.data_ptr::<T>(), y.numel());
            kernels::apply::<T>(s(&xc), ys, l, a(&mean), a(&invstd), wc.as_ref().map(s), bc.as_ref().map(s));
        }, _ => {});
        y
    };
    Ok((y, mean, invstd))
}

/// Gradients of batch norm: each `Some` where it was asked for.
pub type BatchNormGrads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

/// torch's `native_batch_norm_backward`: `(dx, dweight, dbias)` from the output gradient, the
/// input, the weight and the `(mean, invstd)` the forward returned; `training` says whether
/// those were the batch's own (then `dx` carries their gradient too). `need` picks the outputs.
pub fn native_batch_norm_backward(
    grad: &Tensor,
    x: &Tensor,
    weight: Option<&Tensor>,
    mean: &Tensor,
    invstd: &Tensor,
    training: bool,
    need: [bool; 3],
) -> Result<BatchNormGrads> {
    let op = "batch_norm_backward";
    let l = check(
        op,
        x,
        &[
            ("weight", weight),
            ("mean", Some(mean)),
            ("invstd", Some(invstd)),
        ],
    )?;
    check_same_device(op, &[grad, x])?;
    if grad.shape() != x.shape() {
        bail!(
            Runtime,
            "{op}: grad_out of shape {:?} does not fit input of shape {:?}",
            grad.shape(),
            x.shape()
        );
    }
    let c = l.1;
    let sd = x.dtype().float_acc();
    let gc = grad.to_dtype(x.dtype())?.contiguous()?;
    let xc = x.contiguous()?;
    let (mc, ic) = (flat(mean, sd)?, flat(invstd, sd)?);
    let wc = flat_opt(weight, x.dtype())?;
    let need_w = need[1] && weight.is_some();
    // The per-channel sums feed dweight, dbias and the training dx.
    let sums = if need_w || need[2] || (need[0] && training) {
        Some(if xc.is_cuda() {
            crate::cuda::batch_norm::grad_sums(&gc, &xc, l, &mc)?
        } else {
            dispatch_float!(x.dtype(), T => unsafe {
                // SAFETY: contiguous tensors of the sizes `l` gives.
                let s = |t: &Tensor| std::slice::from_raw_parts(t.data_ptr::<T>() as *const T, t.numel());
                let a = std::slice::from_raw_parts(mc.data_ptr_raw() as *const <T as Float>::Acc, c);
                let [sg, sgx] = kernels::grad_sums::<T>(s(&gc), s(&xc), l, a);
                [stat_tensor(sg)?, stat_tensor(sgx)?]
            }, _ => unreachable!("checked floating"))
        })
    } else {
        None
    };
    let dx = if need[0] {
        let batch_sums = sums.as_ref().filter(|_| training);
        Some(if xc.is_cuda() {
            crate::cuda::batch_norm::backward_apply(&gc, &xc, l, &mc, &ic, wc.as_ref(), batch_sums)?
        } else {
            let dx = Tensor::empty(x.shape(), x.dtype(), x.device())?;
            dispatch_float!(x.dtype(), T => unsafe {
                // SAFETY: contiguous tensors of the sizes `l` gives; `dx` is fresh.
                let s = |t: &Tensor| std::slice::from_raw_parts(t.data_ptr::<T>() as *const T, t.numel());
                let a = |t: &Tensor| std::slice::from_raw_parts(t.data_ptr_raw() as *const <T as Float>::Acc, c);
                let out = std::slice::from_raw_parts_mut(dx.data_ptr::<T>(), dx.numel());
                kernels::backward_apply::<T>(
                    s(&gc), s(&xc), out, l, a(&mc), a(&ic), wc.as_ref().map(s),
                    batch_sums.map(|[sg, sgx]| (a(sg), a(sgx))),
                );
            }, _ => {});
            dx
        })
    } else {
        None
    };
    let param_shape = |t: &Tensor| -> Result<Tensor> {
        let shape = weight.map_or(vec![c as i64], shape_i64);
        crate::ops::shape::reshape(&t.to_dtype(x.dtype())?, &shape)
    };
    let (dw, db) = match &sums {
        Some([sg, sgx]) => (
            need_w.then(|| param_shape(&mul(sgx, &ic)?)).transpose()?,
            need[2].then(|| param_shape(sg)).transpose()?,
        ),
        None => (None, None),
    };
    Ok((dx, dw, db))
}
