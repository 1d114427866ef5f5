//! GELU forward and backward, one pass each (torch's `gelu` / `gelu_backward`), where the
//! formula written with tensor ops takes about ten elementwise passes each way.

use super::unary_math::UnaryMath;
use crate::cpu::elementwise::{map1, map2};
use crate::cuda::elementwise as cuda;
use crate::dtype::scalar_type_name;
use crate::element::num_like::FloatMath;
use crate::element::Float;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float, Scalar};

/// torch's `approximate=` argument of `gelu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeluApproximate {
    /// `x * Phi(x)` with the exact normal CDF (`erf`).
    None,
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    Tanh,
}

impl GeluApproximate {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "none" => Ok(Self::None),
            "tanh" => Ok(Self::Tanh),
            _ => bail!(
                Runtime,
                "approximate argument must be either none or tanh, got {name:?}"
            ),
        }
    }
}

const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `1 / sqrt(2 pi)`, the normal density's factor.
pub(crate) const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// `sqrt(2 / pi)`, the tanh form's scale.
pub(crate) const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh form.
pub(crate) const KAPPA: f64 = 0.044_715;

#[inline(always)]
fn c<A: FloatMath>(v: f64) -> A {
    A::from_f64(v)
}

#[inline(always)]
fn gelu_erf<A: FloatMath + UnaryMath>(x: A) -> A {
    x * c(0.5) * (c::<A>(1.0) + (x * c(FRAC_1_SQRT_2)).erf_())
}

#[inline(always)]
fn gelu_tanh<A: FloatMath + UnaryMath>(x: A) -> A {
    let inner = c::<A>(SQRT_2_OVER_PI) * (x + c::<A>(KAPPA) * x * x * x);
    c::<A>(0.5) * x * (c::<A>(1.0) + inner.fast_tanh())
}

/// `g * d/dx gelu(x)`: `Phi(x) + x phi(x)`.
#[inline(always)]
fn gelu_erf_grad<A: FloatMath + UnaryMath>(g: A, x: A) -> A {
    let cdf = c::<A>(0.5) * (c::<A>(1.0) + (x * c(FRAC_1_SQRT_2)).erf_());
    let pdf = (c::<A>(-0.5) * x * x).fast_exp() * c(FRAC_1_SQRT_2PI);
    g * (cdf + x * pdf)
}

/// `g * d/dx gelu_tanh(x)`, in torch's order of operations.
#[inline(always)]
fn gelu_tanh_grad<A: FloatMath + UnaryMath>(g: A, x: A) -> A {
    let one = c::<A>(1.0);
    let x_sq = x * x;
    let inner = c::<A>(SQRT_2_OVER_PI) * (x + c::<A>(KAPPA) * x_sq * x);
    let t = inner.fast_tanh();
    let left = c::<A>(0.5) * x;
    let right = one + t;
    let left_derivative = c::<A>(0.5) * right;
    let right_derivative =
        left * (one - t * t) * c(SQRT_2_OVER_PI) * (one + c::<A>(3.0 * KAPPA) * x_sq);
    g * (left_derivative + right_derivative)
}

fn check_float(x: &Tensor) -> Result<()> {
    if !x.dtype().is_floating_point() {
        bail!(
            Runtime,
            "\"GeluKernelImpl\" not implemented for '{}'",
            scalar_type_name(x.dtype())
        );
    }
    Ok(())
}

/// `gelu(x, approximate)`.
pub fn gelu(x: &Tensor, approximate: GeluApproximate) -> Result<Tensor> {
    check_float(x)?;
    let out = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    if out.is_cuda() {
        let op = match approximate {
            GeluApproximate::None => cuda::Unary::Gelu,
            GeluApproximate::Tanh => cuda::Unary::GeluTanh,
        };
        cuda::unary(op, &out, x, [0; 3])?;
        return Ok(out);
    }
    dispatch_float!(x.dtype(), T => match approximate {
        GeluApproximate::None => map1::<T, T>(&out, x, |e| T::from_acc(gelu_erf(e.to_acc()))),
        GeluApproximate::Tanh => map1::<T, T>(&out, x, |e| T::from_acc(gelu_tanh(e.to_acc()))),
    }, _ => unreachable!("checked float"));
    Ok(out)
}

/// `gelu_backward(grad, x, approximate)`: `grad * gelu'(x)`, in `x`'s dtype.
pub fn gelu_backward(grad: &Tensor, x: &Tensor, approximate: GeluApproximate) -> Result<Tensor> {
    check_float(x)?;
    if grad.shape() != x.shape() || grad.device() != x.device() {
        bail!(
            Runtime,
            "gelu_backward: grad of shape {:?} on {} does not match input of shape {:?} on {}",
            grad.shape(),
            grad.device(),
            x.shape(),
            x.device()
        );
    }
    let grad = grad.to_dtype(x.dtype())?;
    let out = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    if out.is_cuda() {
        let op = match approximate {
            GeluApproximate::None => cuda::Binary::GeluBackward,
            GeluApproximate::Tanh => cuda::Binary::GeluTanhBackward,
        };
        cuda::binary(op, &out, &grad, x, Scalar::Int(1))?;
        return Ok(out);
    }
    dispatch_float!(x.dtype(), T => match approximate {
        GeluApproximate::None => map2::<T, T, T>(&out, &grad, x, |g, v| {
            T::from_acc(gelu_erf_grad(g.to_acc(), v.to_acc()))
        }),
        GeluApproximate::Tanh => map2::<T, T, T>(&out, &grad, x, |g, v| {
            T::from_acc(gelu_tanh_grad(g.to_acc(), v.to_acc()))
        }),
    }, _ => unreachable!("checked float"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derivative against a central difference of the forward, both approximations.
    #[test]
    fn gradients_match_finite_differences() {
        for x in [-4.0, -1.3, -0.2, 0.0, 0.4, 1.0, 2.7, 6.0f64] {
            let h = 1e-6;
            let fd = (gelu_erf(x + h) - gelu_erf(x - h)) / (2.0 * h);
            assert!((gelu_erf_grad(1.0, x) - fd).abs() < 1e-8, "erf at {x}");
            let fd = (gelu_tanh(x + h) - gelu_tanh(x - h)) / (2.0 * h);
            assert!((gelu_tanh_grad(1.0, x) - fd).abs() < 1e-8, "tanh at {x}");
        }
    }
}
