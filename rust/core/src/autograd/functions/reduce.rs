//! Reductions and their rules: sum, nansum, mean, nanmean, prod, logsumexp, plus the helpers the
//! other reduction files share (restoring reduced dims, raw masks and counts, a recorded permute).
//! var/std and norms are in `reduce_stat`, max/min/median/sort and friends in `reduce_select`,
//! cumulative ops in `reduce_scan`.

use super::binary::{div, mul, sub};
use super::convert::to_dtype;
use super::number;
use super::shape::{expand_to, permute, reshape};
use super::unary::{exp, where_};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::binary::{self as rawbin, BinaryOp};
use crate::ops::reduce as raw;
use crate::tensor::Tensor;

/// A reduced gradient with the reduced dims put back as size 1, ready to broadcast.
pub fn unsqueeze_reduced(
    g: &Tensor,
    in_shape: &[usize],
    mask: &[bool],
    keepdim: bool,
) -> Result<Tensor> {
    if keepdim || g.ndim() == in_shape.len() {
        return Ok(g.clone());
    }
    if g.ndim() == 0 {
        // All dims reduced: broadcast the scalar (a reshape of a 0-d tensor copies, and its
        // replay on a data-less tensor would read nothing).
        return expand_to(g, &vec![1; in_shape.len()]);
    }
    let dims: Vec<i64> = in_shape
        .iter()
        .zip(mask)
        .map(|(&n, &m)| if m { 1 } else { n as i64 })
        .collect();
    reshape(g, &dims)
}

/// [`unsqueeze_reduced`] for tensors that carry no gradient (indices, saved results used only
/// in masks): a plain reshape.
pub(crate) fn unsqueeze_reduced_raw(
    t: &Tensor,
    in_shape: &[usize],
    mask: &[bool],
    keepdim: bool,
) -> Result<Tensor> {
    if keepdim || t.ndim() == in_shape.len() {
        return Ok(t.clone());
    }
    let dims: Vec<i64> = in_shape
        .iter()
        .zip(mask)
        .map(|(&n, &m)| if m { 1 } else { n as i64 })
        .collect();
    crate::ops::shape::reshape(t, &dims)
}

/// The reduced dims of `mask` as a dim list (`None` for a 0-d input: nothing to name).
pub(crate) fn mask_dims(mask: &[bool]) -> Option<Vec<i64>> {
    if mask.is_empty() {
        return None;
    }
    Some(
        (0..mask.len())
            .filter(|&d| mask[d])
            .map(|d| d as i64)
            .collect(),
    )
}

/// How many input elements each output element of a reduction over `mask` covers.
pub(crate) fn reduced_count(shape: &[usize], mask: &[bool]) -> usize {
    shape
        .iter()
        .zip(mask)
        .filter(|(_, &m)| m)
        .map(|(&s, _)| s)
        .product()
}

/// `a == b` as a bool mask (never recorded).
pub(crate) fn eq_mask(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    rawbin::binary(BinaryOp::Eq, a, b)
}

/// `a (op) v` against a number, as a bool mask.
pub(crate) fn cmp_number(op: BinaryOp, a: &Tensor, v: f64) -> Result<Tensor> {
    rawbin::binary(op, a, &number(v)?)
}

/// Whether any element of a bool mask is true.
pub(crate) fn any_true(m: &Tensor) -> Result<bool> {
    Ok(raw::all_any::<false>(m, None, false)?.to_vec::<bool>()[0])
}

/// `where(mask, v, t)` for a number `v`.
pub(crate) fn fill_where(mask: &Tensor, v: f64, t: &Tensor) -> Result<Tensor> {
    where_(mask, &number(v)?, t)
}

/// The restored gradient spread over the input's shape (sum's backward).
fn spread(g: &Tensor, shape: &[usize], mask: &[bool], keepdim: bool) -> Result<Tensor> {
    expand_to(&unsqueeze_reduced(g, shape, mask, keepdim)?, shape)
}

/// `sum(x, dims, keepdim, dtype)`: `SumBackward0` over everything, `SumBackward1` with dims.
pub fn sum(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let out = raw::sum(x, dims, keepdim, dtype)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let name = if dims.is_some() {
        "SumBackward1"
    } else {
        "SumBackward0"
    };
    let shape = x.shape().to_vec();
    let mask = raw::reduce_mask(x.ndim(), dims, "sum")?;
    Ok(record1(name, &[x], out, vec![], move |a: &BackwardArgs| {
        Ok(vec![Some(spread(&a.grad(0)?, &shape, &mask, keepdim)?)])
    }))
}

/// Sums `g` down to `shape` (the un-broadcast every gradient of a broadcasting op needs).
pub fn sum_to(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let lead = g.ndim() - shape.len();
    let dims: Vec<i64> = (0..g.ndim())
        .filter(|&d| d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1))
        .map(|d| d as i64)
        .collect();
    let s = if dims.is_empty() {
        g.clone()
    } else {
        sum(g, Some(&dims), true, None)?
    };
    let target: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    reshape(&s, &target)
}

/// `nansum(x, dims, keepdim, dtype)`: NaN inputs get a zero gradient.
pub fn nansum(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let out = raw::nansum(x, dims, keepdim, dtype)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let shape = x.shape().to_vec();
    let mask = raw::reduce_mask(x.ndim(), dims, "nansum")?;
    let saves = vec![Save::Tensor(x.clone())];
    Ok(record1(
        "NansumBackward0",
        &[x],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = spread(&a.grad(0)?, &shape, &mask, keepdim)?;
            let nan = super::unary::isnan(&a.saved(0)?)?;
            Ok(vec![Some(fill_where(&nan, 0.0, &g)?)])
        },
    ))
}

