//! `im2col` and `col2im` with their rules. Each is the other's adjoint, so each one's
//! gradient is the other applied to the incoming gradient (`Im2ColBackward0`,
//! `Col2ImBackward0`), and both differentiate any number of times.

use crate::autograd::node::BackwardArgs;
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::conv::{self as raw, Window};
use crate::tensor::Tensor;

/// `F.unfold` for 1, 2 or 3 spatial dims: `(N, C, *spatial)` -> `(N, C * prod(kernel), L)`.
pub fn im2col(x: &Tensor, w: &Window) -> Result<Tensor> {
    let out = raw::im2col(x, w)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let (size, w) = (x.shape()[2..].to_vec(), w.clone());
    Ok(record1(
        "Im2ColBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(col2im(&a.grad(0)?, &size, &w)?)]),
    ))
}

/// `F.fold` for 1, 2 or 3 spatial dims: `(N, C * prod(kernel), L)` -> `(N, C, *output_size)`.
pub fn col2im(cols: &Tensor, output_size: &[usize], w: &Window) -> Result<Tensor> {
    let out = raw::col2im(cols, output_size, w)?;
    if !needs_grad(&[cols]) {
        return Ok(out);
    }
    let w = w.clone();
    Ok(record1(
        "Col2ImBackward0",
        &[cols],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(im2col(&a.grad(0)?, &w)?)]),
    ))
}
