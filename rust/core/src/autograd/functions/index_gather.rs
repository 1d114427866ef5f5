//! Dim-wise index ops and their rules: `index_select`, `index_add`, `index_copy`,
//! `index_fill`, `gather`, `take`, `take_along_dim`, `put`, `bincount` (the scatter family is
//! in [`super::index_scatter`]).
//!
//! The pairs gather/scatter_add, index_select/index_add and take/put(accumulate) are each
//! other's backward; duplicate indices therefore accumulate, as in torch.

use super::binary::mul;
use super::index::index_put_items;
use super::index_scatter::scatter_add;
use super::shape::{expand_to, reshape};
use super::unary::where_;
use super::{number, when};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{inplace, needs_grad, record1};
use crate::bail;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::{broadcast_shapes, wrap_dim};
use crate::ops::index::IndexItem;
use crate::ops::index_gather as raw;
use crate::ops::shape as raw_shape;
use crate::tensor::Tensor;
use crate::Scalar;

fn zeros(shape: &[usize], like: &Tensor) -> Result<Tensor> {
    Tensor::zeros(shape, like.dtype(), like.device())
}

fn dims_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// `t * alpha` for an op's scalar argument (skipped when it is 1).
fn times(t: Tensor, alpha: Scalar) -> Result<Tensor> {
    if alpha.to_f64() == 1.0 {
        Ok(t)
    } else {
        mul(&t, &Tensor::wrapped_scalar(alpha)?)
    }
}

/// A copy of `t` changed in place by `op` (the out-of-place form of an in-place kernel).
fn copy_then(t: &Tensor, op: impl FnOnce(&Tensor) -> Result<()>) -> Result<Tensor> {
    let out = t.copy_to_new(t.dtype())?;
    op(&out)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// index_select / index_add / index_copy / index_fill

/// `torch.index_select(t, dim, index)`: `IndexSelectBackward0` = `index_add` into zeros.
pub fn index_select(t: &Tensor, dim: i64, idx: &Tensor) -> Result<Tensor> {
    let out = raw::index_select(t, dim, idx)?;
    let shape = t.shape().to_vec();
    Ok(record1(
        "IndexSelectBackward0",
        &[t],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let z = zeros(&shape, &g)?;
            Ok(vec![Some(index_add(
                &z,
                dim,
                &a.saved(0)?,
                &g,
                Scalar::Int(1),
            )?)])
        },
    ))
}

/// `torch.index_add(t, dim, index, source, alpha=alpha)`.
pub fn index_add(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    source: &Tensor,
    alpha: Scalar,
) -> Result<Tensor> {
    let out = copy_then(t, |o| raw::index_add_(o, dim, idx, source, alpha))?;
    Ok(record1(
        "IndexAddBackward0",
        &[t, source],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let gs = when(a.needs(1), || {
                times(index_select(&g, dim, &a.saved(0)?)?, alpha)
            })?;
            Ok(vec![Some(g), gs])
        },
    ))
}

/// `t.index_add_(dim, index, source, alpha=alpha)`.
pub fn index_add_(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    source: &Tensor,
    alpha: Scalar,
) -> Result<()> {
    inplace(
        t,
        &[source],
        || raw::index_add_(t, dim, idx, source, alpha),
        |old| index_add(old, dim, idx, source, alpha),
    )
}

/// `torch.index_copy(t, dim, index, source)`.
pub fn index_copy(t: &Tensor, dim: i64, idx: &Tensor, source: &Tensor) -> Result<Tensor> {
    let out = copy_then(t, |o| raw::index_copy_(o, dim, idx, source))?;
    Ok(record1(
        "IndexCopyBackward0",
        &[t, source],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let idx = a.saved(0)?;
            Ok(vec![
                when(a.needs(0), || index_fill(&g, dim, &idx, Scalar::Int(0)))?,
                when(a.needs(1), || index_select(&g, dim, &idx))?,
            ])
        },
    ))
}

/// `t.index_copy_(dim, index, source)`.
pub fn index_copy_(t: &Tensor, dim: i64, idx: &Tensor, source: &Tensor) -> Result<()> {
    inplace(
        t,
        &[source],
        || raw::index_copy_(t, dim, idx, source),
        |old| index_copy(old, dim, idx, source),
    )
}

/// `torch.index_fill(t, dim, index, value)` with a number: `IndexFillBackward0`.
pub fn index_fill(t: &Tensor, dim: i64, idx: &Tensor, value: Scalar) -> Result<Tensor> {
    let out = copy_then(t, |o| raw::index_fill_(o, dim, idx, value))?;
    Ok(record1(
        "IndexFillBackward0",
        &[t],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            Ok(vec![Some(index_fill(
                &g,
                dim,
                &a.saved(0)?,
                Scalar::Int(0),
            )?)])
        },
    ))
}

