//! Moments and norms and their rules: var, std, var_mean, std_mean, vector_norm (torch's
//! `var_backward`, `std_backward`, `norm_backward`).

use super::binary::{add, div, mul, pow, scale, sub};
use super::convert::to_dtype;
use super::number;
use super::reduce::{
    cmp_number, eq_mask, fill_where, mask_dims, mean, reduced_count, unsqueeze_reduced,
};
use super::shape::expand_to;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record, record1};
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::binary::BinaryOp;
use crate::ops::reduce as raw;
use crate::tensor::Tensor;
use crate::Scalar;

/// What var/std's rules need to know about the reduction.
#[derive(Clone)]
struct Moments {
    shape: Vec<usize>,
    mask: Vec<bool>,
    correction: f64,
    keepdim: bool,
    /// Reduced over everything without naming dims (torch's `dim=None` path).
    full: bool,
}

impl Moments {
    fn new(
        x: &Tensor,
        dims: Option<&[i64]>,
        correction: f64,
        keepdim: bool,
        op: &str,
    ) -> Result<Moments> {
        Ok(Moments {
            shape: x.shape().to_vec(),
            mask: raw::reduce_mask(x.ndim(), dims, op)?,
            correction,
            keepdim,
            full: dims.is_none() || x.ndim() == 0,
        })
    }

    fn restore(&self, g: &Tensor) -> Result<Tensor> {
        unsqueeze_reduced(g, &self.shape, &self.mask, self.keepdim)
    }

    /// `2 / (n - correction) * g * (x - mean(x))` for the restored `g`.
    fn var_backward(&self, g: &Tensor, x: &Tensor) -> Result<Tensor> {
        let dof = reduced_count(&self.shape, &self.mask) as f64 - self.correction;
        if self.full && dof <= 0.0 {
            // 2 / dof is infinite: NaN where x is its mean (inf * 0), infinity elsewhere.
            let m = raw::mean(x, None, false, None)?;
            let inf = Tensor::full(
                x.shape(),
                Scalar::Float(f64::INFINITY),
                x.dtype(),
                x.device(),
            )?;
            return mul(g, &fill_where(&eq_mask(x, &m)?, f64::NAN, &inf)?);
        }
        let m = if self.full {
            mean(x, None, false, None)?
        } else {
            mean(x, mask_dims(&self.mask).as_deref(), true, None)?
        };
        scale(&mul(g, &sub(x, &m)?)?, 2.0 / dof)
    }

    /// `var_backward(g / (2 std))`, zero where the std is zero.
    fn std_backward(&self, g: &Tensor, x: &Tensor, std: &Tensor) -> Result<Tensor> {
        let std = self.restore(std)?;
        let zero = cmp_number(BinaryOp::Eq, &std, 0.0)?;
        let safe = fill_where(&zero, 1.0, &std)?;
        let gv = fill_where(&zero, 0.0, &div(g, &scale(&safe, 2.0)?)?)?;
        self.var_backward(&gv, x)
    }

    /// mean's backward for the restored `g`.
    fn mean_backward(&self, g: &Tensor) -> Result<Tensor> {
        let n = reduced_count(&self.shape, &self.mask) as f64;
        div(&expand_to(g, &self.shape)?, &number(n)?)
    }
}

/// `var(x, dims, correction, keepdim)`.
pub fn var(x: &Tensor, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
    let (out, _) = raw::var_mean(x, dims, correction, keepdim, false)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let m = Moments::new(x, dims, correction, keepdim, "var")?;
    let saves = vec![Save::Tensor(x.clone())];
    Ok(record1(
        "VarBackward0",
        &[x],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = m.restore(&a.grad(0)?)?;
            Ok(vec![Some(m.var_backward(&g, &a.saved(0)?)?)])
        },
    ))
}

/// `std(x, dims, correction, keepdim)`.
pub fn std(x: &Tensor, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
    let (out, _) = raw::var_mean(x, dims, correction, keepdim, true)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let m = Moments::new(x, dims, correction, keepdim, "std")?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    Ok(record1(
        "StdBackward0",
        &[x],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = m.restore(&a.grad(0)?)?;
            Ok(vec![Some(m.std_backward(
                &g,
                &a.saved(0)?,
                &a.saved(1)?,
            )?)])
        },
    ))
}

