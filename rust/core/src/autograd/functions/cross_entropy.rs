//! Fused cross entropy from logits (`ops::cross_entropy`) and its rule. The node is named as
//! torch's last node of `cross_entropy`, `NllLossBackward0`. The rule runs the fused backward
//! kernel; when the backward is itself recorded (`create_graph=True` with a gradient or input
//! that requires grad) it writes the same gradient, `w * (softmax(x) - one_hot(t))`, with
//! differentiable ops, so it can be differentiated again.

use super::binary::{div, mul, sub};
use super::convert::to_dtype;
use super::shape::{expand, unsqueeze};
use super::softmax::softmax;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::binary::{binary, BinaryOp};
use crate::ops::cross_entropy::{self as raw, RowStats};
use crate::ops::index_search::one_hot;
use crate::ops::loss::Reduction;
use crate::tensor::Tensor;

/// `cross_entropy(x, target, ignore_index=, reduction=)` for `(N, C)` logits and `(N,)` int64
/// class indices, without class weights or label smoothing. The loss is in the compute dtype
/// (float32, or float64 for float64 logits).
pub fn cross_entropy(
    x: &Tensor,
    target: &Tensor,
    ignore_index: i64,
    reduction: Reduction,
) -> Result<Tensor> {
    let (rows, stats) = raw::cross_entropy_rows(x, target, ignore_index)?;
    let (out, count) = raw::reduce(&rows, target, ignore_index, reduction)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let mut saves = vec![
        Save::Tensor(x.clone()),
        Save::Tensor(target.clone()),
        Save::Tensor(stats.max),
        Save::Tensor(stats.log_sum),
    ];
    saves.extend(count.map(Save::Tensor));
    let n = x.shape()[0];
    Ok(record1(
        "NllLossBackward0",
        &[x],
        out,
        saves,
        move |a: &BackwardArgs| {
            let (g, x, t) = (a.grad(0)?, a.saved(0)?, a.saved(1)?);
            let count = match reduction {
                Reduction::Mean => Some(a.saved(4)?),
                _ => None,
            };
            if needs_grad(&[&g, &x]) {
                let dx = recorded_grad(&g, &x, &t, ignore_index, reduction, count.as_ref())?;
                return Ok(vec![Some(dx)]);
            }
            let stats = RowStats {
                max: a.saved(2)?,
                log_sum: a.saved(3)?,
            };
            let acc = raw::compute_dtype(x.dtype());
            let w = raw::row_grads(&g, n, acc, reduction, count.as_ref())?;
            let dx = raw::cross_entropy_backward(&x, &t, ignore_index, &stats, &w)?;
            Ok(vec![Some(dx)])
        },
    ))
}

/// The rule with differentiable ops (in `g` and `x`): `w * (softmax(x) - one_hot(t))`, `w` the
/// rows' shares of `g` and 0 on ignored rows, in the compute dtype, cast to `x`'s.
fn recorded_grad(
    g: &Tensor,
    x: &Tensor,
    t: &Tensor,
    ignore_index: i64,
    reduction: Reduction,
    count: Option<&Tensor>,
) -> Result<Tensor> {
    let acc = raw::compute_dtype(x.dtype());
    let (n, classes) = (x.shape()[0], x.shape()[1]);
    let kept = raw::kept(t, ignore_index)?;
    // Ignored rows pick class 0 here; their weight below is 0.
    let picked = binary(BinaryOp::Mul, t, &kept)?;
    let target = one_hot(&picked, classes as i64)?.to_dtype(acc)?;
    let mut w = to_dtype(g, acc)?;
    if let Some(count) = count {
        w = div(&w, count)?;
    }
    if reduction != Reduction::None {
        w = expand(&w, &[n as i64])?;
    }
    let w = mul(&w, &kept.to_dtype(acc)?)?;
    let p = softmax(&to_dtype(x, acc)?, 1)?;
    to_dtype(&mul(&sub(&p, &target)?, &unsqueeze(&w, 1)?)?, x.dtype())
}
