//! Unary and ternary elementwise ops and their rules (torch's derivatives.yaml, same formulas
//! and the same values at non-differentiable points: `abs'(0) = 0`, `relu'(0) = 0`, rounding
//! and sign functions have zero gradient, clamp passes the gradient where `min <= x <= max`).
//!
//! Rules are written with differentiable functions only, so every rule can itself be
//! differentiated (`create_graph=True`); comparison masks are plain (non-recorded) ops.

use super::binary::{add, div, mul, scale, sub};
use super::{number, when};
use crate::autograd::is_grad_enabled;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::binary::{self as raw_binary, BinaryOp};
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

/// `isfinite(x)`: a bool mask, never recorded.
pub fn isfinite(x: &Tensor) -> Result<Tensor> {
    unary_misc::isfinite(x, None)
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

// ---- helpers for the rules -------------------------------------------------------------------

/// A comparison or logical mask (bool, not recorded: masks carry no gradient).
fn cmp(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    raw_binary::binary(op, a, b)
}

/// `g` where `mask` holds, else 0 (NaN-safe, unlike multiplying by the mask).
fn keep_where(mask: &Tensor, g: &Tensor) -> Result<Tensor> {
    where_(mask, g, &number(0.0)?)
}

/// ReLU's rule: `g` where the output `r` is positive, else 0. One fused pass unless the
/// backward itself is being recorded (then the differentiable `where`).
fn relu_backward(g: &Tensor, r: &Tensor) -> Result<Tensor> {
    if !needs_grad(&[g]) {
        if let Some(t) = unary_misc::relu_backward(g, r)? {
            return Ok(t);
        }
    }
    where_(&cmp(BinaryOp::Le, r, &number(0.0)?)?, &number(0.0)?, g)
}

/// `zeros_like(g)`: the gradient of a piecewise-constant function. Not connected to `g`, as
/// torch's `zeros_like(grad)` is not.
fn zeros_like(g: &Tensor) -> Result<Tensor> {
    Tensor::zeros(g.shape(), g.dtype(), g.device())
}

/// `t + v` for a number `v`.
fn plus(t: &Tensor, v: f64) -> Result<Tensor> {
    add(t, &number(v)?)
}

/// `v - t` for a number `v`.
fn minus_from(v: f64, t: &Tensor) -> Result<Tensor> {
    sub(&number(v)?, t)
}

fn sq(t: &Tensor) -> Result<Tensor> {
    mul(t, t)
}

/// What a unary rule reads back besides the output gradient.
#[derive(Clone, Copy)]
enum Keep {
    /// The op's input `x`.
    Input,
    /// The op's own result.
    Output,
    /// Nothing: the rule gets the gradient in both arguments.
    Nothing,
}

/// Records a one-input op whose rule is `rule(grad, saved)`, `saved` being what `keep` says.
fn record_unary(
    name: &'static str,
    x: &Tensor,
    out: Tensor,
    keep: Keep,
    rule: fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> Tensor {
    // The common no-grad case returns before anything is allocated for the graph.
    if !needs_grad(&[x]) {
        return out;
    }
    let saves = match keep {
        Keep::Input => vec![Save::Tensor(x.clone())],
        Keep::Output => vec![Save::Output(0)],
        Keep::Nothing => vec![],
    };
    record1(name, &[x], out, saves, move |a: &BackwardArgs| {
        let g = a.grad(0)?;
        let s = match keep {
            Keep::Nothing => g.clone(),
            _ => a.saved(0)?,
        };
        Ok(vec![Some(rule(&g, &s)?)])
    })
}

const LN_2: f64 = std::f64::consts::LN_2;
const LN_10: f64 = std::f64::consts::LN_10;
/// `2 / sqrt(pi)`, the factor of `erf'`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
/// `sqrt(pi) / 2`, the factor of `erfinv'`.
const HALF_SQRT_PI: f64 = 0.886_226_925_452_758;

/// Defines `pub fn $name(x) -> Result<Tensor>`: the raw op `$raw`, recorded as `$node` with
/// the rule `|g, s| ...` where `s` is what `$keep` names (input `x`, output `r`, or nothing).
macro_rules! unary_fns {
    ($($name:ident, $node:literal, $raw:path, $keep:ident, |$g:ident, $s:ident| $rule:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "(x)`, recorded as `", $node, "`.")]
        pub fn $name(x: &Tensor) -> Result<Tensor> {
            let out = $raw(x, None)?;
            Ok(record_unary($node, x, out, Keep::$keep, |$g: &Tensor, $s: &Tensor| $rule))
        }
    )*};
}

