//! Views and shape ops. Views record through [`crate::autograd::view::record_view`], whose
//! one rule (scatter into the viewed region) serves every view op.

use crate::autograd::view::record_view;
use crate::error::Result;
use crate::ops::shape as raw;
use crate::tensor::Tensor;

/// `reshape(shape)`: a view when the strides allow, else a copy.
pub fn reshape(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let out = raw::reshape(x, shape)?;
    let name = if out.view_base().is_some() {
        "ViewBackward0"
    } else {
        "UnsafeViewBackward0"
    };
    let dims = shape.to_vec();
    record_view(name, x, out, move |p| raw::reshape(p, &dims))
}

/// `view(shape)`.
pub fn view(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let out = raw::view(x, shape)?;
    let dims = shape.to_vec();
    record_view("ViewBackward0", x, out, move |p| raw::view(p, &dims))
}

/// `expand(shape)` with sizes given as `usize` (no -1).
pub fn expand_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if x.shape() == shape {
        return Ok(x.clone());
    }
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    expand(x, &dims)
}

/// `expand(shape)`.
pub fn expand(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let out = raw::expand(x, shape)?;
    let dims = shape.to_vec();
    record_view("ExpandBackward0", x, out, move |p| raw::expand(p, &dims))
}
