//! gelu and its rule (`GeluBackward0`): the fused backward kernel, or, when the backward is itself
//! being recorded (`create_graph=True` with a gradient or input that requires grad), the
//! derivative written with differentiable ops, so it can be differentiated again.

use super::binary::{add, mul, scale, sub};
use super::number;
use super::unary::{erf, exp, tanh};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::activation::{
    self as raw, GeluApproximate, FRAC_1_SQRT_2PI, KAPPA, SQRT_2_OVER_PI,
};
use crate::tensor::Tensor;

/// `gelu(x, approximate)`.
pub fn gelu(x: &Tensor, approximate: GeluApproximate) -> Result<Tensor> {
    let out = raw::gelu(x, approximate)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    Ok(record1(
        "GeluBackward0",
        &[x],
        out,
        vec![Save::Tensor(x.clone())],
        move |a: &BackwardArgs| {
            let (g, x) = (a.grad(0)?, a.saved(0)?);
            let dx = if needs_grad(&[&g, &x]) {
                mul(&g, &derivative(&x, approximate)?)?
            } else {
                raw::gelu_backward(&g, &x, approximate)?
            };
            Ok(vec![Some(dx)])
        },
    ))
}

/// `gelu'(x)` with recorded ops: `Phi(x) + x phi(x)`, or the derivative of the tanh form.
fn derivative(x: &Tensor, approximate: GeluApproximate) -> Result<Tensor> {
    let half = |t: &Tensor| scale(t, 0.5);
    let one_plus = |t: &Tensor| add(&number(1.0)?, t);
    let x_sq = mul(x, x)?;
    match approximate {
        GeluApproximate::None => {
            let cdf = half(&one_plus(&erf(&scale(
                x,
                std::f64::consts::FRAC_1_SQRT_2,
            )?)?)?)?;
            let pdf = scale(&exp(&scale(&x_sq, -0.5)?)?, FRAC_1_SQRT_2PI)?;
            add(&cdf, &mul(x, &pdf)?)
        }
        GeluApproximate::Tanh => {
            let inner = scale(&add(x, &scale(&mul(&x_sq, x)?, KAPPA)?)?, SQRT_2_OVER_PI)?;
            let t = tanh(&inner)?;
            let sech_sq = sub(&number(1.0)?, &mul(&t, &t)?)?;
            let d_inner = scale(&one_plus(&scale(&x_sq, 3.0 * KAPPA)?)?, SQRT_2_OVER_PI)?;
            let right = mul(&mul(&half(x)?, &sech_sq)?, &d_inner)?;
            add(&half(&one_plus(&t)?)?, &right)
        }
    }
}