/// `var_mean` / `std_mean` (`sqrt` picks): two differentiable outputs.
pub fn var_mean(
    x: &Tensor,
    dims: Option<&[i64]>,
    correction: f64,
    keepdim: bool,
    sqrt: bool,
) -> Result<(Tensor, Tensor)> {
    let (v, mn) = raw::var_mean(x, dims, correction, keepdim, sqrt)?;
    if !needs_grad(&[x]) {
        return Ok((v, mn));
    }
    let (name, op) = if sqrt {
        ("StdMeanBackward0", "std_mean")
    } else {
        ("VarMeanBackward0", "var_mean")
    };
    let m = Moments::new(x, dims, correction, keepdim, op)?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    let mut outs = record(name, &[x], vec![v, mn], saves, move |a: &BackwardArgs| {
        let x = a.saved(0)?;
        let gv = match a.grads.first().cloned().flatten() {
            None => None,
            Some(g) => {
                let g = m.restore(&g)?;
                Some(if sqrt {
                    m.std_backward(&g, &x, &a.saved(1)?)?
                } else {
                    m.var_backward(&g, &x)?
                })
            }
        };
        let gm = match a.grads.get(1).cloned().flatten() {
            None => None,
            Some(g) => Some(m.mean_backward(&m.restore(&g)?)?),
        };
        Ok(vec![match (gv, gm) {
            (Some(a), Some(b)) => Some(add(&a, &b)?),
            (a, b) => a.or(b),
        }])
    });
    let mn = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), mn))
}

/// `linalg.vector_norm(x, ord, dims, keepdim, dtype)` (also `norm`): the rule of torch's
/// `norm_backward` for every order, a zero gradient where the norm is zero.
pub fn vector_norm(
    x: &Tensor,
    ord: f64,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let out = raw::vector_norm(x, raw::NormOrd(ord), dims, keepdim, dtype)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    // With dtype=, the norm is of the converted input; the cast carries the gradient back.
    let xc = match dtype {
        Some(d) if d != x.dtype() => to_dtype(x, d)?,
        _ => x.clone(),
    };
    let shape = x.shape().to_vec();
    let mask = raw::reduce_mask(x.ndim(), dims, "linalg.vector_norm")?;
    let saves = vec![Save::Tensor(xc.clone()), Save::Output(0)];
    Ok(record1(
        "LinalgVectorNormBackward0",
        &[&xc],
        out,
        saves,
        move |a: &BackwardArgs| {
            let x = a.saved(0)?;
            if ord == 0.0 {
                return Ok(vec![Some(Tensor::zeros(&shape, x.dtype(), x.device())?)]);
            }
            let g = unsqueeze_reduced(&a.grad(0)?, &shape, &mask, keepdim)?;
            let nrm = unsqueeze_reduced(&a.saved(1)?, &shape, &mask, keepdim)?;
            Ok(vec![Some(norm_backward(&g, &x, &nrm, ord, &mask)?)])
        },
    ))
}

fn norm_backward(g: &Tensor, x: &Tensor, nrm: &Tensor, p: f64, mask: &[bool]) -> Result<Tensor> {
    let sgn = crate::ops::unary_misc::sign(x, None)?;
    // |x| with the gradient sign(x), as abs's.
    let abs = || mul(x, &sgn);
    let nrm_zero = || cmp_number(BinaryOp::Eq, nrm, 0.0);
    // `g / nrm^e`, zero where the norm is zero.
    let scaled = |e: f64| -> Result<Tensor> {
        let z = nrm_zero()?;
        let safe = fill_where(&z, 1.0, nrm)?;
        fill_where(&z, 0.0, &div(g, &pow(&safe, &number(e)?)?)?)
    };
    if p == 1.0 {
        mul(&sgn, g)
    } else if p == 2.0 {
        let z = nrm_zero()?;
        let safe = fill_where(&z, 1.0, nrm)?;
        mul(g, &fill_where(&z, 0.0, &div(x, &safe)?)?)
    } else if p.is_infinite() {
        // The elements whose |x| is the norm (or NaN) share the gradient.
        let xa = crate::ops::unary_misc::abs(x, None)?;
        let hit = crate::ops::binary::binary(
            BinaryOp::LogicalOr,
            &eq_mask(&xa, nrm)?,
            &super::unary::isnan(&xa)?,
        )?;
        let count = raw::sum(&hit, mask_dims(mask).as_deref(), true, None)?;
        mul(&sgn, &mul(&div(g, &count)?, &hit)?)
    } else if p < 1.0 {
        let z = cmp_number(BinaryOp::Eq, x, 0.0)?;
        let safe = fill_where(&z, 1.0, &abs()?)?;
        let xs = fill_where(&z, 0.0, &mul(&sgn, &pow(&safe, &number(p - 1.0)?)?)?)?;
        mul(&mul(&xs, g)?, &pow(nrm, &number(1.0 - p)?)?)
    } else if p < 2.0 {
        let xs = mul(&sgn, &pow(&abs()?, &number(p - 1.0)?)?)?;
        mul(&xs, &scaled(p - 1.0)?)
    } else {
        let xs = mul(x, &pow(&abs()?, &number(p - 2.0)?)?)?;
        mul(&xs, &scaled(p - 1.0)?)
    }
}
