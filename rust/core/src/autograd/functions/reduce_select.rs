//! Reductions that pick elements, and their rules: amax/amin, max/min (all and with a dim),
//! aminmax, median/nanmedian, mode, kthvalue, sort, topk, msort; unique records a node that
//! refuses backward, as torch's does.
//!
//! Two gradient shapes: a value picked by an index sends its gradient to that index (scattered
//! into zeros); a value without an index (max over everything, amax) shares its gradient evenly
//! among the elements equal to it.

use super::binary::{div, mul};
use super::number;
use super::reduce::{eq_mask, mask_dims, unsqueeze_reduced, unsqueeze_reduced_raw};
use super::unary::where_;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record, record1};
use crate::error::{Error, Result};
use crate::layout::wrap_dim;
use crate::ops::reduce as raw;
use crate::ops::sort as rawsort;
use crate::tensor::Tensor;

/// `zeros(shape).scatter_add(dim, idx, src)`, recorded (its backward gathers).
pub(crate) fn scatter_add_zeros(
    src: &Tensor,
    dim: usize,
    idx: &Tensor,
    shape: &[usize],
) -> Result<Tensor> {
    let zeros = Tensor::zeros(shape, src.dtype(), src.device())?;
    super::index_scatter::scatter_add(&zeros, dim as i64, idx, src)
}

/// The gradient of values picked along `d` at `idx` (torch's
/// `value_selecting_reduction_backward`): `g` scattered into zeros of the input's shape.
fn select_backward(
    g: &Tensor,
    d: usize,
    idx: &Tensor,
    shape: &[usize],
    keepdim: bool,
) -> Result<Tensor> {
    if shape.is_empty() {
        return Ok(g.clone());
    }
    let mut mask = vec![false; shape.len()];
    mask[d] = true;
    let g = unsqueeze_reduced(g, shape, &mask, keepdim)?;
    let idx = unsqueeze_reduced_raw(idx, shape, &mask, keepdim)?;
    scatter_add_zeros(&g, d, &idx, shape)
}

/// Records a (values, indices) op whose values were picked along `d` at the indices.
fn record_selected(
    name: &'static str,
    x: &Tensor,
    (v, i): (Tensor, Tensor),
    d: usize,
    keepdim: bool,
) -> (Tensor, Tensor) {
    if !needs_grad(&[x]) {
        return (v, i);
    }
    let shape = x.shape().to_vec();
    let saves = vec![Save::Tensor(i.clone())];
    let mut outs = record(name, &[x], vec![v, i], saves, move |a: &BackwardArgs| {
        let g = a.grad(0)?;
        Ok(vec![Some(select_backward(
            &g,
            d,
            &a.saved(0)?,
            &shape,
            keepdim,
        )?)])
    });
    let i = outs.pop().expect("two outputs");
    (outs.pop().expect("two outputs"), i)
}

/// The dim an op works along (0 for a 0-d input).
fn dim_of(x: &Tensor, dim: i64, op: &str) -> Result<usize> {
    wrap_dim(dim, x.ndim(), op)
}

/// `g` shared evenly among the elements of `x` equal to `value` (NaN counting as equal to a NaN
/// value): torch's `evenly_distribute_backward` for max()/min()/median() over everything.
fn evenly_distribute(g: &Tensor, x: &Tensor, value: &Tensor) -> Result<Tensor> {
    let nan_value = value.item()?.to_f64().is_nan();
    let hit = if nan_value {
        super::unary::isnan(x)?
    } else {
        eq_mask(x, value)?
    };
    let count = raw::sum(&hit, None, false, None)?;
    where_(&hit, &div(g, &count)?, &number(0.0)?)
}

/// Records a reduction over everything whose gradient is shared among the elements equal to
/// the result.
fn record_even(name: &'static str, x: &Tensor, out: Tensor) -> Tensor {
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    record1(name, &[x], out, saves, |a: &BackwardArgs| {
        let (x, r) = (a.saved(0)?, a.saved(1)?);
        Ok(vec![Some(evenly_distribute(&a.grad(0)?, &x, &r)?)])
    })
}