/// A 0-d tensor `value` argument, checked as torch checks it.
fn value_of(op: &str, value: &Tensor) -> Result<Scalar> {
    if value.ndim() != 0 {
        bail!(
            Runtime,
            "{op} only supports a 0-dimensional value tensor, but got tensor with {} \
             dimension(s).",
            value.ndim()
        );
    }
    value.item()
}

/// `torch.index_fill(t, dim, index, value)` with a 0-d tensor `value`: `IndexFillBackward1`;
/// the value's gradient is the sum of the gradient over the filled positions.
pub fn index_fill_tensor(t: &Tensor, dim: i64, idx: &Tensor, value: &Tensor) -> Result<Tensor> {
    let v = value_of("index_fill_", value)?;
    let out = copy_then(t, |o| raw::index_fill_(o, dim, idx, v))?;
    Ok(record1(
        "IndexFillBackward1",
        &[t, value],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let idx = a.saved(0)?;
            let gv = when(a.needs(1), || {
                let mask = Tensor::zeros(g.shape(), DType::Bool, g.device())?;
                raw::index_fill_(&mask, dim, &idx, Scalar::Bool(true))?;
                super::reduce::sum(&where_(&mask, &g, &number(0.0)?)?, None, false, None)
            })?;
            Ok(vec![
                when(a.needs(0), || index_fill(&g, dim, &idx, Scalar::Int(0)))?,
                gv,
            ])
        },
    ))
}

/// `t.index_fill_(dim, index, value)` with a number.
pub fn index_fill_(t: &Tensor, dim: i64, idx: &Tensor, value: Scalar) -> Result<()> {
    inplace(
        t,
        &[],
        || raw::index_fill_(t, dim, idx, value),
        |old| index_fill(old, dim, idx, value),
    )
}

/// `t.index_fill_(dim, index, value)` with a 0-d tensor.
pub fn index_fill_tensor_(t: &Tensor, dim: i64, idx: &Tensor, value: &Tensor) -> Result<()> {
    inplace(
        t,
        &[value],
        || raw::index_fill_(t, dim, idx, value_of("index_fill_", value)?),
        |old| index_fill_tensor(old, dim, idx, value),
    )
}

// ---------------------------------------------------------------------------------------------
// gather / scatter

