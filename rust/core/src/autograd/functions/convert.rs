//! dtype conversions and copies.

use crate::autograd::node::BackwardArgs;
use crate::autograd::record::record1;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// `x.to(dtype)`: `x` itself when it already has that dtype (no node, as in torch).
pub fn to_dtype(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    let out = x.copy_to_new(dtype)?;
    if !dtype.is_floating_point() {
        return Ok(out);
    }
    let from = x.dtype();
    Ok(record1(
        "ToCopyBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(to_dtype(&a.grad(0)?, from)?)]),
    ))
}

/// `x.clone()`: a copy with the same layout rules as torch's `clone()`.
pub fn clone(x: &Tensor, format: crate::ops::convert::MemoryFormat) -> Result<Tensor> {
    let out = crate::ops::convert::clone(x, format)?;
    Ok(record1(
        "CloneBackward0",
        &[x],
        out,
        vec![],
        |a: &BackwardArgs| Ok(vec![Some(a.grad(0)?)]),
    ))
}

/// `x.contiguous()`: `x` itself when already contiguous.
pub fn contiguous(x: &Tensor) -> Result<Tensor> {
    if x.is_contiguous() {
        return Ok(x.clone());
    }
    clone(x, crate::ops::convert::MemoryFormat::Contiguous)
}