unary_fns! {
    exp2, "Exp2Backward0", unary::exp2, Output, |g, r| mul(g, &scale(r, LN_2)?);
    expm1, "Expm1Backward0", unary::expm1, Output, |g, r| mul(g, &plus(r, 1.0)?);
    log2, "Log2Backward0", unary::log2, Input, |g, x| div(g, &scale(x, LN_2)?);
    log10, "Log10Backward0", unary::log10, Input, |g, x| div(g, &scale(x, LN_10)?);
    log1p, "Log1PBackward0", unary::log1p, Input, |g, x| div(g, &plus(x, 1.0)?);
    sqrt, "SqrtBackward0", unary::sqrt, Output, |g, r| div(g, &scale(r, 2.0)?);
    rsqrt, "RsqrtBackward0", unary::rsqrt, Output,
        |g, r| mul(&scale(g, -0.5)?, &mul(&sq(r)?, r)?);
    sin, "SinBackward0", unary::sin, Input, |g, x| mul(g, &cos(x)?);
    cos, "CosBackward0", unary::cos, Input, |g, x| mul(g, &neg(&sin(x)?)?);
    tan, "TanBackward0", unary::tan, Output, |g, r| mul(g, &plus(&sq(r)?, 1.0)?);
    asin, "AsinBackward0", unary::asin, Input, |g, x| mul(g, &rsqrt(&minus_from(1.0, &sq(x)?)?)?);
    acos, "AcosBackward0", unary::acos, Input,
        |g, x| mul(g, &neg(&rsqrt(&minus_from(1.0, &sq(x)?)?)?)?);
    atan, "AtanBackward0", unary::atan, Input, |g, x| div(g, &plus(&sq(x)?, 1.0)?);
    sinh, "SinhBackward0", unary::sinh, Input, |g, x| mul(g, &cosh(x)?);
    cosh, "CoshBackward0", unary::cosh, Input, |g, x| mul(g, &sinh(x)?);
    tanh, "TanhBackward0", unary::tanh, Output, |g, r| mul(g, &minus_from(1.0, &sq(r)?)?);
    asinh, "AsinhBackward0", unary::asinh, Input, |g, x| mul(g, &rsqrt(&plus(&sq(x)?, 1.0)?)?);
    acosh, "AcoshBackward0", unary::acosh, Input, |g, x| mul(g, &rsqrt(&plus(&sq(x)?, -1.0)?)?);
    atanh, "AtanhBackward0", unary::atanh, Input, |g, x| div(g, &minus_from(1.0, &sq(x)?)?);
    sigmoid, "SigmoidBackward0", unary::sigmoid, Output,
        |g, r| mul(&mul(g, &minus_from(1.0, r)?)?, r);
    erf, "ErfBackward0", unary::erf, Input,
        |g, x| mul(g, &scale(&exp(&neg(&sq(x)?)?)?, TWO_OVER_SQRT_PI)?);
    erfc, "ErfcBackward0", unary::erfc, Input,
        |g, x| mul(g, &scale(&exp(&neg(&sq(x)?)?)?, -TWO_OVER_SQRT_PI)?);
    erfinv, "ErfinvBackward0", unary::erfinv, Output,
        |g, r| mul(g, &scale(&exp(&sq(r)?)?, HALF_SQRT_PI)?);
    reciprocal, "ReciprocalBackward0", unary::reciprocal, Output, |g, r| neg(&mul(g, &sq(r)?)?);
    abs, "AbsBackward0", unary_misc::abs, Input, |g, x| mul(g, &sgn(x)?);
    relu, "ReluBackward0", unary_misc::relu, Output, |g, r| relu_backward(g, r);
    // torch computes square as pow(x, 2).
    square, "PowBackward0", unary_misc::square, Input, |g, x| mul(g, &scale(x, 2.0)?);
    frac, "FracBackward0", unary::frac, Nothing, |g, _s| Ok(g.clone());
    sign, "SignBackward0", unary_misc::sign, Nothing, |g, _s| zeros_like(g);
    sgn, "SgnBackward0", unary_misc::sign, Nothing, |g, _s| zeros_like(g);
    floor, "FloorBackward0", unary::floor, Nothing, |g, _s| zeros_like(g);
    ceil, "CeilBackward0", unary::ceil, Nothing, |g, _s| zeros_like(g);
    trunc, "TruncBackward0", unary::trunc, Nothing, |g, _s| zeros_like(g);
}

