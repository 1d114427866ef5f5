//! Dim-wise index ops and their rules: `index_select`, `index_add`, `index_copy`,
//! `index_fill`, `gather`, `scatter` (src, value, reductions), `scatter_add`,
//! `scatter_reduce`, `take`, `take_along_dim`, `put`.
//!
//! The pairs gather/scatter_add, index_select/index_add and take/put(accumulate) are each
//! other's backward; duplicate indices therefore accumulate, as in torch.

use super::binary::{div, mul};
use super::index::{index_put_items, zeros_like};
use super::index_mask::masked_fill;
use super::shape::{expand_to, reshape};
use super::unary::where_;
use super::{number, when};
use crate::autograd::node::{BackwardArgs, Grads, Save};
use crate::autograd::record::{inplace, needs_grad, record1};
use crate::autograd::{is_grad_enabled, view};
use crate::bail;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{broadcast_shapes, contiguous_strides, wrap_dim, Layout};
use crate::ops::binary::{binary as raw_binary, BinaryOp};
use crate::ops::index::IndexItem;
use crate::ops::index_gather::{self as raw, Reduce};
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

/// A gradient gathered at the index positions, placed in zeros shaped like `src` when `src` is
/// larger than the index (scatter only reads `src` where the index is).
fn pad_to(g: Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape || g.ndim() != shape.len() {
        return Ok(g);
    }
    let region = Layout {
        shape: g.shape().to_vec(),
        strides: contiguous_strides(shape),
        offset: 0,
    };
    view::strided_scatter(&g, shape, &region)
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

/// `torch.scatter(t, dim, index, src)`: `ScatterBackward0`.
pub fn scatter(t: &Tensor, dim: i64, idx: &Tensor, src: &Tensor) -> Result<Tensor> {
    let out = raw::scatter(t, dim, idx, src, Reduce::Assign, true)?;
    let sshape = src.shape().to_vec();
    Ok(record1(
        "ScatterBackward0",
        &[t, src],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let idx = a.saved(0)?;
            Ok(vec![
                when(a.needs(0), || scatter_value(&g, dim, &idx, Scalar::Int(0)))?,
                when(a.needs(1), || pad_to(gather(&g, dim, &idx)?, &sshape))?,
            ])
        },
    ))
}

/// `torch.scatter(t, dim, index, value)` with a number: `ScatterBackward1`.
pub fn scatter_value(t: &Tensor, dim: i64, idx: &Tensor, value: Scalar) -> Result<Tensor> {
    let v = Tensor::scalar(value, t.dtype())?;
    let out = raw::scatter(t, dim, idx, &v, Reduce::Assign, true)?;
    Ok(record1(
        "ScatterBackward1",
        &[t],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            Ok(vec![Some(scatter_value(
                &g,
                dim,
                &a.saved(0)?,
                Scalar::Int(0),
            )?)])
        },
    ))
}

/// `t.scatter(dim, index, value, reduce='add'|'multiply')` with a number: each write adds
/// `value` (gradient 1) or multiplies by it (gradient `value ** hits`).
pub fn scatter_value_reduce(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    value: Scalar,
    reduce: Reduce,
) -> Result<Tensor> {
    if reduce == Reduce::Assign {
        return scatter_value(t, dim, idx, value);
    }
    let v = Tensor::scalar(value, t.dtype())?;
    let out = raw::scatter(t, dim, idx, &v, reduce, true)?;
    let shape = t.shape().to_vec();
    Ok(record1(
        "ScatterReduceBackward0",
        &[t],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            if reduce != Reduce::Prod {
                return Ok(vec![Some(g)]);
            }
            let ones = Tensor::full(&shape, Scalar::Int(1), g.dtype(), g.device())?;
            let v = Tensor::scalar(value, g.dtype())?;
            let factor = raw::scatter(&ones, dim, &a.saved(0)?, &v, Reduce::Prod, true)?;
            Ok(vec![Some(mul(&g, &factor)?)])
        },
    ))
}

/// `torch.scatter_add(t, dim, index, src)`: `ScatterAddBackward0`.
pub fn scatter_add(t: &Tensor, dim: i64, idx: &Tensor, src: &Tensor) -> Result<Tensor> {
    let out = raw::scatter(t, dim, idx, src, Reduce::Sum, true)?;
    let sshape = src.shape().to_vec();
    Ok(record1(
        "ScatterAddBackward0",
        &[t, src],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let gs = when(a.needs(1), || {
                pad_to(gather(&g, dim, &a.saved(0)?)?, &sshape)
            })?;
            Ok(vec![Some(g), gs])
        },
    ))
}

