//! Max and average pooling with their rules, named as torch's nodes (1-d pooling is 2-d
//! pooling in torch, so it records the 2-d names).
//!
//! Max pooling's gradient scatters into the positions its indices name; that scatter is
//! linear in the gradient, and its own gradient gathers at the same indices. Average
//! pooling's gradient is linear too, and its gradient is average pooling again. So every
//! order of derivative is available.

use super::index_gather::gather;
use super::number;
use super::shape::reshape;
use super::unary::where_;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record, record1};
use crate::error::Result;
use crate::ops::binary::{binary, BinaryOp};
use crate::ops::conv::Window;
use crate::ops::pool::{self as raw, AvgPool};
use crate::ops::shape as raw_shape;
use crate::tensor::Tensor;

fn dims_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// torch's node names for pooling over `nd` spatial dims.
fn names(nd: usize) -> (&'static str, &'static str, &'static str, &'static str) {
    if nd == 3 {
        (
            "MaxPool3DWithIndicesBackward0",
            "MaxPool3DWithIndicesBackwardBackward0",
            "AvgPool3DBackward0",
            "AvgPool3DBackwardBackward0",
        )
    } else {
        (
            "MaxPool2DWithIndicesBackward0",
            "MaxPool2DWithIndicesBackwardBackward0",
            "AvgPool2DBackward0",
            "AvgPool2DBackwardBackward0",
        )
    }
}

/// `max_pool{1,2,3}d(x, ..., return_indices=True)`: values and int64 indices (flat positions
/// within each input plane).
pub fn max_pool_with_indices(x: &Tensor, w: &Window, ceil_mode: bool) -> Result<(Tensor, Tensor)> {
    let (values, indices) = raw::max_pool_with_indices(x, w, ceil_mode)?;
    if !needs_grad(&[x]) {
        return Ok((values, indices));
    }
    let (shape, w) = (x.shape().to_vec(), w.clone());
    let saves = vec![Save::Tensor(indices.clone())];
    let mut outs = record(
        names(w.nd()).0,
        &[x],
        vec![values, indices],
        saves,
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            Ok(vec![Some(max_pool_backward(&g, &a.saved(0)?, &shape, &w)?)])
        },
    );
    let indices = outs.pop().expect("record returns its two outputs");
    let values = outs.pop().expect("record returns its two outputs");
    Ok((values, indices))
}

/// The gradient of max pooling with respect to its input (of `input_shape`): `grad` added at
/// the positions `indices` name. Its own gradient gathers at those positions.
pub fn max_pool_backward(
    grad: &Tensor,
    indices: &Tensor,
    input_shape: &[usize],
    w: &Window,
) -> Result<Tensor> {
    let out = raw::max_pool_backward(grad, indices, input_shape, w)?;
    if !needs_grad(&[grad]) {
        return Ok(out);
    }
    let nd = w.nd();
    Ok(record1(
        names(nd).1,
        &[grad],
        out,
        vec![Save::Tensor(indices.clone())],
        move |a: &BackwardArgs| {
            let gg = a.grad(0)?;
            Ok(vec![Some(pick(&gg, &a.saved(0)?, nd)?)])
        },
    ))
}

/// `x[plane, indices[plane, o]]` for every window `o`, zero where the index is -1 (a window
/// over padding only): the adjoint of the scatter of [`max_pool_backward`].
fn pick(x: &Tensor, indices: &Tensor, nd: usize) -> Result<Tensor> {
    let split = indices.ndim() - nd;
    let planes = indices.shape()[..split].iter().product::<usize>() as i64;
    let flat_x = reshape(x, &[planes, -1])?;
    let flat_i = raw_shape::reshape(indices, &[planes, -1])?;
    let zero = Tensor::wrapped_scalar(crate::Scalar::Int(0))?;
    let safe = binary(BinaryOp::Maximum, &flat_i, &zero)?;
    let valid = binary(BinaryOp::Ge, &flat_i, &zero)?;
    let picked = where_(&valid, &gather(&flat_x, 1, &safe)?, &number(0.0)?)?;
    reshape(&picked, &dims_i64(indices.shape()))
}

/// `avg_pool{1,2,3}d`.
pub fn avg_pool(x: &Tensor, p: &AvgPool) -> Result<Tensor> {
    let out = raw::avg_pool(x, p)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let (shape, p) = (x.shape().to_vec(), p.clone());
    Ok(record1(
        names(p.window.nd()).2,
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(avg_pool_backward(&a.grad(0)?, &shape, &p)?)]),
    ))
}

/// The gradient of average pooling with respect to its input (of `input_shape`); its own
/// gradient is average pooling of the incoming gradient.
pub fn avg_pool_backward(grad: &Tensor, input_shape: &[usize], p: &AvgPool) -> Result<Tensor> {
    let out = raw::avg_pool_backward(grad, input_shape, p)?;
    if !needs_grad(&[grad]) {
        return Ok(out);
    }
    let p = p.clone();
    Ok(record1(
        names(p.window.nd()).3,
        &[grad],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(avg_pool(&a.grad(0)?, &p)?)]),
    ))
}