/// amax/amin's backward: `g / count * (x == result)` with the count per reduced slice (torch's
/// `scale_grad_by_count`).
fn amax_backward(
    g: &Tensor,
    x: &Tensor,
    r: &Tensor,
    mask: &[bool],
    keepdim: bool,
) -> Result<Tensor> {
    let shape = x.shape();
    let g = unsqueeze_reduced(g, shape, mask, keepdim)?;
    let r = unsqueeze_reduced_raw(r, shape, mask, keepdim)?;
    let hit = eq_mask(&r, x)?;
    let dims = mask_dims(mask);
    let count = raw::sum(&hit, dims.as_deref(), true, None)?;
    mul(&div(&g, &count)?, &hit)
}

/// `amax(x, dims, keepdim)` / `amin` (`MAX` picks); empty `dims` means all of them.
pub fn amax_amin<const MAX: bool>(x: &Tensor, dims: &[i64], keepdim: bool) -> Result<Tensor> {
    let out = raw::amax_amin::<MAX>(x, dims, keepdim)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let name = if MAX {
        "AmaxBackward0"
    } else {
        "AminBackward0"
    };
    let mask = raw::reduce_mask(x.ndim(), Some(dims), if MAX { "amax" } else { "amin" })?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    Ok(record1(name, &[x], out, saves, move |a: &BackwardArgs| {
        let (x, r) = (a.saved(0)?, a.saved(1)?);
        Ok(vec![Some(amax_backward(
            &a.grad(0)?,
            &x,
            &r,
            &mask,
            keepdim,
        )?)])
    }))
}

/// `aminmax(x, dim, keepdim)`: (min, max), each with amin/amax's rule.
pub fn aminmax(x: &Tensor, dim: Option<i64>, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let (lo, hi) = raw::aminmax(x, dim, keepdim)?;
    if !needs_grad(&[x]) {
        return Ok((lo, hi));
    }
    let dims = dim.map(|d| [d]);
    let mask = raw::reduce_mask(x.ndim(), dims.as_ref().map(|d| &d[..]), "aminmax")?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0), Save::Output(1)];
    let mut outs = record(
        "AminmaxBackward0",
        &[x],
        vec![lo, hi],
        saves,
        move |a: &BackwardArgs| {
            let x = a.saved(0)?;
            let mut total: Option<Tensor> = None;
            for k in 0..2 {
                let Some(g) = a.grads.get(k).cloned().flatten() else {
                    continue;
                };
                let part = amax_backward(&g, &x, &a.saved(1 + k)?, &mask, keepdim)?;
                total = Some(match total {
                    None => part,
                    Some(t) => super::binary::add(&t, &part)?,
                });
            }
            Ok(vec![total])
        },
    );
    let hi = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), hi))
}

/// `max(x)` / `min(x)` over everything: ties share the gradient evenly.
pub fn max_min_all<const MAX: bool>(x: &Tensor) -> Result<Tensor> {
    let out = raw::max_min_all::<MAX>(x)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let name = if MAX { "MaxBackward1" } else { "MinBackward1" };
    Ok(record_even(name, x, out))
}

/// `max(x, dim, keepdim)` / `min`: (values, indices); the gradient goes to the returned index.
pub fn max_min_dim<const MAX: bool>(
    x: &Tensor,
    dim: i64,
    keepdim: bool,
) -> Result<(Tensor, Tensor)> {
    let r = raw::max_min_dim::<MAX>(x, dim, keepdim)?;
    let name = if MAX { "MaxBackward0" } else { "MinBackward0" };
    Ok(record_selected(name, x, r, dim_of(x, dim, name)?, keepdim))
}

/// `median(x)` / `nanmedian(x)` (`skip_nan`) over everything: ties share the gradient.
pub fn median_all(x: &Tensor, skip_nan: bool) -> Result<Tensor> {
    let out = rawsort::median_all(x, skip_nan)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let name = if skip_nan {
        "NanmedianBackward0"
    } else {
        "MedianBackward0"
    };
    Ok(record_even(name, x, out))
}