/// `round(x)` (`decimals == 0`, `RoundBackward0`) or `round(x, decimals=d)`
/// (`RoundBackward1`): zero gradient either way.
pub fn round(x: &Tensor, decimals: i64) -> Result<Tensor> {
    let out = unary::round_decimals(x, decimals, None)?;
    let name = if decimals == 0 {
        "RoundBackward0"
    } else {
        "RoundBackward1"
    };
    Ok(record_unary(name, x, out, Keep::Nothing, |g, _| {
        zeros_like(g)
    }))
}

/// `nan_to_num(x, nan, posinf, neginf)`: the gradient passes where `x` is finite
/// (`grad * isfinite(x)`, as torch).
pub fn nan_to_num(
    x: &Tensor,
    nan: f64,
    posinf: Option<f64>,
    neginf: Option<f64>,
) -> Result<Tensor> {
    let out = unary_misc::nan_to_num(x, nan, posinf, neginf, None)?;
    Ok(record_unary(
        "NanToNumBackward0",
        x,
        out,
        Keep::Input,
        |g, x| mul(g, &isfinite(x)?),
    ))
}

// ---- clamp -----------------------------------------------------------------------------------

/// Which of torch's clamp overloads a call is: it decides the node name and which bounds are
/// inputs of the graph (number bounds never are).
#[derive(Clone, Copy, PartialEq)]
enum ClampKind {
    /// `clamp(x, min, max)`.
    Both,
    /// `clamp_min(x, min)`.
    Min,
    /// `clamp_max(x, max)`.
    Max,
}

/// `clamp(x, min, max)`: bounds are tensors or wrapped numbers; either may be missing.
/// Number bounds only: `ClampBackward1`; any tensor bound: `ClampBackward0`, with gradients
/// for the bounds where they won (`min` only where `min < max`, as torch).
pub fn clamp(x: &Tensor, min: Option<&Tensor>, max: Option<&Tensor>) -> Result<Tensor> {
    clamp_impl(ClampKind::Both, x, min, max)
}

/// `clamp_min(x, min)`: `ClampMinBackward0` for a number, `ClampMinBackward1` for a tensor.
pub fn clamp_min(x: &Tensor, min: &Tensor) -> Result<Tensor> {
    clamp_impl(ClampKind::Min, x, Some(min), None)
}

/// `clamp_max(x, max)`: `ClampMaxBackward0` for a number, `ClampMaxBackward1` for a tensor.
pub fn clamp_max(x: &Tensor, max: &Tensor) -> Result<Tensor> {
    clamp_impl(ClampKind::Max, x, None, Some(max))
}

