//! The Rust scalar type behind each [`DType`], conversions between them, and the
//! `dispatch!` macros that pick a monomorphised kernel from a runtime dtype.

use crate::dtype::DType;
use half::{bf16, f16};

/// A scalar that can live in a tensor. Conversions follow C++ `static_cast` as torch does:
/// float to int truncates toward zero, int to narrower int wraps, anything to bool is `!= 0`.
pub trait Element:
    Copy + Send + Sync + PartialEq + PartialOrd + Default + std::fmt::Debug + 'static
{
    const DTYPE: DType;
    const IS_FLOAT: bool;
    fn to_f64(self) -> f64;
    fn to_i64(self) -> i64;
    fn from_f64(v: f64) -> Self;
    fn from_i64(v: i64) -> Self;
    fn zero() -> Self;
    fn one() -> Self;

    /// Converts with torch's casting semantics.
    #[inline(always)]
    fn cast<U: Element>(self) -> U {
        if U::IS_FLOAT || Self::IS_FLOAT {
            U::from_f64(self.to_f64())
        } else {
            U::from_i64(self.to_i64())
        }
    }
}

macro_rules! int_element {
    ($t:ty, $dt:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            const IS_FLOAT: bool = false;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                // Truncate toward zero, then wrap into the narrower type (x86 behaviour of torch).
                (v as i64) as $t
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn zero() -> Self {
                0
            }
            #[inline(always)]
            fn one() -> Self {
                1
            }
        }
    };
}
int_element!(u8, U8);
int_element!(i8, I8);
int_element!(i16, I16);
int_element!(i32, I32);
int_element!(i64, I64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    const IS_FLOAT: bool = false;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    const IS_FLOAT: bool = true;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v as f32
    }
    fn zero() -> Self {
        0.0
    }
    fn one() -> Self {
        1.0
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    const IS_FLOAT: bool = true;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v as f64
    }
    fn zero() -> Self {
        0.0
    }
    fn one() -> Self {
        1.0
    }
}

macro_rules! half_element {
    ($t:ty, $dt:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            const IS_FLOAT: bool = true;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self.to_f64()
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self.to_f32() as i64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                <$t>::from_f64(v)
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                <$t>::from_f64(v as f64)
            }
            fn zero() -> Self {
                <$t>::ZERO
            }
            fn one() -> Self {
                <$t>::ONE
            }
        }
    };
}
half_element!(f16, F16);
half_element!(bf16, BF16);

/// Floating element types: math is done in `f32` for the 16-bit types (as torch's CPU kernels
/// do) and natively for `f32`/`f64`.
pub trait Float: Element {
    /// The type arithmetic is carried out in.
    type Acc: num_like::FloatMath;
    fn to_acc(self) -> Self::Acc;
    fn from_acc(v: Self::Acc) -> Self;
}

impl Float for f32 {
    type Acc = f32;
    #[inline(always)]
    fn to_acc(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_acc(v: f32) -> Self {
        v
    }
}
impl Float for f64 {
    type Acc = f64;
    #[inline(always)]
    fn to_acc(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_acc(v: f64) -> Self {
        v
    }
}
impl Float for f16 {
    type Acc = f32;
    #[inline(always)]
    fn to_acc(self) -> f32 {
        self.to_f32()
    }
    #[inline(always)]
    fn from_acc(v: f32) -> Self {
        f16::from_f32(v)
    }
}
impl Float for bf16 {
    type Acc = f32;
    #[inline(always)]
    fn to_acc(self) -> f32 {
        self.to_f32()
    }
    #[inline(always)]
    fn from_acc(v: f32) -> Self {
        bf16::from_f32(v)
    }
}

pub mod num_like {
    //! The two accumulator types (`f32`, `f64`) behind one trait, so a float kernel is written once.
    use std::ops::{Add, Div, Mul, Neg, Sub};

    pub trait FloatMath:
        Copy
        + Send
        + Sync
        + PartialOrd
        + Add<Output = Self>
        + Sub<Output = Self>
        + Mul<Output = Self>
        + Div<Output = Self>
        + Neg<Output = Self>
        + 'static
    {
        fn from_f64(v: f64) -> Self;
        fn to_f64(self) -> f64;
        fn exp(self) -> Self;
        fn ln(self) -> Self;
        fn sqrt(self) -> Self;
        fn tanh(self) -> Self;
        fn abs(self) -> Self;
        fn is_nan(self) -> bool;
        fn powf(self, e: Self) -> Self;
        fn max_(self, o: Self) -> Self;
        fn min_(self, o: Self) -> Self;
    }