/// `median(x, dim, keepdim)` / `nanmedian`: (values, indices).
pub fn median_dim(x: &Tensor, dim: i64, keepdim: bool, skip_nan: bool) -> Result<(Tensor, Tensor)> {
    let r = rawsort::median_dim(x, dim, keepdim, skip_nan)?;
    let name = if skip_nan {
        "NanmedianBackward1"
    } else {
        "MedianBackward1"
    };
    Ok(record_selected(name, x, r, dim_of(x, dim, name)?, keepdim))
}

/// `mode(x, dim, keepdim)`: (values, indices).
pub fn mode(x: &Tensor, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let r = rawsort::mode(x, dim, keepdim)?;
    Ok(record_selected(
        "ModeBackward0",
        x,
        r,
        dim_of(x, dim, "mode")?,
        keepdim,
    ))
}

/// `kthvalue(x, k, dim, keepdim)`: (values, indices).
pub fn kthvalue(x: &Tensor, k: i64, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let r = rawsort::kthvalue(x, k, dim, keepdim)?;
    Ok(record_selected(
        "KthvalueBackward0",
        x,
        r,
        dim_of(x, dim, "kthvalue")?,
        keepdim,
    ))
}

/// `sort(x, dim, descending)`: (values, indices). `stable` only picks the node's name, as in
/// torch (`sort.stable` is `SortBackward1`); every sort here is stable.
pub fn sort(x: &Tensor, dim: i64, descending: bool, stable: bool) -> Result<(Tensor, Tensor)> {
    let r = rawsort::sort(x, dim, descending)?;
    let name = if stable {
        "SortBackward1"
    } else {
        "SortBackward0"
    };
    Ok(record_selected(name, x, r, dim_of(x, dim, "sort")?, true))
}

/// `argsort(x, dim, descending)`: indices only, never differentiable.
pub fn argsort(x: &Tensor, dim: i64, descending: bool) -> Result<Tensor> {
    rawsort::argsort(x, dim, descending)
}

/// `msort(x)`: `sort(x, 0).values`, so its node is a `SortBackward0`.
pub fn msort(x: &Tensor) -> Result<Tensor> {
    Ok(sort(x, 0, false, false)?.0)
}

/// `topk(x, k, dim, largest)`: (values, indices), sorted.
pub fn topk(x: &Tensor, k: i64, dim: i64, largest: bool) -> Result<(Tensor, Tensor)> {
    let r = rawsort::topk(x, k, dim, largest)?;
    Ok(record_selected(
        "TopkBackward0",
        x,
        r,
        dim_of(x, dim, "topk")?,
        true,
    ))
}

/// unique/unique_consecutive: the values carry a node whose backward fails, as torch's do.
fn record_unique(
    name: &'static str,
    aten: &'static str,
    x: &Tensor,
    (v, inv, cnt): (Tensor, Tensor, Tensor),
) -> (Tensor, Tensor, Tensor) {
    let mut outs = record(
        name,
        &[x],
        vec![v, inv, cnt],
        vec![],
        move |_: &BackwardArgs| {
            Err(Error::runtime(format!(
                "the derivative for '{aten}' is not implemented."
            )))
        },
    );
    let cnt = outs.pop().expect("three outputs");
    let inv = outs.pop().expect("three outputs");
    (outs.pop().expect("three outputs"), inv, cnt)
}

/// `unique(x)` over all elements: (values, inverse, counts).
pub fn unique(x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let r = rawsort::unique(x)?;
    Ok(record_unique("Unique2Backward0", "_unique2", x, r))
}

/// `unique_consecutive(x)` over all elements: (values, inverse, counts).
pub fn unique_consecutive(x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let r = rawsort::unique_consecutive(x)?;
    Ok(record_unique(
        "UniqueConsecutiveBackward0",
        "unique_consecutive",
        x,
        r,
    ))
}
