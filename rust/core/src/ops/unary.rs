//! Unary elementwise math: the shared front half (result dtype, where the result goes) and the
//! float functions (`exp`, `sin`, `erfinv` ...). Each float op is one line: a body over the
//! accumulator type (`f32` for f16/bf16/f32, `f64` for f64) that [`float_unary!`] turns into a
//! kernel per float dtype on top of `map1` (contiguous runs become tight slice loops).
//!
//! Every op takes `dst`: a tensor to write into when it has the result's shape and dtype (the
//! in-place `x.exp_()` passes `x`, `out=` passes `out`); otherwise the op allocates, and the
//! caller copies. The returned tensor is `dst` itself when it was used.

use super::unary_math::UnaryMath;
use crate::cpu::elementwise::map1;
use crate::dtype::{default_float, DType};
use crate::element::num_like::FloatMath;
use crate::element::Float;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// torch's ScalarType name (`Float`, `Long` ...), as its error messages spell dtypes.
pub fn scalar_type_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "Bool",
        DType::U8 => "Byte",
        DType::I8 => "Char",
        DType::I16 => "Short",
        DType::I32 => "Int",
        DType::I64 => "Long",
        DType::F16 => "Half",
        DType::BF16 => "BFloat16",
        DType::F32 => "Float",
        DType::F64 => "Double",
    }
}

/// torch's error for a kernel that has no implementation for a dtype.
pub fn not_implemented(kernel: &str, d: DType) -> crate::error::Error {
    crate::error::Error::runtime(format!("\"{kernel}\" not implemented for '{}'", scalar_type_name(d)))
}

/// The tensor a unary-style op writes into: `dst` when it has the result's `shape` and
/// `dtype` and overlaps no input except exactly (same layout, the in-place case), else a new
/// contiguous tensor. Writing through a `dst` with broadcast (stride-0) dims is refused, as
/// torch does, because one memory location would be computed several times.
pub fn output_for(shape: &[usize], dtype: DType, dst: Option<&Tensor>, inputs: &[&Tensor]) -> Result<Tensor> {
    if let Some(d) = dst {
        if d.shape().iter().zip(d.strides()).any(|(&n, &s)| n > 1 && s == 0) {
            bail!(
                Runtime,
                "unsupported operation: more than one element of the written-to tensor refers to a \
                 single memory location. Please clone() the tensor before performing the operation."
            );
        }
        let overlaps = inputs.iter().any(|x| d.shares_storage(x) && d.layout() != x.layout());
        if d.shape() == shape && d.dtype() == dtype && !overlaps {
            d.storage().bump_version();
            return Ok(d.clone());
        }
    }
    let device = inputs.first().map_or(crate::Device::Cpu, |t| t.device());
    Tensor::empty(shape, dtype, device)
}

/// The dtype a float function of `d` returns: `d` itself if floating, else the default float.
pub fn float_result(d: DType) -> DType {
    if d.is_floating_point() {
        d
    } else {
        default_float()
    }
}

/// `x` as a float tensor, and whether that is a fresh copy the op may overwrite.
fn to_float(x: &Tensor) -> Result<(Tensor, bool)> {
    if x.dtype().is_floating_point() {
        Ok((x.clone(), false))
    } else {
        Ok((x.to_dtype(default_float())?, true))
    }
}

/// Defines `pub fn $name(x, dst) -> Result<Tensor>` computing `|$v| $body` elementwise in the
/// accumulator type. Integer and bool inputs are converted to the default float dtype first
/// (into a fresh tensor that then also serves as the output).
macro_rules! float_unary {
    ($($name:ident, $op:literal, |$v:ident| $body:expr;)*) => {$(
        #[doc = concat!("`torch.", $op, "(x)`; integer inputs give the default float dtype.")]
        pub fn $name(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
            let (x, fresh) = to_float(x)?;
            let dst = dst.or(if fresh { Some(&x) } else { None });
            let out = output_for(x.shape(), x.dtype(), dst, &[&x])?;
            dispatch_float!(x.dtype(), T => map1::<T, T>(&out, &x, |e: T| {
                let $v = e.to_acc();
                T::from_acc($body)
            }), _ => bail!(Runtime, "{}: unexpected dtype {}", $op, x.dtype()));
            Ok(out)
        }
    )*};
}

