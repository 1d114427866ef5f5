//! nll_loss and its rule (`NllLossBackward0`): the fused backward kernel, or, when the backward
//! is itself recorded, the gradient written as (fused coefficients) * `g`, which is linear in `g`
//! and so differentiable again. The class weight gets no gradient, as in torch (callers that need
//! one compose the loss from differentiable ops).

use super::binary::mul;
use super::shape::unsqueeze;
use crate::autograd::autocast;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::loss::{self as raw, Reduction};
use crate::tensor::Tensor;

/// `nll_loss(input, target, weight, reduction, ignore_index)`: `(output, total_weight)`.
pub fn nll_loss(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
    ignore_index: i64,
) -> Result<(Tensor, Tensor)> {
    if let Some([Some(input), weight]) = autocast::float32([Some(input), weight])? {
        return nll_loss(&input, target, weight.as_ref(), reduction, ignore_index);
    }
    let (out, total_weight) = raw::nll_loss(input, target, weight, reduction, ignore_index)?;
    if !needs_grad(&[input]) {
        return Ok((out, total_weight));
    }
    let mut saves = vec![
        Save::Tensor(input.detach()),
        Save::Tensor(target.clone()),
        Save::Tensor(total_weight.clone()),
    ];
    let has_weight = weight.is_some();
    if let Some(w) = weight {
        saves.push(Save::Tensor(w.detach()));
    }
    let out = record1(
        "NllLossBackward0",
        &[input],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let (x, t, tw) = (a.saved(0)?, a.saved(1)?, a.saved(2)?);
            let w = if has_weight { Some(a.saved(3)?) } else { None };
            let backward = |g: &Tensor| {
                raw::nll_loss_backward(g, &x, &t, w.as_ref(), reduction, ignore_index, &tw)
            };
            if !needs_grad(&[&g]) {
                return Ok(vec![Some(backward(&g)?)]);
            }
            // grad_input is linear in g: its coefficients times g, broadcast along the class dim.
            let ones = Tensor::full(g.shape(), crate::Scalar::Float(1.0), g.dtype(), g.device())?;
            let coef = backward(&ones)?;
            let gb = if reduction == Reduction::None && x.ndim() > 1 {
                unsqueeze(&g, 1)?
            } else {
                g
            };
            Ok(vec![Some(mul(&coef, &gb)?)])
        },
    );
    Ok((out, total_weight))
}
