//! Mask ops and their rules: `masked_fill` (number or 0-d tensor value), `masked_select`,
//! `masked_scatter`. `masked_select` and `masked_scatter` are each other's backward.

use super::reduce::sum;
use super::shape::reshape;
use super::unary::where_;
use super::{number, when};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{inplace, record1};
use crate::autograd::view;
use crate::bail;
use crate::error::Result;
use crate::layout::{broadcast_shapes, Layout};
use crate::ops::index_mask as raw;
use crate::tensor::Tensor;
use crate::Scalar;

/// `torch.masked_fill(t, mask, value)` with a number: `MaskedFillBackward0`.
pub fn masked_fill(t: &Tensor, mask: &Tensor, value: Scalar) -> Result<Tensor> {
    let out = raw::masked_fill(t, mask, value)?;
    Ok(record1(
        "MaskedFillBackward0",
        &[t],
        out,
        vec![Save::Tensor(mask.clone())],
        |a: &BackwardArgs| {
            let g = a.grad(0)?;
            Ok(vec![Some(masked_fill(&g, &a.saved(0)?, Scalar::Int(0))?)])
        },
    ))
}

/// The value of a 0-d `value` tensor argument, checked as torch checks it.
fn value_of(value: &Tensor) -> Result<Scalar> {
    if value.ndim() != 0 {
        bail!(
            Runtime,
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {} \
             dimension(s).",
            value.ndim()
        );
    }
    value.item()
}

/// `torch.masked_fill(t, mask, value)` with a 0-d tensor `value`: `MaskedFillBackward1`; the
/// value's gradient is the sum of the gradient where the mask holds.
pub fn masked_fill_tensor(t: &Tensor, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
    let out = raw::masked_fill(t, mask, value_of(value)?)?;
    Ok(record1(
        "MaskedFillBackward1",
        &[t, value],
        out,
        vec![Save::Tensor(mask.clone())],
        |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let mask = a.saved(0)?;
            Ok(vec![
                when(a.needs(0), || masked_fill(&g, &mask, Scalar::Int(0)))?,
                when(a.needs(1), || {
                    sum(&where_(&mask, &g, &number(0.0)?)?, None, false, None)
                })?,
            ])
        },
    ))
}

/// `t.masked_fill_(mask, value)` with a number.
pub fn masked_fill_(t: &Tensor, mask: &Tensor, value: Scalar) -> Result<()> {
    inplace(
        t,
        &[],
        || raw::masked_fill_(t, mask, value),
        |old| masked_fill(old, mask, value),
    )
}

/// `t.masked_fill_(mask, value)` with a 0-d tensor.
pub fn masked_fill_tensor_(t: &Tensor, mask: &Tensor, value: &Tensor) -> Result<()> {
    inplace(
        t,
        &[value],
        || raw::masked_fill_(t, mask, value_of(value)?),
        |old| masked_fill_tensor(old, mask, value),
    )
}

/// `torch.masked_select(t, mask)`: `MaskedSelectBackward0` = `masked_scatter` into zeros of
/// the broadcast shape.
pub fn masked_select(t: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let out = raw::masked_select(t, mask)?;
    let shape = broadcast_shapes(t.shape(), mask.shape(), "masked_select")?;
    Ok(record1(
        "MaskedSelectBackward0",
        &[t],
        out,
        vec![Save::Tensor(mask.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let z = Tensor::zeros(&shape, g.dtype(), g.device())?;
            Ok(vec![Some(masked_scatter(&z, &a.saved(0)?, &g)?)])
        },
    ))
}

/// torch's `masked_scatter_backward`: the gradient at the masked positions, in order, padded
/// with zeros to the source's size and shaped like it.
fn masked_scatter_backward(g: &Tensor, mask: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let sel = masked_select(g, mask)?;
    let numel: usize = shape.iter().product();
    let k = sel.numel();
    let full = if k < numel {
        let region = Layout {
            shape: vec![k],
            strides: vec![1],
            offset: 0,
        };
        view::strided_scatter(&sel, &[numel], &region)?
    } else {
        sel
    };
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    reshape(&full, &dims)
}

/// `torch.masked_scatter(t, mask, source)`: `MaskedScatterBackward0`.
pub fn masked_scatter(t: &Tensor, mask: &Tensor, source: &Tensor) -> Result<Tensor> {
    let out = raw::masked_scatter(t, mask, source)?;
    let sshape = source.shape().to_vec();
    Ok(record1(
        "MaskedScatterBackward0",
        &[t, source],
        out,
        vec![Save::Tensor(mask.clone())],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let mask = a.saved(0)?;
            Ok(vec![
                when(a.needs(0), || masked_fill(&g, &mask, Scalar::Int(0)))?,
                when(a.needs(1), || masked_scatter_backward(&g, &mask, &sshape))?,
            ])
        },
    ))
}

/// `t.masked_scatter_(mask, source)`.
pub fn masked_scatter_(t: &Tensor, mask: &Tensor, source: &Tensor) -> Result<()> {
    inplace(
        t,
        &[source],
        || raw::masked_scatter_(t, mask, source),
        |old| masked_scatter(old, mask, source),
    )
}
