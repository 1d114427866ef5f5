//! In-place writes that belong to no op family: `copy_`, `fill_`, `zero_`.

use super::convert::to_dtype;
use super::shape::expand_to;
use crate::autograd::record::inplace;
use crate::error::Result;
use crate::ops::convert::{copy_into, fill_checked};
use crate::tensor::Tensor;
use crate::Scalar;

/// `dst.copy_(src)`: `src` broadcast to `dst`'s shape and cast to its dtype; the gradient goes
/// to `src` (summed over the broadcast), none to `dst`'s old value.
pub fn copy_(dst: &Tensor, src: &Tensor) -> Result<()> {
    inplace(
        dst,
        &[src],
        || copy_into(dst, src),
        |old| expand_to(&to_dtype(src, old.dtype())?, old.shape()),
    )
}

/// `t.fill_(value)`: the old values get no gradient.
pub fn fill_(t: &Tensor, value: Scalar) -> Result<()> {
    inplace(
        t,
        &[],
        || fill_checked(t, value),
        |old| {
            fill_checked(old, value)?;
            Ok(old.detach())
        },
    )
}

/// `t.zero_()`.
pub fn zero_(t: &Tensor) -> Result<()> {
    fill_(t, Scalar::Int(0))
}