    macro_rules! impl_float_math {
        ($t:ty) => {
            impl FloatMath for $t {
                #[inline(always)]
                fn from_f64(v: f64) -> Self {
                    v as $t
                }
                #[inline(always)]
                fn to_f64(self) -> f64 {
                    self as f64
                }
                #[inline(always)]
                fn exp(self) -> Self {
                    <$t>::exp(self)
                }
                #[inline(always)]
                fn ln(self) -> Self {
                    <$t>::ln(self)
                }
                #[inline(always)]
                fn sqrt(self) -> Self {
                    <$t>::sqrt(self)
                }
                #[inline(always)]
                fn tanh(self) -> Self {
                    <$t>::tanh(self)
                }
                #[inline(always)]
                fn abs(self) -> Self {
                    <$t>::abs(self)
                }
                #[inline(always)]
                fn is_nan(self) -> bool {
                    <$t>::is_nan(self)
                }
                #[inline(always)]
                fn powf(self, e: Self) -> Self {
                    <$t>::powf(self, e)
                }
                #[inline(always)]
                fn max_(self, o: Self) -> Self {
                    <$t>::max(self, o)
                }
                #[inline(always)]
                fn min_(self, o: Self) -> Self {
                    <$t>::min(self, o)
                }
            }
        };
    }
    impl_float_math!(f32);
    impl_float_math!(f64);
}

/// Runs `$body` with the type alias `$T` bound to the Rust type of `$dtype`, for every dtype.
#[macro_export]
macro_rules! dispatch_all {
    ($dtype:expr, $T:ident => $body:expr) => {{
        use $crate::dtype::DType as __D;
        match $dtype {
            __D::Bool => {
                type $T = bool;
                $body
            }
            __D::U8 => {
                type $T = u8;
                $body
            }
            __D::I8 => {
                type $T = i8;
                $body
            }
            __D::I16 => {
                type $T = i16;
                $body
            }
            __D::I32 => {
                type $T = i32;
                $body
            }
            __D::I64 => {
                type $T = i64;
                $body
            }
            __D::F16 => {
                type $T = ::half::f16;
                $body
            }
            __D::BF16 => {
                type $T = ::half::bf16;
                $body
            }
            __D::F32 => {
                type $T = f32;
                $body
            }
            __D::F64 => {
                type $T = f64;
                $body
            }
        }
    }};
}

/// Like [`dispatch_all!`] for the floating dtypes; `$other` is evaluated for the rest.
#[macro_export]
macro_rules! dispatch_float {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        use $crate::dtype::DType as __D;
        match $dtype {
            __D::F16 => {
                type $T = ::half::f16;
                $body
            }
            __D::BF16 => {
                type $T = ::half::bf16;
                $body
            }
            __D::F32 => {
                type $T = f32;
                $body
            }
            __D::F64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    }};
}

/// Like [`dispatch_all!`] for the integer dtypes (not bool); `$other` for the rest.
#[macro_export]
macro_rules! dispatch_int {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        use $crate::dtype::DType as __D;
        match $dtype {
            __D::U8 => {
                type $T = u8;
                $body
            }
            __D::I8 => {
                type $T = i8;
                $body
            }
            __D::I16 => {
                type $T = i16;
                $body
            }
            __D::I32 => {
                type $T = i32;
                $body
            }
            __D::I64 => {
                type $T = i64;
                $body
            }
            _ => $other,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_torch() {
        assert_eq!((-1.7f32).cast::<i64>(), -1);
        assert_eq!(300i64.cast::<u8>(), 44);
        assert_eq!((-1i64).cast::<u8>(), 255);
        assert!(0.5f64.cast::<bool>());
        assert_eq!(true.cast::<f32>(), 1.0);
        assert_eq!(i64::MAX.cast::<i64>(), i64::MAX);
        assert_eq!(f16::from_f32(2.5).cast::<f32>(), 2.5);
    }
}

/// The bytes of `v` in a `u64` (little-endian, zero-extended): how a scalar of any dtype is
/// passed to a GPU kernel, which reads back `sizeof(T)` bytes.
pub fn to_bits<T: Element>(v: T) -> u64 {
    const { assert!(std::mem::size_of::<T>() <= 8) };
    let mut out = [0u8; 8];
    // SAFETY: T is plain data of at most 8 bytes (checked above).
    unsafe {
        std::ptr::copy_nonoverlapping(
            &v as *const T as *const u8,
            out.as_mut_ptr(),
            std::mem::size_of::<T>(),
        )
    };
    u64::from_le_bytes(out)
}
