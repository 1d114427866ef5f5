//! Typed kernels of the binary ops: per-element math for integers, floats and bool, picked by
//! the compute dtype. Argument checking happened in [`super::binary`]; nothing here can fail.

use super::binary::{zip2, BinaryOp};
use crate::dtype::DType;
use crate::element::num_like::FloatMath;
use crate::element::{Element, Float};
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{dispatch_all, dispatch_float, dispatch_int};

/// Wrapping arithmetic every dtype has (bool: or / xor / and, as torch's bool kernels).
pub trait Arith: Element {
    fn add_(self, o: Self) -> Self;
    fn sub_(self, o: Self) -> Self;
    fn mul_(self, o: Self) -> Self;
}
macro_rules! arith_native {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)] fn add_(self, o: Self) -> Self { self + o }
            #[inline(always)] fn sub_(self, o: Self) -> Self { self - o }
            #[inline(always)] fn mul_(self, o: Self) -> Self { self * o }
        }
    )*};
}
arith_native!(f32, f64, half::f16, half::bf16);
impl Arith for bool {
    #[inline(always)]
    fn add_(self, o: Self) -> Self {
        self | o
    }
    #[inline(always)]
    fn sub_(self, o: Self) -> Self {
        self ^ o
    }
    #[inline(always)]
    fn mul_(self, o: Self) -> Self {
        self & o
    }
}

/// Integer math with torch's semantics. Division by zero never reaches here (checked up
/// front) but still returns 0 rather than panicking; overflow wraps.
pub trait IntMath: Arith + Ord {
    fn div_trunc(self, o: Self) -> Self;
    fn div_floor(self, o: Self) -> Self;
    fn rem_floor(self, o: Self) -> Self;
    fn fmod(self, o: Self) -> Self;
    fn pow_(self, e: Self) -> Self;
    fn shl_(self, o: Self) -> Self;
    fn shr_(self, o: Self) -> Self;
}