fn clamp_impl(
    kind: ClampKind,
    x: &Tensor,
    min: Option<&Tensor>,
    max: Option<&Tensor>,
) -> Result<Tensor> {
    let out = unary_ternary::clamp(x, min, max, None)?;
    let any_requires = |t: Option<&Tensor>| t.is_some_and(|t| t.requires_grad());
    let wanted =
        needs_grad(&[x]) || (is_grad_enabled() && (any_requires(min) || any_requires(max)));
    if !out.dtype().is_floating_point() || !wanted {
        return Ok(out);
    }
    let bounds: Vec<&Tensor> = min.into_iter().chain(max).collect();
    let mut all = vec![x];
    all.extend(&bounds);
    let numbers = bounds.iter().all(|b| b.0.wrapped_number);
    let name = match (kind, numbers) {
        (ClampKind::Both, true) => "ClampBackward1",
        (ClampKind::Both, false) => "ClampBackward0",
        (ClampKind::Min, true) => "ClampMinBackward0",
        (ClampKind::Min, false) => "ClampMinBackward1",
        (ClampKind::Max, true) => "ClampMaxBackward0",
        (ClampKind::Max, false) => "ClampMaxBackward1",
    };
    // The scalar overloads have `self` as their only input; the tensor overloads take the
    // bounds too (torch's clamp.Tensor converts a number bound to a tensor: never requires grad).
    let inputs: Vec<&Tensor> = if numbers { vec![x] } else { all.clone() };
    let saves: Vec<Save> = all.iter().map(|t| Save::Tensor((*t).clone())).collect();
    let (has_min, has_max) = (min.is_some(), max.is_some());
    Ok(record1(
        name,
        &inputs,
        out,
        saves,
        move |a: &BackwardArgs| {
            use BinaryOp::*;
            let g = a.grad(0)?;
            let x = a.saved(0)?;
            let lo = if has_min { Some(a.saved(1)?) } else { None };
            let hi = if has_max {
                Some(a.saved(1 + has_min as usize)?)
            } else {
                None
            };
            let inside = match (&lo, &hi) {
                (Some(l), Some(h)) => cmp(LogicalAnd, &cmp(Ge, &x, l)?, &cmp(Le, &x, h)?)?,
                (Some(l), None) => cmp(Ge, &x, l)?,
                (None, Some(h)) => cmp(Le, &x, h)?,
                (None, None) => return Ok(vec![Some(g)]),
            };
            let mut grads = vec![Some(keep_where(&inside, &g)?)];
            if numbers {
                return Ok(grads);
            }
            if let Some(l) = &lo {
                grads.push(when(a.needs(1), || {
                    let below = cmp(Lt, &x, l)?;
                    let mask = match &hi {
                        Some(h) => cmp(LogicalAnd, &below, &cmp(Lt, l, h)?)?,
                        None => below,
                    };
                    keep_where(&mask, &g)
                })?);
            }
            if let Some(h) = &hi {
                grads.push(when(a.needs(1 + has_min as usize), || {
                    let above = cmp(Gt, &x, h)?;
                    let mask = match &lo {
                        Some(l) => cmp(LogicalOr, &above, &cmp(Lt, h, l)?)?,
                        None => above,
                    };
                    keep_where(&mask, &g)
                })?);
            }
            Ok(grads)
        },
    ))
}

// ---- lerp ------------------------------------------------------------------------------------

/// `lerp(x, end, weight)`: `LerpBackward0` for a number weight (`x` gets `g (1 - w)`, `end`
/// gets `g w`), `LerpBackward1` for a tensor weight (which also gets `g (end - x)`).
pub fn lerp(x: &Tensor, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let out = unary_ternary::lerp(x, end, weight, None)?;
    if !needs_grad(&[x, end, weight]) {
        return Ok(out);
    }
    if weight.0.wrapped_number {
        let w = weight.item()?.to_f64();
        return Ok(record1(
            "LerpBackward0",
            &[x, end],
            out,
            vec![],
            move |a: &BackwardArgs| {
                let g = a.grad(0)?;
                Ok(vec![
                    when(a.needs(0), || scale(&g, 1.0 - w))?,
                    when(a.needs(1), || scale(&g, w))?,
                ])
            },
        ));
    }
    let saves = vec![
        Save::Tensor(x.clone()),
        Save::Tensor(end.clone()),
        Save::Tensor(weight.clone()),
    ];
    Ok(record1(
        "LerpBackward1",
        &[x, end, weight],
        out,
        saves,
        |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let w = a.saved(2)?;
            Ok(vec![
                when(a.needs(0), || mul(&g, &minus_from(1.0, &w)?))?,
                when(a.needs(1), || mul(&g, &w))?,
                when(a.needs(2), || mul(&g, &sub(&a.saved(1)?, &a.saved(0)?)?))?,
            ])
        },
    ))
}
