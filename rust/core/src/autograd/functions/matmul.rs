//! The matrix-product family and einsum, and their rules.

use super::when;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::record1;
use crate::error::Result;
use crate::ops::matmul as raw;
use crate::tensor::Tensor;

/// `mm(a, b)`: `ga = g @ b^T`, `gb = a^T @ g`.
pub fn mm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = raw::mm(a, b)?;
    let saves = vec![Save::Tensor(a.clone()), Save::Tensor(b.clone())];
    Ok(record1(
        "MmBackward0",
        &[a, b],
        out,
        saves,
        |x: &BackwardArgs| {
            let g = x.grad(0)?;
            Ok(vec![
                when(x.needs(0), || mm(&g, &t(&x.saved(1)?)?))?,
                when(x.needs(1), || mm(&t(&x.saved(0)?)?, &g))?,
            ])
        },
    ))
}

/// Transpose of a matrix, as a recorded view.
fn t(m: &Tensor) -> Result<Tensor> {
    let out = crate::ops::shape::transpose(m, 0, 1)?;
    crate::autograd::view::record_view("TBackward0", m, out, |p| {
        crate::ops::shape::transpose(p, 0, 1)
    })
}
