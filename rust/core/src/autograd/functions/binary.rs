//! Binary elementwise ops and their rules (torch's derivatives.yaml, same formulas).

use super::{number, unary, when};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{inplace, needs_grad, record1};
use crate::error::Result;
use crate::ops::binary::{self as raw, BinaryOp, ONE};
use crate::tensor::Tensor;
use crate::Scalar;

pub fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Add(ONE), a, b)
}
pub fn sub(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Sub(ONE), a, b)
}
pub fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Mul, a, b)
}
pub fn div(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Div, a, b)
}
/// `t * v` for a Python number `v`.
pub fn scale(t: &Tensor, v: f64) -> Result<Tensor> {
    mul(t, &number(v)?)
}
/// `t * alpha` where `alpha` is an op's scalar argument (skipped when 1).
fn times(t: Tensor, alpha: Scalar) -> Result<Tensor> {
    if alpha.to_f64() == 1.0 {
        Ok(t)
    } else {
        mul(&t, &Tensor::wrapped_scalar(alpha)?)
    }
}
fn cmp(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    raw::binary(op, a, b)
}
/// `where(mask, 0, g)`: zeros where `mask` holds (NaN-safe, unlike multiplying by a mask).
fn zero_where(mask: &Tensor, g: &Tensor) -> Result<Tensor> {
    unary::where_(mask, &number(0.0)?, g)
}

/// `a (op) b`, recorded.
pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = raw::binary(op, a, b)?;
    if !out.dtype().is_floating_point() || !needs_grad(&[a, b]) {
        return Ok(out);
    }
    record_binary(op, a, b, out)
}

