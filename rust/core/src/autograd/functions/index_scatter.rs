//! The scatter family and its rules: `scatter` (src, value, `reduce=`), `scatter_add`,
//! `scatter_reduce` (sum, prod, mean, amax, amin) and their in-place forms.

use super::binary::{div, mul};
use super::index::zeros_like;
use super::index_gather::gather;
use super::index_mask::masked_fill;
use super::unary::where_;
use super::{number, when};
use crate::autograd::node::{BackwardArgs, Grads, Save};
use crate::autograd::record::{inplace, record1};
use crate::autograd::{is_grad_enabled, view};
use crate::error::{Error, Result};
use crate::layout::{contiguous_strides, Layout};
use crate::ops::binary::{binary as raw_binary, BinaryOp};
use crate::ops::index_gather::{self as raw, Reduce};
use crate::tensor::Tensor;
use crate::Scalar;

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
