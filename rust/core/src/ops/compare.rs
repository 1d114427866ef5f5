//! Comparisons of whole tensors: `isclose` (elementwise), `allclose` and `equal` (one bool).
//!
//! `isclose` reproduces torch's formula step by step, including the rounding of each
//! intermediate to the operand dtype (`|a - b| <= atol + |rtol * b|`, each term stored in the
//! dtype), so half-precision results agree with torch bit for bit.

use crate::cpu::elementwise::map2;
use crate::cpu::iter::{for_each_run, SendPtr};
use crate::dtype::scalar_type_name;
use crate::dtype::{default_float, DType};
use crate::element::num_like::FloatMath;
use crate::element::{Element, Float};
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::ops::binary::promote;
use crate::ops::check_same_device;
use crate::tensor::Tensor;
use crate::{bail, dispatch_all, dispatch_float, dispatch_int};
use std::sync::atomic::{AtomicBool, Ordering};

/// True unless `v` is infinite or NaN (written with the arithmetic `FloatMath` offers).
#[inline(always)]
fn is_finite<A: FloatMath>(v: A) -> bool {
    v.abs() < A::from_f64(f64::INFINITY)
}

/// torch's closeness test for one pair of floats of type `T`.
#[inline(always)]
fn float_close<T: Float>(x: T, y: T, rtol: T::Acc, atol: T::Acc, equal_nan: bool) -> bool {
    let (xa, ya) = (x.to_acc(), y.to_acc());
    if xa == ya || (equal_nan && xa.is_nan() && ya.is_nan()) {
        return true;
    }
    let allowed = T::from_acc(atol + T::from_acc(rtol * ya).to_acc().abs()).to_acc();
    let actual = T::from_acc(xa - ya).to_acc().abs();
    is_finite(actual) && actual <= allowed
}

