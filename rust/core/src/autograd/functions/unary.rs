//! Unary and ternary elementwise ops and their rules.

use super::binary::{div, mul};
use super::when;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::{unary, unary_misc, unary_ternary};
use crate::tensor::Tensor;

/// `-x`.
pub fn neg(x: &Tensor) -> Result<Tensor> {
    let out = unary_misc::neg(x, None)?;
    Ok(record1(
        "NegBackward0",
        &[x],
        out,
        vec![],
        |a: &BackwardArgs| Ok(vec![Some(neg(&a.grad(0)?)?)]),
    ))
}

/// `exp(x)`; the rule reuses the saved result.
pub fn exp(x: &Tensor) -> Result<Tensor> {
    let out = unary::exp(x, None)?;
    Ok(record1(
        "ExpBackward0",
        &[x],
        out,
        vec![Save::Output(0)],
        |a: &BackwardArgs| Ok(vec![Some(mul(&a.grad(0)?, &a.saved(0)?)?)]),
    ))
}

/// `log(x)`.
pub fn log(x: &Tensor) -> Result<Tensor> {
    let out = unary::log(x, None)?;
    Ok(record1(
        "LogBackward0",
        &[x],
        out,
        vec![Save::Tensor(x.clone())],
        |a: &BackwardArgs| Ok(vec![Some(div(&a.grad(0)?, &a.saved(0)?)?)]),
    ))
}

/// `isnan(x)`: a bool mask, never recorded.
pub fn isnan(x: &Tensor) -> Result<Tensor> {
    unary_misc::isnan(x, None)
}

/// `where(condition, a, b)`.
pub fn where_(condition: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = unary_ternary::where_(condition, a, b, None)?;
    if !needs_grad(&[a, b]) {
        return Ok(out);
    }
    let saves = vec![Save::Tensor(condition.clone())];
    Ok(record1(
        "WhereBackward0",
        &[condition, a, b],
        out,
        saves,
        |x: &BackwardArgs| {
            let g = x.grad(0)?;
            let c = x.saved(0)?;
            let zero = super::number(0.0)?;
            Ok(vec![
                None,
                when(x.needs(1), || where_(&c, &g, &zero))?,
                when(x.needs(2), || where_(&c, &zero, &g))?,
            ])
        },
    ))
}
