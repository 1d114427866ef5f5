//! softmax and log_softmax and their rules (`SoftmaxBackward0`, `LogSoftmaxBackward0`, saving
//! the output, as torch). The rule runs the fused backward kernel; when the backward is itself
//! being recorded (`create_graph=True` with a gradient or output that requires grad) it uses the
//! same formula written with differentiable ops, so it can be differentiated again.

use super::binary::{mul, sub};
use super::reduce::sum;
use super::unary::exp;
use crate::autograd::autocast;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::softmax as raw;
use crate::tensor::Tensor;

/// `softmax(x, dim)`: the rule is `y * (g - sum(g * y, dim))` at the saved output `y`.
pub fn softmax(x: &Tensor, dim: i64) -> Result<Tensor> {
    if let Some([Some(x)]) = autocast::float32([Some(x)])? {
        return softmax(&x, dim);
    }
    record_softmax(x, raw::softmax(x, dim)?, dim, false)
}

/// `softmax` over the last dim under SDPA's causal mask (`ops::softmax::causal_softmax`), with
/// softmax's rule: the masked entries are 0 in the saved output, so their gradient is 0.
/// Not autocast: it is a part of attention, which keeps its inputs' dtype.
pub fn causal_softmax(x: &Tensor) -> Result<Tensor> {
    record_softmax(x, raw::causal_softmax(x)?, -1, true)
}

fn record_softmax(x: &Tensor, out: Tensor, dim: i64, causal: bool) -> Result<Tensor> {
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    Ok(record1(
        "SoftmaxBackward0",
        &[x],
        out,
        vec![Save::Output(0)],
        move |a: &BackwardArgs| {
            let (g, y) = (a.grad(0)?, a.saved(0)?);
            let dx = if needs_grad(&[&g, &y]) {
                let dot = sum(&mul(&g, &y)?, Some(&[dim]), true, None)?;
                mul(&y, &sub(&g, &dot)?)?
            } else if causal {
                raw::causal_softmax_backward(&g, &y)?
            } else {
                raw::softmax_backward_data(&g, &y, dim)?
            };
            Ok(vec![Some(dx)])
        },
    ))
}

/// `log_softmax(x, dim)`: the rule is `g - exp(y) * sum(g, dim)` at the saved output `y`.
pub fn log_softmax(x: &Tensor, dim: i64) -> Result<Tensor> {
    if let Some([Some(x)]) = autocast::float32([Some(x)])? {
        return log_softmax(&x, dim);
    }
    let out = raw::log_softmax(x, dim)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    Ok(record1(
        "LogSoftmaxBackward0",
        &[x],
        out,
        vec![Save::Output(0)],
        move |a: &BackwardArgs| {
            let (g, y) = (a.grad(0)?, a.saved(0)?);
            let dx = if needs_grad(&[&g, &y]) {
                let total = sum(&g, Some(&[dim]), true, None)?;
                sub(&g, &mul(&exp(&y)?, &total)?)?
            } else {
                raw::log_softmax_backward_data(&g, &y, dim)?
            };
            Ok(vec![Some(dx)])
        },
    ))
}
