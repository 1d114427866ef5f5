//! Reductions and their rules.

use super::shape::{expand_to, reshape};
use crate::autograd::node::BackwardArgs;
use crate::autograd::record::record1;
use crate::dtype::DType;
use crate::error::Result;
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
    let dims: Vec<i64> = in_shape
        .iter()
        .zip(mask)
        .map(|(&n, &m)| if m { 1 } else { n as i64 })
        .collect();
    reshape(g, &dims)
}

/// `sum(x, dims, keepdim, dtype)`.
pub fn sum(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let out = raw::sum(x, dims, keepdim, dtype)?;
    let shape = x.shape().to_vec();
    let mask = raw::reduce_mask(x.ndim(), dims, "sum")?;
    Ok(record1(
        "SumBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| {
            let g = unsqueeze_reduced(&a.grad(0)?, &shape, &mask, keepdim)?;
            Ok(vec![Some(expand_to(&g, &shape)?)])
        },
    ))
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