/// `a.op_(b)` (in place), recorded.
pub fn binary_(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<()> {
    inplace(
        a,
        &[b],
        || raw::binary_into(op, a, b, a).map(|_| ()),
        |old| binary(op, old, b),
    )
}

fn record_binary(op: BinaryOp, a: &Tensor, b: &Tensor, out: Tensor) -> Result<Tensor> {
    use BinaryOp::*;
    let inputs = [a, b];
    let both = || vec![Save::Tensor(a.clone()), Save::Tensor(b.clone())];
    Ok(match op {
        Add(alpha) => record1(
            "AddBackward0",
            &inputs,
            out,
            vec![],
            move |x: &BackwardArgs| {
                let g = x.grad(0)?;
                Ok(vec![Some(g.clone()), when(x.needs(1), || times(g, alpha))?])
            },
        ),
        Sub(alpha) => record1(
            "SubBackward0",
            &inputs,
            out,
            vec![],
            move |x: &BackwardArgs| {
                let g = x.grad(0)?;
                Ok(vec![
                    Some(g.clone()),
                    when(x.needs(1), || times(g, Scalar::Float(-alpha.to_f64())))?,
                ])
            },
        ),
        Mul => record1("MulBackward0", &inputs, out, both(), |x: &BackwardArgs| {
            let g = x.grad(0)?;
            Ok(vec![
                when(x.needs(0), || mul(&g, &x.saved(1)?))?,
                when(x.needs(1), || mul(&g, &x.saved(0)?))?,
            ])
        }),
        Div => record1("DivBackward0", &inputs, out, both(), |x: &BackwardArgs| {
            let g = x.grad(0)?;
            let b = x.saved(1)?;
            Ok(vec![
                when(x.needs(0), || div(&g, &b))?,
                when(x.needs(1), || {
                    let a = x.saved(0)?;
                    unary::neg(&div(&mul(&g, &a)?, &mul(&b, &b)?)?)
                })?,
            ])
        }),
        DivTrunc | DivFloor => record1("DivBackward1", &inputs, out, vec![], |x: &BackwardArgs| {
            let g = x.grad(0)?;
            let z = scale(&g, 0.0)?;
            Ok(vec![Some(z.clone()), Some(z)])
        }),
        Remainder | Fmod => {
            let (name, round) = if op == Remainder {
                ("RemainderBackward0", BinaryOp::DivFloor)
            } else {
                ("FmodBackward0", BinaryOp::DivTrunc)
            };
            record1(name, &inputs, out, both(), move |x: &BackwardArgs| {
                let g = x.grad(0)?;
                Ok(vec![
                    Some(g.clone()),
                    when(x.needs(1), || {
                        let q = raw::binary(round, &x.saved(0)?, &x.saved(1)?)?;
                        unary::neg(&mul(&g, &q)?)
                    })?,
                ])
            })
        }
        Pow | FloatPower => {
            let name = if b.0.wrapped_number {
                "PowBackward0"
            } else {
                "PowBackward1"
            };
            let saves = vec![
                Save::Tensor(a.clone()),
                Save::Tensor(b.clone()),
                Save::Output(0),
            ];
            record1(name, &inputs, out, saves, |x: &BackwardArgs| {
                let g = x.grad(0)?;
                let (a, b) = (x.saved(0)?, x.saved(1)?);
                let ga = when(x.needs(0), || {
                    let d = mul(&b, &pow(&a, &sub(&b, &number(1.0)?)?)?)?;
                    zero_where(&cmp(Eq, &b, &number(0.0)?)?, &mul(&g, &d)?)
                })?;
                let gb = when(x.needs(1), || {
                    let r = x.saved(2)?;
                    let d = mul(&g, &mul(&r, &unary::log(&a)?)?)?;
                    let zero_base = cmp(Eq, &a, &number(0.0)?)?;
                    let mask = cmp(LogicalAnd, &zero_base, &cmp(Ge, &b, &number(0.0)?)?)?;
                    zero_where(&mask, &d)
                })?;
                Ok(vec![ga, gb])
            })
        }
        Atan2 => record1(
            "Atan2Backward0",
            &inputs,
            out,
            both(),
            |x: &BackwardArgs| {
                let g = x.grad(0)?;
                let (a, b) = (x.saved(0)?, x.saved(1)?);
                let r = div(&g, &add(&mul(&a, &a)?, &mul(&b, &b)?)?)?;
                Ok(vec![
                    when(x.needs(0), || mul(&r, &b))?,
                    when(x.needs(1), || unary::neg(&mul(&r, &a)?))?,
                ])
            },
        ),
        Hypot => {
            let saves = vec![
                Save::Tensor(a.clone()),
                Save::Tensor(b.clone()),
                Save::Output(0),
            ];
            record1("HypotBackward0", &inputs, out, saves, |x: &BackwardArgs| {
                let r = div(&x.grad(0)?, &x.saved(2)?)?;
                Ok(vec![
                    when(x.needs(0), || mul(&r, &x.saved(0)?))?,
                    when(x.needs(1), || mul(&r, &x.saved(1)?))?,
                ])
            })
        }
        Copysign => {
            let saves = vec![Save::Tensor(a.clone()), Save::Output(0)];
            record1(
                "CopysignBackward0",
                &inputs,
                out,
                saves,
                |x: &BackwardArgs| {
                    let g = x.grad(0)?;
                    let ga = when(x.needs(0), || {
                        let a = x.saved(0)?;
                        let ratio = div(&x.saved(1)?, &a)?;
                        zero_where(&cmp(Eq, &a, &number(0.0)?)?, &mul(&g, &ratio)?)
                    })?;
                    Ok(vec![ga, when(x.needs(1), || scale(&g, 0.0))?])
                },
            )
        }
        Xlogy => record1(
            "XlogyBackward0",
            &inputs,
            out,
            both(),
            |x: &BackwardArgs| {
                let g = x.grad(0)?;
                let (a, b) = (x.saved(0)?, x.saved(1)?);
                let ga = when(x.needs(0), || {
                    let d = mul(&g, &unary::log(&b)?)?;
                    let mask = cmp(
                        LogicalAnd,
                        &cmp(Eq, &a, &number(0.0)?)?,
                        &cmp(Le, &b, &number(0.0)?)?,
                    )?;
                    zero_where(&mask, &d)
                })?;
                Ok(vec![ga, when(x.needs(1), || div(&mul(&g, &a)?, &b))?])
            },
        ),
        Maximum | Minimum => {
            let (name, lose) = if op == Maximum {
                ("MaximumBackward0", Lt)
            } else {
                ("MinimumBackward0", Gt)
            };
            record1(name, &inputs, out, both(), move |x: &BackwardArgs| {
                let g = x.grad(0)?;
                let (a, b) = (x.saved(0)?, x.saved(1)?);
                // Ties split the gradient evenly, as torch does.
                let tie = cmp(Eq, &a, &b)?;
                let half = unary::where_(&tie, &scale(&g, 0.5)?, &g)?;
                Ok(vec![
                    when(x.needs(0), || zero_where(&cmp(lose, &a, &b)?, &half))?,
                    when(x.needs(1), || zero_where(&cmp(lose, &b, &a)?, &half))?,
                ])
            })
        }
        Fmax | Fmin => {
            let (name, win) = if op == Fmax {
                ("FmaxBackward0", Ge)
            } else {
                ("FminBackward0", Le)
            };
            record1(name, &inputs, out, both(), move |x: &BackwardArgs| {
                let g = x.grad(0)?;
                let (a, b) = (x.saved(0)?, x.saved(1)?);
                // a's gradient where a was picked: a wins, or b is NaN.
                let a_picked = cmp(LogicalOr, &cmp(win, &a, &b)?, &unary::isnan(&b)?)?;
                let not_a = crate::ops::unary_misc::logical_not(&a_picked, None)?;
                Ok(vec![
                    when(x.needs(0), || zero_where(&not_a, &g))?,
                    when(x.needs(1), || zero_where(&a_picked, &g))?,
                ])
            })
        }
        // Comparisons, logical and bitwise ops have bool or integer results: never recorded.
        _ => out,
    })
}

/// `a ** b` (tensor or wrapped-number exponent), recorded.
pub fn pow(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Pow, a, b)
}