/// `mean(x, dims, keepdim, dtype)`: `MeanBackward0` over everything, `MeanBackward1` with dims.
pub fn mean(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let out = raw::mean(x, dims, keepdim, dtype)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let name = if dims.is_some() {
        "MeanBackward1"
    } else {
        "MeanBackward0"
    };
    let shape = x.shape().to_vec();
    let mask = raw::reduce_mask(x.ndim(), dims, "mean")?;
    let n = reduced_count(&shape, &mask) as f64;
    Ok(record1(name, &[x], out, vec![], move |a: &BackwardArgs| {
        let g = spread(&a.grad(0)?, &shape, &mask, keepdim)?;
        Ok(vec![Some(div(&g, &number(n)?)?)])
    }))
}

/// `nanmean(x, dims, keepdim, dtype)`: as torch, `nansum(x) / count(!isnan(x))`, so its node is
/// a `DivBackward0` and NaN inputs get a zero gradient.
pub fn nanmean(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    if !needs_grad(&[x]) {
        return raw::nanmean(x, dims, keepdim, dtype);
    }
    let floating = dtype.unwrap_or(x.dtype()).is_floating_point();
    if !floating {
        // The kernel's own checks give torch's message.
        return raw::nanmean(x, dims, keepdim, dtype);
    }
    let s = nansum(x, dims, keepdim, dtype)?;
    let present = crate::ops::unary_misc::logical_not(&super::unary::isnan(x)?, None)?;
    let count = raw::sum(&present, dims, keepdim, None)?;
    div(&s, &count)
}

/// `logsumexp(x, dims, keepdim)`: `g * exp(x - result)`.
pub fn logsumexp(x: &Tensor, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    let out = raw::logsumexp(x, dims, keepdim)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let shape = x.shape().to_vec();
    let mask = raw::reduce_mask(x.ndim(), dims, "logsumexp")?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    Ok(record1(
        "LogsumexpBackward0",
        &[x],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = unsqueeze_reduced(&a.grad(0)?, &shape, &mask, keepdim)?;
            let r = unsqueeze_reduced(&a.saved(1)?, &shape, &mask, keepdim)?;
            Ok(vec![Some(mul(&g, &exp(&sub(&a.saved(0)?, &r)?)?)?)])
        },
    ))
}

/// `prod(x, dims, keepdim, dtype)`: `ProdBackward0` over everything, `ProdBackward1` with a dim.
/// Without zeros the gradient is `g * result / x`; with zeros it is the product of the other
/// elements, from exclusive cumulative products (differentiable again, as torch does).
pub fn prod(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    if !needs_grad(&[x]) {
        return raw::prod(x, dims, keepdim, dtype);
    }
    if let Some(d) = dtype.filter(|&d| d != x.dtype()) {
        // Compute in the requested dtype; the cast carries the gradient back.
        return prod(&to_dtype(x, d)?, dims, keepdim, dtype);
    }
    let out = raw::prod(x, dims, keepdim, None)?;
    let name = if dims.is_some() {
        "ProdBackward1"
    } else {
        "ProdBackward0"
    };
    let shape = x.shape().to_vec();
    let mask = raw::reduce_mask(x.ndim(), dims, "prod")?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    Ok(record1(name, &[x], out, saves, move |a: &BackwardArgs| {
        let g = unsqueeze_reduced(&a.grad(0)?, &shape, &mask, keepdim)?;
        let x = a.saved(0)?;
        if x.ndim() == 0 {
            return Ok(vec![Some(g)]);
        }
        let grad = if !any_true(&cmp_number(BinaryOp::Eq, &x, 0.0)?)? {
            let r = unsqueeze_reduced(&a.saved(1)?, &shape, &mask, keepdim)?;
            mul(&g, &div(&r, &x)?)?
        } else {
            mul(&g, &others_product(&x, &mask)?)?
        };
        Ok(vec![Some(grad)])
    }))
}

/// For each element, the product of the other elements of its reduced slice (over `mask`).
fn others_product(x: &Tensor, mask: &[bool]) -> Result<Tensor> {
    let nd = x.ndim();
    let kept: Vec<usize> = (0..nd).filter(|&d| !mask[d]).collect();
    let red: Vec<usize> = (0..nd).filter(|&d| mask[d]).collect();
    let perm: Vec<i64> = kept.iter().chain(&red).map(|&d| d as i64).collect();
    let identity = perm.iter().enumerate().all(|(i, &p)| i as i64 == p);
    let xp = if identity {
        x.clone()
    } else {
        permute(x, &perm)?
    };
    let pshape: Vec<i64> = xp.shape().iter().map(|&s| s as i64).collect();
    let mut flat: Vec<i64> = kept.iter().map(|&d| x.shape()[d] as i64).collect();
    flat.push(red.iter().map(|&d| x.shape()[d] as i64).product());
    let last = flat.len() - 1;
    let e = super::reduce_scan::exclusive_others(&reshape(&xp, &flat)?, last)?;
    let e = reshape(&e, &pshape)?;
    if identity {
        return Ok(e);
    }
    let mut inv = vec![0i64; nd];
    for (i, &p) in perm.iter().enumerate() {
        inv[p as usize] = i as i64;
    }
    permute(&e, &inv)
}