/// Integer arithmetic as torch's integer kernels do it: wrapping.
trait WrapInt: Element {
    fn wrapping_abs_diff(self, o: Self) -> Self;
}
macro_rules! wrap_signed {
    ($($t:ty),*) => {$(
        impl WrapInt for $t {
            #[inline(always)]
            fn wrapping_abs_diff(self, o: Self) -> Self { self.wrapping_sub(o).wrapping_abs() }
        }
    )*};
}
wrap_signed!(i8, i16, i32, i64);
impl WrapInt for u8 {
    #[inline(always)]
    fn wrapping_abs_diff(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
}

/// torch's closeness test for integers: the difference is taken in the integer dtype (and
/// wraps), the allowed error `atol + |rtol * b|` in the default float dtype `F`.
#[inline(always)]
fn int_close<T: WrapInt, F: Float>(x: T, y: T, rtol: F::Acc, atol: F::Acc) -> bool {
    if x == y {
        return true;
    }
    let yf = F::from_f64(y.to_f64()).to_acc();
    let allowed = F::from_acc(atol + F::from_acc(rtol * yf).to_acc().abs()).to_acc();
    let actual = F::from_f64(x.wrapping_abs_diff(y).to_f64()).to_acc();
    actual <= allowed
}

/// Checks the arguments of `isclose`/`allclose` and returns both operands broadcast to the
/// common shape, bool inputs converted to the default float dtype.
fn prepare_close(
    op: &str,
    a: &Tensor,
    b: &Tensor,
    rtol: f64,
    atol: f64,
) -> Result<(Tensor, Tensor)> {
    check_same_device(op, &[a, b])?;
    if a.dtype() != b.dtype() {
        bail!(
            Runtime,
            "{} did not match {}",
            scalar_type_name(a.dtype()),
            scalar_type_name(b.dtype())
        );
    }
    if rtol.is_nan() || rtol < 0.0 {
        bail!(
            Runtime,
            "rtol must be greater than or equal to zero, but got {}",
            cpp_double(rtol)
        );
    }
    if atol.is_nan() || atol < 0.0 {
        bail!(
            Runtime,
            "atol must be greater than or equal to zero, but got {}",
            cpp_double(atol)
        );
    }
    let shape = broadcast_shapes(a.shape(), b.shape(), op)?;
    let dt = if a.dtype() == DType::Bool {
        default_float()
    } else {
        a.dtype()
    };
    let a = a.to_dtype(dt)?;
    let b = b.to_dtype(dt)?;
    let a = a.view_with(a.layout().broadcast_to(&shape, op)?)?;
    let b = b.view_with(b.layout().broadcast_to(&shape, op)?)?;
    Ok((a, b))
}

/// Calls `$body` with `$close: impl Fn(T, T) -> bool + Sync` for the dtype of `$a`.
macro_rules! with_close_fn {
    ($dt:expr, $rtol:expr, $atol:expr, $equal_nan:expr, |$close:ident, $T:ident| $body:expr) => {{
        let (rtol, atol, equal_nan) = ($rtol, $atol, $equal_nan);
        dispatch_float!($dt, $T => {
            let (r, a) = (<<$T as Float>::Acc as FloatMath>::from_f64(rtol), <<$T as Float>::Acc as FloatMath>::from_f64(atol));
            let $close = move |x: $T, y: $T| float_close::<$T>(x, y, r, a, equal_nan);
            $body
        }, _ => dispatch_int!($dt, $T => {
            dispatch_float!(default_float(), F => {
                let (r, a) = (<<F as Float>::Acc as FloatMath>::from_f64(rtol), <<F as Float>::Acc as FloatMath>::from_f64(atol));
                let $close = move |x: $T, y: $T| int_close::<$T, F>(x, y, r, a);
                $body
            }, _ => unreachable!("the default dtype is always floating"))
        }, _ => unreachable!("bool operands were converted to a float dtype"))
        )
    }};
}

/// `torch.isclose(a, b, rtol, atol, equal_nan)`: elementwise `|a - b| <= atol + rtol * |b|`
/// (or equal, or both NaN with `equal_nan`), broadcasting; both inputs must share a dtype.
pub fn isclose(a: &Tensor, b: &Tensor, rtol: f64, atol: f64, equal_nan: bool) -> Result<Tensor> {
    let (a, b) = prepare_close("isclose", a, b, rtol, atol)?;
    let out = Tensor::empty(a.shape(), DType::Bool, a.device())?;
    if out.is_cuda() {
        crate::cuda::elementwise::isclose(&out, &a, &b, rtol, atol, equal_nan)?;
        return Ok(out);
    }
    with_close_fn!(a.dtype(), rtol, atol, equal_nan, |close, T| {
        map2::<T, T, bool>(&out, &a, &b, close)
    });
    Ok(out)
}

/// `torch.allclose`: whether every element `isclose`; no intermediate tensor.
pub fn allclose(a: &Tensor, b: &Tensor, rtol: f64, atol: f64, equal_nan: bool) -> Result<bool> {
    let (a, b) = prepare_close("allclose", a, b, rtol, atol)?;
    if a.is_cuda() {
        return crate::cuda::elementwise::all_close(&a, &b, rtol, atol, equal_nan, false);
    }
    Ok(with_close_fn!(
        a.dtype(),
        rtol,
        atol,
        equal_nan,
        |close, T| all_pairs::<T>(&a, &b, close)
    ))
}

/// `torch.equal(a, b)`: same shape and equal values after promotion to a common dtype (NaN
/// is never equal). Different shapes give `false`, not an error.
pub fn equal(a: &Tensor, b: &Tensor) -> Result<bool> {
    if a.device() != b.device() {
        bail!(
            Runtime,
            "Cannot compare two tensors on different devices. Got: {} and {}",
            a.device(),
            b.device()
        );
    }
    if a.shape() != b.shape() {
        return Ok(false);
    }
    let dt = promote(a, b);
    let (a, b) = (a.to_dtype(dt)?, b.to_dtype(dt)?);
    if a.is_cuda() {
        return crate::cuda::elementwise::all_close(&a, &b, 0.0, 0.0, false, true);
    }
    Ok(dispatch_all!(dt, T => all_pairs::<T>(&a, &b, |x: T, y: T| x == y)))
}

/// True if `pred(a[i], b[i])` holds for every element; `a` and `b` share a shape. Stops
/// scanning new runs once one fails.
fn all_pairs<T: Element>(a: &Tensor, b: &Tensor, pred: impl Fn(T, T) -> bool + Sync) -> bool {
    let ok = AtomicBool::new(true);
    let (pa, pb) = (SendPtr(a.data_ptr::<T>()), SendPtr(b.data_ptr::<T>()));
    for_each_run(a.shape(), [a.strides(), b.strides()], |off, st, len| {
        if !ok.load(Ordering::Relaxed) {
            return;
        }
        // SAFETY: the engine hands out runs inside both validated views.
        let all = unsafe {
            let (x, y) = (pa.get().offset(off[0]), pb.get().offset(off[1]));
            if st == [1, 1] {
                let (xs, ys) = (
                    std::slice::from_raw_parts(x, len),
                    std::slice::from_raw_parts(y, len),
                );
                xs.iter()
                    .zip(ys)
                    .fold(true, |acc, (&u, &v)| acc & pred(u, v))
            } else {
                (0..len as isize).all(|i| pred(*x.offset(i * st[0]), *y.offset(i * st[1])))
            }
        };
        if !all {
            ok.store(false, Ordering::Relaxed);
        }
    });
    ok.load(Ordering::Relaxed)
}

/// A double as C++ `operator<<` prints it (`%g`, 6 significant digits): `-1`, `0.5`, `1e-05`.
fn cpp_double(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-4..6).contains(&exp) {
        let s = format!("{v:.5e}");
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (5 - exp).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isclose_follows_torch_formula() {
        let a = Tensor::from_vec(vec![1.0f32, 1.0, f32::NAN, f32::INFINITY, 2.0], &[5]).unwrap();
        let b =
            Tensor::from_vec(vec![1.0f32, 1.000005, f32::NAN, f32::INFINITY, 2.1], &[5]).unwrap();
        let c = isclose(&a, &b, 1e-5, 1e-8, false).unwrap();
        assert_eq!(c.to_vec::<bool>(), vec![true, true, false, true, false]);
        let c = isclose(&a, &b, 1e-5, 1e-8, true).unwrap();
        assert_eq!(c.to_vec::<bool>(), vec![true, true, true, true, false]);
        assert!(!allclose(&a, &b, 1e-5, 1e-8, false).unwrap());
        assert!(allclose(&a, &a, 1e-5, 1e-8, true).unwrap());
        let d = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
        assert_eq!(
            isclose(&a, &d, 1e-5, 1e-8, false).unwrap_err().message,
            "Float did not match Double"
        );
    }

    #[test]
    fn integer_difference_wraps_like_torch() {
        let a = Tensor::from_vec(vec![3u8, 10], &[2]).unwrap();
        let b = Tensor::from_vec(vec![5u8, 8], &[2]).unwrap();
        assert_eq!(
            isclose(&a, &b, 0.0, 3.0, false).unwrap().to_vec::<bool>(),
            vec![false, true]
        );
    }

    #[test]
    fn equal_promotes_and_checks_shape() {
        let a = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
        let b = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
        assert!(equal(&a, &b).unwrap());
        let c = Tensor::from_vec(vec![1i64, 2], &[2, 1]).unwrap();
        assert!(!equal(&a, &c).unwrap());
        let n = Tensor::from_vec(vec![f32::NAN], &[1]).unwrap();
        assert!(!equal(&n, &n).unwrap());
    }

    #[test]
    fn cpp_double_formatting() {
        assert_eq!(cpp_double(-1.0), "-1");
        assert_eq!(cpp_double(0.5), "0.5");
        assert_eq!(cpp_double(1e-5), "1e-05");
        assert_eq!(cpp_double(123456789.0), "1.23457e+08");
    }
}