float_unary! {
    exp, "exp", |v| v.fast_exp();
    exp2, "exp2", |v| v.exp2();
    log, "log", |v| v.ln();
    log2, "log2", |v| v.log2();
    log10, "log10", |v| v.log10();
    log1p, "log1p", |v| v.ln_1p();
    expm1, "expm1", |v| v.exp_m1();
    sqrt, "sqrt", |v| v.sqrt();
    rsqrt, "rsqrt", |v| 1.0 / v.sqrt();
    sin, "sin", |v| v.sin();
    cos, "cos", |v| v.cos();
    tan, "tan", |v| v.tan();
    asin, "asin", |v| v.asin();
    acos, "acos", |v| v.acos();
    atan, "atan", |v| v.atan();
    sinh, "sinh", |v| v.sinh();
    cosh, "cosh", |v| v.cosh();
    tanh, "tanh", |v| v.tanh();
    asinh, "asinh", |v| v.asinh();
    acosh, "acosh", |v| v.acosh();
    atanh, "atanh", |v| v.atanh();
    sigmoid, "sigmoid", |v| 1.0 / (1.0 + (-v).fast_exp());
    erf, "erf", |v| v.erf_();
    erfc, "erfc", |v| v.erfc_();
    erfinv, "erfinv", |v| v.erfinv_();
    reciprocal, "reciprocal", |v| 1.0 / v;
}

/// Defines a float-only op that keeps the dtype (rounding family): integer inputs are copied
/// unchanged when `$ints_copy`, else refused as torch does.
macro_rules! float_keep {
    ($($name:ident, $kernel:literal, $ints_copy:expr, |$v:ident| $body:expr;)*) => {$(
        #[doc = concat!("`torch.", stringify!($name), "(x)`, keeping the dtype.")]
        pub fn $name(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
            let dt = x.dtype();
            if !dt.is_floating_point() {
                if !$ints_copy || dt == DType::Bool {
                    return Err(not_implemented($kernel, dt));
                }
                let out = output_for(x.shape(), dt, dst, &[x])?;
                out.copy_(x)?;
                return Ok(out);
            }
            let out = output_for(x.shape(), dt, dst, &[x])?;
            dispatch_float!(dt, T => map1::<T, T>(&out, x, |e: T| {
                let $v = e.to_acc();
                T::from_acc($body)
            }), _ => unreachable!());
            Ok(out)
        }
    )*};
}

float_keep! {
    floor, "floor_cpu", true, |v| v.floor();
    ceil, "ceil_cpu", true, |v| v.ceil();
    trunc, "trunc_cpu", true, |v| v.trunc();
    round, "round_cpu", true, |v| v.round_ties_even();
    frac, "frac_cpu", false, |v| v - v.trunc();
}

/// `torch.round(x, decimals=d)`: `nearbyint(x * 10^d) / 10^d` (division first for `d < 0`),
/// computed in the accumulator type as torch does.
pub fn round_decimals(x: &Tensor, decimals: i64, dst: Option<&Tensor>) -> Result<Tensor> {
    if decimals == 0 {
        return round(x, dst);
    }
    let dt = x.dtype();
    if !dt.is_floating_point() {
        return Err(not_implemented("round_cpu", dt));
    }
    let neg = decimals < 0;
    let p = 10f64.powi(decimals.unsigned_abs().min(400) as i32);
    let out = output_for(x.shape(), dt, dst, &[x])?;
    dispatch_float!(dt, T => {
        let p: <T as Float>::Acc = FloatMath::from_f64(p);
        map1::<T, T>(&out, x, |e: T| {
            let v = e.to_acc();
            T::from_acc(if neg { (v / p).round_ties_even() * p } else { (v * p).round_ties_even() / p })
        })
    }, _ => unreachable!());
    Ok(out)
}
