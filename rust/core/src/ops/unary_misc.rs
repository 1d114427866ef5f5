//! Unary ops that keep integer dtypes (`abs`, `neg`, `sign`, `square`, `relu`), the float
//! predicates (`isnan` ...), `logical_not`, `bitwise_not` and `nan_to_num`.

use super::unary::{not_implemented, output_for};
use crate::cpu::elementwise::{map1, map2};
use crate::cuda::elementwise as cuda;
use crate::device::Device;
use crate::dtype::DType;
use crate::element::{Element, Float};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{dispatch_all, dispatch_float, dispatch_int};

/// Sign-aware arithmetic per element type: integers wrap on overflow as torch's do
/// (`abs(int8(-128)) == -128`), f16/bf16 go through f32.
trait SignedOps: Element {
    fn neg_(self) -> Self;
    fn abs_(self) -> Self;
    fn sign_(self) -> Self;
    fn square_(self) -> Self;
    fn relu_(self) -> Self;
}

macro_rules! signed_int {
    ($($t:ty),*) => {$(
        impl SignedOps for $t {
            #[inline(always)] fn neg_(self) -> Self { self.wrapping_neg() }
            #[inline(always)] fn abs_(self) -> Self { self.wrapping_abs() }
            #[inline(always)] fn sign_(self) -> Self { self.signum() }
            #[inline(always)] fn square_(self) -> Self { self.wrapping_mul(self) }
            #[inline(always)] fn relu_(self) -> Self { self.max(0) }
        }
    )*};
}
signed_int!(i8, i16, i32, i64);

impl SignedOps for u8 {
    #[inline(always)]
    fn neg_(self) -> Self {
        self.wrapping_neg()
    }
    #[inline(always)]
    fn abs_(self) -> Self {
        self
    }
    #[inline(always)]
    fn sign_(self) -> Self {
        (self > 0) as u8
    }
    #[inline(always)]
    fn square_(self) -> Self {
        self.wrapping_mul(self)
    }
    #[inline(always)]
    fn relu_(self) -> Self {
        self
    }
}

/// Bool only reaches `sign` (the identity); the other ops refuse bool before dispatch.
impl SignedOps for bool {
    fn neg_(self) -> Self {
        self
    }
    fn abs_(self) -> Self {
        self
    }
    fn sign_(self) -> Self {
        self
    }
    fn square_(self) -> Self {
        self
    }
    fn relu_(self) -> Self {
        self
    }
}

macro_rules! signed_float {
    ($($t:ty),*) => {$(
        impl SignedOps for $t {
            #[inline(always)] fn neg_(self) -> Self { Self::from_acc(-self.to_acc()) }
            #[inline(always)] fn abs_(self) -> Self { Self::from_acc(self.to_acc().abs()) }
            /// NaN gives 0, as torch's `(0 < x) - (x < 0)`.
            #[inline(always)] fn sign_(self) -> Self {
                let v = self.to_acc();
                Self::from_acc(((0.0 < v) as u8 as f32 - (v < 0.0) as u8 as f32) as _)
            }
            #[inline(always)] fn square_(self) -> Self { let v = self.to_acc(); Self::from_acc(v * v) }
            /// NaN stays NaN (torch's relu is `clamp_min(x, 0)`).
            #[inline(always)] fn relu_(self) -> Self {
                let v = self.to_acc();
                Self::from_acc(if v < 0.0 { 0.0 } else { v })
            }
        }
    )*};
}
signed_float!(f32, f64, half::f16, half::bf16);

macro_rules! keep_dtype {
    ($($name:ident, $op:literal, $method:ident, $code:ident, |$dev:ident| $bool_err:expr;)*) => {$(
        #[doc = concat!("`torch.", $op, "(x)`, keeping integer dtypes.")]
        pub fn $name(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
            if x.dtype() == DType::Bool {
                let bool_err = |$dev: Device| -> Option<Error> { $bool_err };
                let bool_err = bool_err(x.device());
                if let Some(e) = bool_err {
                    return Err(e);
                }
            }
            let out = output_for(x.shape(), x.dtype(), dst, &[x])?;
            if out.is_cuda() {
                cuda::unary(cuda::Unary::$code, &out, x, [0; 3])?;
                return Ok(out);
            }
            dispatch_all!(x.dtype(), T => map1::<T, T>(&out, x, |e: T| e.$method()));
            Ok(out)
        }
    )*};
}

keep_dtype! {
    neg, "neg", neg_, Neg, |_d| Some(Error::runtime("Negation, the `-` operator, on a bool tensor is not supported. If you are \
        trying to invert a mask, use the `~` or `logical_not()` operator instead."));
    abs, "abs", abs_, Abs, |d| Some(not_implemented("abs_cpu", DType::Bool, d));
    sign, "sign", sign_, Sign, |_d| None;
    relu, "relu", relu_, Relu, |_d| Some(Error::runtime("Boolean inputs not supported for relu"));
    square_same, "square", square_, Square, |_d| None;
}

/// ReLU's input gradient from its output: `g` where `r > 0`, else 0 (torch's
/// `threshold_backward(g, r, 0)`; a NaN in `r` passes `g`), in one pass. For CPU tensors of
/// one floating dtype and one shape; `None` otherwise, and the autograd rule composes a
/// comparison and `where` instead (two passes, the second over a broadcast zero, which the
/// elementwise loops run element by element: several times slower on a CNN's activations).
pub fn relu_backward(g: &Tensor, r: &Tensor) -> Result<Option<Tensor>> {
    if g.is_cuda() || r.is_cuda() || g.shape() != r.shape() || g.dtype() != r.dtype() {
        return Ok(None);
    }
    // Every element is written: no need to clear it first.
    let out = Tensor::empty_unzeroed(g.shape(), g.dtype())?;
    dispatch_float!(g.dtype(), T => map2::<T, T, T>(&out, g, r, |g, r| {
        if r <= T::zero() { T::zero() } else { g }
    }), _ => return Ok(None));
    Ok(Some(out))
}