macro_rules! int_math {
    ($t:ty, $signed:ty, $unsigned:ty, $is_neg:expr) => {
        impl Arith for $t {
            #[inline(always)]
            fn add_(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            #[inline(always)]
            fn sub_(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
            #[inline(always)]
            fn mul_(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
        }
        impl IntMath for $t {
            #[inline(always)]
            fn div_trunc(self, o: Self) -> Self {
                if o == 0 {
                    0
                } else {
                    self.wrapping_div(o)
                }
            }
            #[inline(always)]
            fn div_floor(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let is_neg: fn($t) -> bool = $is_neg;
                let (q, r) = (self.wrapping_div(o), self.wrapping_rem(o));
                if r != 0 && is_neg(r) != is_neg(o) {
                    q.wrapping_sub(1)
                } else {
                    q
                }
            }
            #[inline(always)]
            fn rem_floor(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let is_neg: fn($t) -> bool = $is_neg;
                let r = self.wrapping_rem(o);
                if r != 0 && is_neg(r) != is_neg(o) {
                    r.wrapping_add(o)
                } else {
                    r
                }
            }
            #[inline(always)]
            fn fmod(self, o: Self) -> Self {
                if o == 0 {
                    0
                } else {
                    self.wrapping_rem(o)
                }
            }
            #[inline(always)]
            fn pow_(self, e: Self) -> Self {
                let is_neg: fn($t) -> bool = $is_neg;
                if is_neg(e) {
                    // torch's powi for negative exponents: only +-1 survive.
                    return match self as i64 {
                        1 => 1,
                        -1 => {
                            if (e as i64) % 2 == 0 {
                                1
                            } else {
                                self
                            }
                        }
                        _ => 0,
                    };
                }
                let (mut base, mut e, mut acc) = (self, e, 1 as $t);
                while e != 0 {
                    if e & 1 == 1 {
                        acc = acc.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
            #[inline(always)]
            fn shl_(self, o: Self) -> Self {
                // torch: a shift by a negative amount or by the width or more gives 0.
                const BITS: i64 = <$t>::BITS as i64;
                if (o as $signed) < 0 || (o as i64) >= BITS {
                    0
                } else {
                    ((self as $unsigned) << (o as u32)) as $t
                }
            }
            #[inline(always)]
            fn shr_(self, o: Self) -> Self {
                // torch: out-of-range shifts saturate to the sign fill (0 for unsigned).
                const MAX: i64 = <$t>::BITS as i64 - (<$t>::MIN != 0) as i64;
                let amount = if (o as $signed) < 0 || (o as i64) >= MAX {
                    MAX
                } else {
                    o as i64
                };
                self.checked_shr(amount as u32).unwrap_or(0)
            }
        }
    };
}
int_math!(u8, i8, u8, |_| false);
int_math!(i8, i8, u8, |v| v < 0);
int_math!(i16, i16, u16, |v| v < 0);
int_math!(i32, i32, u32, |v| v < 0);
int_math!(i64, i64, u64, |v| v < 0);

/// The float functions binary ops need beyond [`FloatMath`], on the accumulator types.
pub trait FMath: FloatMath {
    fn floor(self) -> Self;
    fn trunc(self) -> Self;
    fn fmod(self, o: Self) -> Self;
    fn atan2(self, o: Self) -> Self;
    fn hypot(self, o: Self) -> Self;
    fn copysign(self, o: Self) -> Self;
}
macro_rules! fmath {
    ($t:ty) => {
        impl FMath for $t {
            #[inline(always)]
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            #[inline(always)]
            fn trunc(self) -> Self {
                <$t>::trunc(self)
            }
            #[inline(always)]
            fn fmod(self, o: Self) -> Self {
                self % o
            }
            #[inline(always)]
            fn atan2(self, o: Self) -> Self {
                <$t>::atan2(self, o)
            }
            #[inline(always)]
            fn hypot(self, o: Self) -> Self {
                <$t>::hypot(self, o)
            }
            #[inline(always)]
            fn copysign(self, o: Self) -> Self {
                <$t>::copysign(self, o)
            }
        }
    };
}
fmath!(f32);
fmath!(f64);

/// torch's `div_floor_floating`: floor of the exact quotient, as Python's `//` on floats.
#[inline(always)]
fn div_floor_f<F: FMath>(a: F, b: F) -> F {
    let zero = F::from_f64(0.0);
    if b == zero {
        return a / b;
    }
    let m = a.fmod(b);
    let mut div = (a - m) / b;
    if m != zero && (b < zero) != (m < zero) {
        div = div - F::from_f64(1.0);
    }
    if div != zero {
        let fl = div.floor();
        if div - fl > F::from_f64(0.5) {
            fl + F::from_f64(1.0)
        } else {
            fl
        }
    } else {
        zero.copysign(a / b)
    }
}

/// torch's float `remainder`: the `fmod` moved to the divisor's sign.
#[inline(always)]
fn rem_floor_f<F: FMath>(a: F, b: F) -> F {
    let zero = F::from_f64(0.0);
    let m = a.fmod(b);
    if m != zero && (b < zero) != (m < zero) {
        m + b
    } else {
        m
    }
}

#[inline(always)]
fn xlogy_f<F: FMath>(x: F, y: F) -> F {
    if y.is_nan() {
        y
    } else if x == F::from_f64(0.0) {
        x
    } else {
        x * y.ln()
    }
}

/// NaN-aware max/min for every element type (`x != x` only holds for NaN).
#[inline(always)]
#[allow(clippy::eq_op)]
fn maximum<T: Element>(x: T, y: T) -> T {
    if x != x || x > y {
        x
    } else {
        y
    }
}
#[inline(always)]
#[allow(clippy::eq_op)]
fn minimum<T: Element>(x: T, y: T) -> T {
    if x != x || x < y {
        x
    } else {
        y
    }
}
#[inline(always)]
#[allow(clippy::eq_op)]
fn fmax<T: Element>(x: T, y: T) -> T {
    if y != y || x > y {
        x
    } else {
        y
    }
}
#[inline(always)]
#[allow(clippy::eq_op)]
fn fmin<T: Element>(x: T, y: T) -> T {
    if y != y || x < y {
        x
    } else {
        y
    }
}

/// Runs `$body` with `$T` bound to the integer or bool type of `$dtype`.
macro_rules! dispatch_int_bool {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            DType::Bool => {
                type $T = bool;
                $body
            }
            d => dispatch_int!(d, $T => $body, _ => unreachable_dtype(d)),
        }
    };
}

/// The driver rejects dtypes an op has no kernel for, so this is never reached; it does
/// nothing rather than panic.
#[cold]
fn unreachable_dtype(_d: DType) {}

/// Runs the kernel of `op` computing in `compute` (the dtype of `a` and `b`).
// Comparisons are written once for every dtype, bool included.
#[allow(clippy::bool_comparison)]
pub fn kernel(op: BinaryOp, out: &Tensor, a: &Tensor, b: &Tensor, compute: DType) {
    use BinaryOp::*;
    match op {
        Add(alpha) | Sub(alpha) => {
            let neg = matches!(op, Sub(_));
            dispatch_all!(compute, T => add_kernel::<T>(out, a, b, alpha, neg))
        }
        Mul => dispatch_all!(compute, T => zip2::<T, T, T>(out, a, b, |x, y| x.mul_(y))),
        Maximum => dispatch_all!(compute, T => zip2::<T, T, T>(out, a, b, maximum)),
        Minimum => dispatch_all!(compute, T => zip2::<T, T, T>(out, a, b, minimum)),
        Fmax => dispatch_all!(compute, T => zip2::<T, T, T>(out, a, b, fmax)),
        Fmin => dispatch_all!(compute, T => zip2::<T, T, T>(out, a, b, fmin)),
        Eq => dispatch_all!(compute, T => zip2::<T, T, bool>(out, a, b, |x, y| x == y)),
        Ne => dispatch_all!(compute, T => zip2::<T, T, bool>(out, a, b, |x, y| x != y)),
        Lt => dispatch_all!(compute, T => zip2::<T, T, bool>(out, a, b, |x, y| x < y)),
        Le => dispatch_all!(compute, T => zip2::<T, T, bool>(out, a, b, |x, y| x <= y)),
        Gt => dispatch_all!(compute, T => zip2::<T, T, bool>(out, a, b, |x, y| x > y)),
        Ge => dispatch_all!(compute, T => zip2::<T, T, bool>(out, a, b, |x, y| x >= y)),
        LogicalAnd | LogicalOr | LogicalXor => dispatch_all!(compute, T => {
            let z = T::zero();
            match op {
                LogicalAnd => zip2::<T, T, bool>(out, a, b, move |x, y| x != z && y != z),
                LogicalOr => zip2::<T, T, bool>(out, a, b, move |x, y| x != z || y != z),
                _ => zip2::<T, T, bool>(out, a, b, move |x, y| (x != z) != (y != z)),
            }
        }),
        BitAnd | BitOr | BitXor => dispatch_int_bool!(compute, T => match op {
            BitAnd => zip2::<T, T, T>(out, a, b, |x, y| x & y),
            BitOr => zip2::<T, T, T>(out, a, b, |x, y| x | y),
            _ => zip2::<T, T, T>(out, a, b, |x, y| x ^ y),
        }),
        _ => dispatch_float!(compute, T => float_kernel::<T>(op, out, a, b),
            _ => dispatch_int!(compute, T => int_kernel::<T>(op, out, a, b), _ => unreachable_dtype(compute))),
    }
}

/// The CUDA kernel of `op` on CUDA `out` (operands in the compute dtype, possibly CPU scalars).
pub fn cuda_kernel(op: BinaryOp, out: &Tensor, a: &Tensor, b: &Tensor) -> Result<()> {
    use crate::cuda::elementwise::{binary, compare, Binary as K, Compare as C};
    use BinaryOp::*;
    let one = super::binary::ONE;
    let (k, alpha) = match op {
        Add(al) => (K::Add, al),
        Sub(al) => (K::Sub, al),
        Mul => (K::Mul, one),
        Div => (K::Div, one),
        DivTrunc => (K::DivTrunc, one),
        DivFloor => (K::DivFloor, one),
        Remainder => (K::Remainder, one),
        Fmod => (K::Fmod, one),
        Pow | FloatPower => (K::Pow, one),
        Atan2 => (K::Atan2, one),
        Hypot => (K::Hypot, one),
        Copysign => (K::Copysign, one),
        Xlogy => (K::Xlogy, one),
        Maximum => (K::Maximum, one),
        Minimum => (K::Minimum, one),
        Fmax => (K::Fmax, one),
        Fmin => (K::Fmin, one),
        BitAnd => (K::BitAnd, one),
        BitOr => (K::BitOr, one),
        BitXor => (K::BitXor, one),
        Shl => (K::Shl, one),
        Shr => (K::Shr, one),
        Eq | Ne | Lt | Le | Gt | Ge | LogicalAnd | LogicalOr | LogicalXor => {
            let c = match op {
                Eq => C::Eq,
                Ne => C::Ne,
                Lt => C::Lt,
                Le => C::Le,
                Gt => C::Gt,
                Ge => C::Ge,
                LogicalAnd => C::And,
                LogicalOr => C::Or,
                _ => C::Xor,
            };
            return compare(c, out, a, b);
        }
    };
    binary(k, out, a, b, alpha)
}

fn add_kernel<T: Arith>(out: &Tensor, a: &Tensor, b: &Tensor, alpha: Scalar, neg: bool) {
    match (alpha == super::binary::ONE, neg) {
        (true, false) => zip2::<T, T, T>(out, a, b, |x, y| x.add_(y)),
        (true, true) => zip2::<T, T, T>(out, a, b, |x, y| x.sub_(y)),
        (false, _) => {
            let al: T = alpha.to_elem();
            if neg {
                zip2::<T, T, T>(out, a, b, move |x, y| x.sub_(y.mul_(al)))
            } else {
                zip2::<T, T, T>(out, a, b, move |x, y| x.add_(y.mul_(al)))
            }
        }
    }
}

fn int_kernel<T: IntMath>(op: BinaryOp, out: &Tensor, a: &Tensor, b: &Tensor) {
    use BinaryOp::*;
    match op {
        DivTrunc => zip2::<T, T, T>(out, a, b, T::div_trunc),
        DivFloor => zip2::<T, T, T>(out, a, b, T::div_floor),
        Remainder => zip2::<T, T, T>(out, a, b, T::rem_floor),
        Fmod => zip2::<T, T, T>(out, a, b, T::fmod),
        Pow => zip2::<T, T, T>(out, a, b, T::pow_),
        Shl => zip2::<T, T, T>(out, a, b, T::shl_),
        Shr => zip2::<T, T, T>(out, a, b, T::shr_),
        _ => {}
    }
}

fn float_kernel<T: Float>(op: BinaryOp, out: &Tensor, a: &Tensor, b: &Tensor)
where
    T::Acc: FMath,
{
    use BinaryOp::*;
    // Every float op: widen to the accumulator type, apply, narrow back.
    fn go<T: Float>(
        out: &Tensor,
        a: &Tensor,
        b: &Tensor,
        f: impl Fn(T::Acc, T::Acc) -> T::Acc + Sync + Send + Copy,
    ) {
        zip2::<T, T, T>(out, a, b, move |x, y| {
            T::from_acc(f(x.to_acc(), y.to_acc()))
        })
    }
    match op {
        Div => go::<T>(out, a, b, |x, y| x / y),
        DivTrunc => go::<T>(out, a, b, |x, y| (x / y).trunc()),
        DivFloor => go::<T>(out, a, b, div_floor_f),
        Remainder => go::<T>(out, a, b, rem_floor_f),
        Fmod => go::<T>(out, a, b, |x, y| x.fmod(y)),
        Pow | FloatPower => go::<T>(out, a, b, |x, y| x.powf(y)),
        Atan2 => go::<T>(out, a, b, |x, y| x.atan2(y)),
        Hypot => go::<T>(out, a, b, |x, y| x.hypot(y)),
        Copysign => go::<T>(out, a, b, |x, y| x.copysign(y)),
        Xlogy => go::<T>(out, a, b, xlogy_f),
        _ => {}
    }
}