/// `torch.scatter_reduce(t, dim, index, src, reduce, include_self=...)`:
/// `ScatterReduceBackward0` with torch's rules (ties of amax/amin share the gradient evenly,
/// prod handles zeros exactly).
pub fn scatter_reduce(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    src: &Tensor,
    reduce: Reduce,
    include_self: bool,
) -> Result<Tensor> {
    if reduce == Reduce::Assign {
        return scatter(t, dim, idx, src);
    }
    let out = raw::scatter(t, dim, idx, src, reduce, include_self)?;
    let saves = vec![
        Save::Tensor(t.clone()),
        Save::Tensor(idx.clone()),
        Save::Tensor(src.clone()),
        Save::Output(0),
    ];
    Ok(record1(
        "ScatterReduceBackward0",
        &[t, src],
        out,
        saves,
        move |a: &BackwardArgs| scatter_reduce_grads(a, dim, reduce, include_self),
    ))
}

fn cmp(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    raw_binary(op, a, b)
}

/// A mask as 0/1 values of `like`'s dtype (a constant).
fn as_values(mask: &Tensor, like: &Tensor) -> Result<Tensor> {
    mask.to_dtype(like.dtype())
}

/// `scatter(zeros(shape), dim, index, src, Sum)` on constants.
fn count_into(base: &Tensor, dim: i64, idx: &Tensor, src: &Tensor) -> Result<Tensor> {
    raw::scatter(base, dim, idx, src, Reduce::Sum, true)
}

fn scatter_reduce_grads(
    a: &BackwardArgs,
    dim: i64,
    reduce: Reduce,
    include_self: bool,
) -> Result<Grads> {
    use BinaryOp::{Eq, LogicalAnd};
    let g = a.grad(0)?;
    let (t, idx, src) = (a.saved(0)?, a.saved(1)?, a.saved(2)?);
    let zero = number(0.0)?;
    let (gself, gsrc) = match reduce {
        Reduce::Sum | Reduce::Assign => (g.clone(), gather(&g, dim, &idx)?),
        Reduce::Mean => {
            let fill = if include_self { 1 } else { 0 };
            let n = Tensor::full(g.shape(), Scalar::Int(fill), g.dtype(), g.device())?;
            let ones = Tensor::full(idx.shape(), Scalar::Int(1), g.dtype(), g.device())?;
            let n = count_into(&n, dim, &idx, &ones)?;
            crate::ops::index_mask::masked_fill_(&n, &cmp(Eq, &n, &zero)?, Scalar::Int(1))?;
            let n_src = raw::gather(&n, dim, &idx)?;
            (div(&g, &n)?, div(&gather(&g, dim, &idx)?, &n_src)?)
        }
        Reduce::Amax | Reduce::Amin => {
            // Ties share the gradient evenly between self and every src value that won.
            let result = a.saved(3)?;
            let value = raw::gather(&result, dim, &idx)?;
            let self_won = cmp(Eq, &t, &result)?;
            let src_won = cmp(Eq, &leading(&src, idx.shape())?, &value)?;
            let n = count_into(
                &as_values(&self_won, &g)?,
                dim,
                &idx,
                &as_values(&src_won, &g)?,
            )?;
            let share = div(&g, &n)?;
            (
                where_(&self_won, &share, &zero)?,
                where_(&src_won, &gather(&share, dim, &idx)?, &zero)?,
            )
        }
        Reduce::Prod => {
            // Zeros of self: recompute the product with them as 1 (the product of the others).
            let masked_self = masked_fill(&t, &cmp(Eq, &t, &zero)?, Scalar::Int(1))?;
            let masked_result =
                scatter_reduce(&masked_self, dim, &idx, &src, reduce, include_self)?;
            let gself = div(&mul(&g, &masked_result)?, &masked_self)?;
            // A lone zero of src: its gradient is the product of the others; two or more
            // zeros at one position make every gradient there zero.
            let src_zero = cmp(Eq, &src, &zero)?;
            let zeros_per = count_into(&zeros_like(&t)?, dim, &idx, &as_values(&src_zero, &t)?)?;
            let zeros_at = raw::gather(&zeros_per, dim, &idx)?;
            let src_zero_i = leading(&src_zero, idx.shape())?;
            let single = cmp(LogicalAnd, &src_zero_i, &cmp(Eq, &zeros_at, &number(1.0)?)?)?;
            let src_i = narrow_diff(&src, idx.shape())?;
            let masked_src = masked_fill(&src_i, &single, Scalar::Int(1))?;
            let masked_src_result =
                scatter_reduce(&t, dim, &idx, &masked_src, reduce, include_self)?;
            let result = a.saved(3)?;
            let lone = gather(&mul(&g, &masked_src_result)?, dim, &idx)?;
            let rest = div(
                &gather(&mul(&g, &result)?, dim, &idx)?,
                &masked_fill(&src_i, &src_zero_i, Scalar::Int(1))?,
            )?;
            let mut gsrc = where_(&single, &lone, &rest)?;
            let several = zeros_at.to_vec::<f64>().iter().any(|&c| c > 1.0);
            if several && is_grad_enabled() {
                gsrc = delayed_error(
                    gsrc,
                    "scatter_reduce(): Double backward is unsupported for src when >1 zeros in \
                     src are scattered to the same position. Please open an issue on github \
                     if you need this feature.",
                );
            }
            (gself, gsrc)
        }
    };
    let gself = if include_self {
        gself
    } else {
        scatter_value(&gself, dim, &idx, Scalar::Int(0))?
    };
    let sshape = src.shape().to_vec();
    Ok(vec![
        when(a.needs(0), || Ok(gself))?,
        when(a.needs(1), || pad_to(gsrc, &sshape))?,
    ])
}