/// `torch.square(x)`: `x * x`; bool squares as int64 (torch computes `pow(x, 2)`).
pub fn square(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
    if x.dtype() == DType::Bool {
        let wide = x.to_dtype(DType::I64)?;
        return square_same(&wide, dst.or(Some(&wide)));
    }
    square_same(x, dst)
}

/// Defines a float predicate with a bool result; integer and bool inputs give `$int_value`.
macro_rules! predicate {
    ($($name:ident, $op:literal, $int_value:expr, $code:expr, |$v:ident| $body:expr;)*) => {$(
        #[doc = concat!("`torch.", $op, "(x)`: a bool tensor.")]
        pub fn $name(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
            let out = output_for(x.shape(), DType::Bool, dst, &[x])?;
            if out.is_cuda() {
                let code: Option<cuda::Predicate> = $code;
                match code {
                    Some(p) if x.dtype().is_floating_point() => cuda::predicate(p, &out, x)?,
                    // Integers, and isreal (true for every real dtype).
                    _ => out.fill_(Scalar::Bool($int_value))?,
                }
                return Ok(out);
            }
            dispatch_float!(x.dtype(), T => map1::<T, bool>(&out, x, |e: T| {
                let $v = e.to_acc();
                $body
            }), _ => out.fill_(Scalar::Bool($int_value))?);
            Ok(out)
        }
    )*};
}

predicate! {
    isnan, "isnan", false, Some(cuda::Predicate::IsNan), |v| v.is_nan();
    isinf, "isinf", false, Some(cuda::Predicate::IsInf), |v| v.is_infinite();
    isfinite, "isfinite", true, Some(cuda::Predicate::IsFinite), |v| v.is_finite();
    isposinf, "isposinf", false, Some(cuda::Predicate::IsPosInf), |v| v.is_infinite() && v > 0.0;
    isneginf, "isneginf", false, Some(cuda::Predicate::IsNegInf), |v| v.is_infinite() && v < 0.0;
    isreal, "isreal", true, None, |v| { let _ = v; true };
}

/// `torch.logical_not(x)`: `x == 0` as bool (NaN is true, so gives false).
pub fn logical_not(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
    let out = output_for(x.shape(), DType::Bool, dst, &[x])?;
    if out.is_cuda() {
        cuda::predicate(cuda::Predicate::LogicalNot, &out, x)?;
        return Ok(out);
    }
    dispatch_all!(x.dtype(), T => map1::<T, bool>(&out, x, |e: T| e == T::zero()));
    Ok(out)
}

/// `torch.bitwise_not(x)`: integer and bool tensors only.
pub fn bitwise_not(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
    let dt = x.dtype();
    if dt.is_floating_point() {
        return Err(not_implemented("bitwise_not_cpu", dt, x.device()));
    }
    let out = output_for(x.shape(), dt, dst, &[x])?;
    if out.is_cuda() {
        cuda::unary(cuda::Unary::BitwiseNot, &out, x, [0; 3])?;
        return Ok(out);
    }
    dispatch_int!(dt, T => map1::<T, T>(&out, x, |e: T| !e), _ => map1::<bool, bool>(&out, x, |e: bool| !e));
    Ok(out)
}

/// The largest finite value of a float dtype, `torch.finfo(d).max`.
fn finite_max(d: DType) -> f64 {
    match d {
        DType::F16 => 65504.0,
        DType::BF16 => 3.389_531_389_251_535_5e38,
        DType::F32 => f32::MAX as f64,
        _ => f64::MAX,
    }
}

/// `torch.nan_to_num(x, nan, posinf, neginf)`: infinities default to the dtype's finite extremes;
/// integer tensors are returned as a copy.
pub fn nan_to_num(
    x: &Tensor,
    nan: f64,
    posinf: Option<f64>,
    neginf: Option<f64>,
    dst: Option<&Tensor>,
) -> Result<Tensor> {
    let dt = x.dtype();
    let out = output_for(x.shape(), dt, dst, &[x])?;
    if !dt.is_floating_point() {
        if !(dst.is_some() && out.shares_storage(x) && out.layout() == x.layout()) {
            out.copy_(x)?;
        }
        return Ok(out);
    }
    let big = finite_max(dt);
    if out.is_cuda() {
        let bits = |v: f64| cuda::scalar_bits(Scalar::Float(v), dt);
        let p = [
            bits(nan),
            bits(posinf.unwrap_or(big)),
            bits(neginf.unwrap_or(-big)),
        ];
        cuda::unary(cuda::Unary::NanToNum, &out, x, p)?;
        return Ok(out);
    }
    dispatch_float!(dt, T => {
        let (n, p, m) = (T::from_f64(nan), T::from_f64(posinf.unwrap_or(big)), T::from_f64(neginf.unwrap_or(-big)));
        map1::<T, T>(&out, x, |e: T| {
            let v = e.to_acc();
            if v.is_nan() { n } else if v.is_infinite() { if v > 0.0 { p } else { m } } else { e }
        })
    }, _ => unreachable!());
    Ok(out)
}