/// `torch.gather(t, dim, index)`: `GatherBackward0` = `scatter_add` into zeros.
pub fn gather(t: &Tensor, dim: i64, idx: &Tensor) -> Result<Tensor> {
    let out = raw::gather(t, dim, idx)?;
    let shape = t.shape().to_vec();
    Ok(record1(
        "GatherBackward0",
        &[t],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let z = zeros(&shape, &g)?;
            Ok(vec![Some(scatter_add(&z, dim, &a.saved(0)?, &g)?)])
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// take / take_along_dim / put

/// An index flattened to 1-D (0-d becomes one element).
fn flat_index(idx: &Tensor) -> Result<Tensor> {
    raw_shape::reshape(idx, &[-1])
}

/// `torch.take(t, index)`: `TakeBackward0` = accumulating `put` into zeros.
pub fn take(t: &Tensor, idx: &Tensor) -> Result<Tensor> {
    let out = raw::take(t, idx)?;
    let shape = t.shape().to_vec();
    Ok(record1(
        "TakeBackward0",
        &[t],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let n = shape.iter().product::<usize>();
            let z = zeros(&[n], &g)?;
            let items = [IndexItem::Tensor(flat_index(&a.saved(0)?)?)];
            let flat = index_put_items(&z, &items, &reshape(&g, &[-1])?, true)?;
            Ok(vec![Some(reshape(&flat, &dims_i64(&shape))?)])
        },
    ))
}

/// `torch.take_along_dim(t, indices, dim)`: `gather` on `t` broadcast against the indices
/// (flattened without `dim`), so its node is `GatherBackward0` as in torch.
pub fn take_along_dim(t: &Tensor, idx: &Tensor, dim: Option<i64>) -> Result<Tensor> {
    if !needs_grad(&[t]) {
        return raw::take_along_dim(t, idx, dim);
    }
    if idx.dtype() != DType::I64 {
        bail!(
            Runtime,
            "torch.take_along_dim(): dtype of indices should be Long but got {}",
            idx.dtype().name()
        );
    }
    let Some(dim) = dim else {
        return gather(&reshape(t, &[-1])?, 0, &flat_index(idx)?);
    };
    if t.ndim() != idx.ndim() {
        bail!(
            Runtime,
            "torch.take_along_dim(): input and indices should have the same number of \
             dimensions, but got {} dimensions for input, and {} dimensions for indices",
            t.ndim(),
            idx.ndim()
        );
    }
    let d = wrap_dim(dim, t.ndim(), "take_along_dim")?;
    if t.ndim() == 0 {
        return gather(t, 0, idx);
    }
    let (mut a, mut b) = (t.shape().to_vec(), idx.shape().to_vec());
    a[d] = 1;
    b[d] = 1;
    let mut s = broadcast_shapes(&a, &b, "take_along_dim")?;
    s[d] = t.shape()[d];
    let te = expand_to(t, &s)?;
    s[d] = idx.shape()[d];
    let ie = raw_shape::broadcast_to(idx, &s)?;
    gather(&te, d as i64, &ie)
}

/// Checks of `put`: an int64 index in range of `t`'s elements, a source with as many elements.
fn check_put(t: &Tensor, idx: &Tensor, source: &Tensor) -> Result<()> {
    if idx.dtype() != DType::I64 {
        bail!(
            Runtime,
            "put_(): Expected a long tensor for index, but got {}",
            idx.dtype().name()
        );
    }
    if source.dtype() != t.dtype() {
        bail!(
            Runtime,
            "put_(): self and source expected to have the same dtype, but got self.dtype = {} \
             and source.dtype = {}",
            t.dtype().name(),
            source.dtype().name()
        );
    }
    if source.numel() != idx.numel() {
        bail!(
            Runtime,
            "put_(): Expected source and index to have the same number of elements, but got \
             source.numel() = {}, index.numel() = {}",
            source.numel(),
            idx.numel()
        );
    }
    Ok(())
}

/// `t.put_(index, source, accumulate)` without autograd: writes through a flat view when `t`
/// is contiguous, else through a contiguous copy written back.
pub fn put_raw(t: &Tensor, idx: &Tensor, source: &Tensor, accumulate: bool) -> Result<()> {
    check_put(t, idx, source)?;
    let n = t.numel() as i64;
    let flat_idx = flat_index(idx)?;
    if let Some(&i) = flat_idx.to_vec::<i64>().iter().find(|&&i| i < -n || i >= n) {
        bail!(
            Index,
            "out of range: tried to access index {i} on a tensor of {n} elements."
        );
    }
    let work = if t.is_contiguous() {
        t.clone()
    } else {
        t.copy_to_new(t.dtype())?
    };
    let flat = raw_shape::reshape(&work, &[-1])?;
    let src = raw_shape::reshape(source, &[-1])?;
    crate::ops::index::index_put_items(&flat, &[IndexItem::Tensor(flat_idx)], &src, accumulate)?;
    if !t.is_contiguous() {
        t.copy_(&work)?;
    }
    Ok(())
}

/// `torch.put(t, index, source, accumulate)`: `PutBackward0`.
pub fn put(t: &Tensor, idx: &Tensor, source: &Tensor, accumulate: bool) -> Result<Tensor> {
    let out = copy_then(t, |o| put_raw(o, idx, source, accumulate))?;
    let sshape = source.shape().to_vec();
    Ok(record1(
        "PutBackward0",
        &[t, source],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let idx = a.saved(0)?;
            let gt = when(a.needs(0), || {
                if accumulate {
                    Ok(g.clone())
                } else {
                    let z = Tensor::zeros(&sshape, g.dtype(), g.device())?;
                    put(&g, &idx, &z, false)
                }
            })?;
            let gs = when(a.needs(1), || reshape(&take(&g, &idx)?, &dims_i64(&sshape)))?;
            Ok(vec![gt, gs])
        },
    ))
}

/// `t.put_(index, source, accumulate)`.
pub fn put_(t: &Tensor, idx: &Tensor, source: &Tensor, accumulate: bool) -> Result<()> {
    inplace(
        t,
        &[source],
        || put_raw(t, idx, source, accumulate),
        |old| put(old, idx, source, accumulate),
    )
}

/// `torch.bincount(input, weights, minlength)`: with float weights the counts are sums of
/// weights, whose gradient is the count's gradient read back at each input value.
pub fn bincount(input: &Tensor, weights: Option<&Tensor>, minlength: i64) -> Result<Tensor> {
    let out = crate::ops::index_search::bincount(input, weights, minlength)?;
    let Some(w) = weights else {
        return Ok(out);
    };
    if !needs_grad(&[w]) {
        return Ok(out);
    }
    Ok(record1(
        "BincountBackward0",
        &[w],
        out,
        vec![Save::Tensor(input.to_dtype(DType::I64)?)],
        |a: &BackwardArgs| {
            let g = a.grad(0)?;
            Ok(vec![Some(index_select(&g, 0, &a.saved(0)?)?)])
        },
    ))
}