/// The leading `shape` block of `t` (same ndim, no larger in any dim): the part of `src` that
/// scatter reads when the index is smaller.
fn leading(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if t.shape() == shape {
        return Ok(t.clone());
    }
    t.view_with(Layout {
        shape: shape.to_vec(),
        strides: t.strides().to_vec(),
        offset: t.offset(),
    })
}

/// [`leading`], recorded as a view.
fn narrow_diff(src: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if src.shape() == shape {
        return Ok(src.clone());
    }
    let out = leading(src, shape)?;
    let shape = shape.to_vec();
    view::record_view("SliceBackward0", src, out, move |p| leading(p, &shape))
}

/// `t` unchanged, but differentiating it again fails with `msg` (torch's `DelayedError`).
fn delayed_error(t: Tensor, msg: &'static str) -> Tensor {
    record1(
        "DelayedError",
        &[&t],
        t.clone(),
        vec![],
        move |_: &BackwardArgs| Err(Error::runtime(msg)),
    )
}

/// `t.scatter_(dim, index, src)` (`reduce` 'add'/'multiply' as `scatter_reduce` with self).
pub fn scatter_(t: &Tensor, dim: i64, idx: &Tensor, src: &Tensor, reduce: Reduce) -> Result<()> {
    inplace(
        t,
        &[src],
        || raw::scatter_(t, dim, idx, src, reduce, true),
        |old| scatter_reduce(old, dim, idx, src, reduce, true),
    )
}

/// `t.scatter_(dim, index, value)` with a number (and optional reduce).
pub fn scatter_value_(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    value: Scalar,
    reduce: Reduce,
) -> Result<()> {
    inplace(
        t,
        &[],
        || {
            raw::scatter_(
                t,
                dim,
                idx,
                &Tensor::scalar(value, t.dtype())?,
                reduce,
                true,
            )
        },
        |old| scatter_value_reduce(old, dim, idx, value, reduce),
    )
}

/// `t.scatter_add_(dim, index, src)`.
pub fn scatter_add_(t: &Tensor, dim: i64, idx: &Tensor, src: &Tensor) -> Result<()> {
    inplace(
        t,
        &[src],
        || raw::scatter_(t, dim, idx, src, Reduce::Sum, true),
        |old| scatter_add(old, dim, idx, src),
    )
}

/// `t.scatter_reduce_(dim, index, src, reduce, include_self=...)`.
pub fn scatter_reduce_(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    src: &Tensor,
    reduce: Reduce,
    include_self: bool,
) -> Result<()> {
    inplace(
        t,
        &[src],
        || raw::scatter_(t, dim, idx, src, reduce, include_self),
        |old| scatter_reduce(old, dim, idx, src, reduce, include_self),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_places_gradient_in_leading_block() {
        let g = Tensor::from_vec(vec![1.0f64, 2.0], &[1, 2]).unwrap();
        let p = pad_to(g, &[2, 3]).unwrap();
        assert_eq!(p.to_vec::<f64>(), vec![1.0, 2.0, 0.0, 0.0, 0.0, 0.0]);
    }
}
