//! Range factories: `arange`, `range`, `linspace`, `logspace` and `eye`, with torch's size
//! computations and per-index formulas (so rounding matches torch, not a running sum).

use crate::cpu::iter::PARALLEL_THRESHOLD;
use crate::device::Device;
use crate::dtype::{default_float, DType};
use crate::element::Element;
use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{bail, dispatch_all};

/// A new 1-D tensor of `n` elements with `out[i] = f(i)`, filled in parallel when large.
fn from_index<T: Element>(
    n: usize,
    device: Device,
    f: impl Fn(usize) -> T + Sync,
) -> Result<Tensor> {
    // Computed on the host and copied over for a GPU: these ranges are small next to the
    // tensors computed from them.
    let t = Tensor::empty(&[n], T::DTYPE, Device::Cpu)?;
    // SAFETY: fresh contiguous tensor of n elements of T.
    let s = unsafe { std::slice::from_raw_parts_mut(t.data_ptr::<T>(), n) };
    if n < PARALLEL_THRESHOLD {
        s.iter_mut().enumerate().for_each(|(i, o)| *o = f(i));
    } else {
        let out = crate::cpu::iter::SendPtr(s.as_mut_ptr());
        crate::cpu::parallel_ranges(n, PARALLEL_THRESHOLD / 4, |r| {
            // SAFETY: the ranges are disjoint and inside the n elements.
            r.for_each(|i| unsafe { *out.get().add(i) = f(i) })
        });
    }
    t.to_device(device)
}

/// The dtype of `arange(start, end, step)` without `dtype=`: int64 when all are integers.
pub fn arange_dtype(args: &[Scalar]) -> DType {
    if args.iter().any(|s| s.is_float()) {
        default_float()
    } else {
        DType::I64
    }
}

/// torch's checks shared by `arange` and `range` on the bounds as the kernel sees them.
fn check_range(xstart: f64, xend: f64, xstep: f64, start: Scalar, end: Scalar) -> Result<()> {
    if xstep == 0.0 {
        bail!(Runtime, "step must be nonzero");
    }
    if !xstart.is_finite() || !xend.is_finite() {
        bail!(
            Runtime,
            "unsupported range: {} -> {}",
            fmt_scalar(start),
            fmt_scalar(end)
        );
    }
    if !((xstep > 0.0 && xend >= xstart) || (xstep < 0.0 && xend <= xstart)) {
        bail!(
            Runtime,
            "upper bound and larger bound inconsistent with step sign"
        );
    }
    Ok(())
}

fn fmt_scalar(s: Scalar) -> String {
    match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
    }
}

fn checked_size(size_d: f64) -> Result<usize> {
    if !(size_d >= 0.0 && size_d <= i64::MAX as f64) {
        bail!(Runtime, "invalid size, possible overflow?");
    }
    Ok(size_d as usize)
}

/// `torch.arange(start, end, step)`: `ceil((end - start) / step)` elements
/// `start + i * step`. Integer dtypes first truncate the bounds and step to integers, as
/// torch does (so `arange(0, 3, 0.5, dtype=int64)` fails with a zero step).
pub fn arange(
    start: Scalar,
    end: Scalar,
    step: Scalar,
    dtype: Option<DType>,
    device: Device,
) -> Result<Tensor> {
    let dtype = dtype.unwrap_or_else(|| arange_dtype(&[start, end, step]));
    if dtype == DType::Bool {
        bail!(Runtime, "\"arange_cpu\" not implemented for 'Bool'");
    }
    if dtype.is_floating_point() {
        let (a, b, s) = (start.to_f64(), end.to_f64(), step.to_f64());
        check_range(a, b, s, start, end)?;
        let n = checked_size(((b - a) / s).ceil())?;
        dispatch_all!(dtype, T => from_index::<T>(n, device, |i| T::from_f64(a + s * i as f64)))
    } else {
        let (a, b, s) = (start.to_i64(), end.to_i64(), step.to_i64());
        check_range(a as f64, b as f64, s as f64, start, end)?;
        let size_d = if dtype == DType::I64 {
            (b.wrapping_sub(a) as f64 / s as f64).ceil()
        } else {
            ((end.to_f64() - start.to_f64()) / step.to_f64()).ceil()
        };
        let n = checked_size(size_d)?;
        dispatch_all!(dtype, T => from_index::<T>(n, device, |i| {
            T::from_i64(a.wrapping_add(s.wrapping_mul(i as i64)))
        }))
    }
}

/// `torch.range(start, end, step)` (deprecated): `floor((end - start) / step) + 1` elements
/// including `end`; the default float dtype unless `dtype` is given.
pub fn range(
    start: Scalar,
    end: Scalar,
    step: Scalar,
    dtype: Option<DType>,
    device: Device,
) -> Result<Tensor> {
    let dtype = dtype.unwrap_or_else(default_float);
    let (a, b, s) = if dtype.is_floating_point() {
        (start.to_f64(), end.to_f64(), step.to_f64())
    } else {
        (
            start.to_i64() as f64,
            end.to_i64() as f64,
            step.to_i64() as f64,
        )
    };
    check_range(a, b, s, start, end)?;
    let n = checked_size(((b - a) / s).floor() + 1.0)?;
    dispatch_all!(dtype, T => from_index::<T>(n, device, |i| T::from_f64(a + s * i as f64)))
}

/// The arithmetic type of `linspace` per dtype: the dtype itself for float32/float64 (torch
/// computes `step` in the output type), f32 for the 16-bit floats, f64 for integers.
trait LinAcc: Element {
    fn lin(start: Scalar, end: Scalar, steps: usize, i: usize) -> Self;
}

macro_rules! lin_in {
    ($acc:ty, $($t:ty),*) => {$(
        impl LinAcc for $t {
            #[inline(always)]
            fn lin(start: Scalar, end: Scalar, steps: usize, i: usize) -> Self {
                // Integers: start/end are first converted to the dtype, then to the step type.
                let a = start.to_elem::<$t>().to_f64() as $acc;
                let b = end.to_elem::<$t>().to_f64() as $acc;
                let step = (b - a) / (steps - 1) as $acc;
                // Symmetric formula: the last element is exactly `end`.
                let v = if i < steps / 2 { a + step * i as $acc } else { b - step * (steps - i - 1) as $acc };
                <$t as Element>::from_f64(v as f64)
            }
        }
    )*};
}
lin_in!(f32, f32, half::f16, half::bf16);
lin_in!(f64, f64, u8, i8, i16, i32, i64);
impl LinAcc for bool {
    fn lin(start: Scalar, end: Scalar, steps: usize, i: usize) -> Self {
        i64::lin(start, end, steps, i) != 0
    }
}

fn check_steps(steps: i64) -> Result<usize> {
    if steps < 0 {
        bail!(Runtime, "number of steps must be non-negative");
    }
    Ok(steps as usize)
}

/// `torch.linspace(start, end, steps)`: torch's two-sided formula
/// (`start + step * i` in the first half, `end - step * (steps - 1 - i)` in the second).
pub fn linspace(
    start: Scalar,
    end: Scalar,
    steps: i64,
    dtype: Option<DType>,
    device: Device,
) -> Result<Tensor> {
    let n = check_steps(steps)?;
    let dtype = dtype.unwrap_or_else(default_float);
    dispatch_all!(dtype, T => from_index::<T>(n, device, |i| {
        if n == 1 { start.to_elem::<T>() } else { T::lin(start, end, n, i) }
    }))
}

/// `torch.logspace(start, end, steps, base)`: `base ** x` for the points `x` of `linspace`,
/// computed in double precision as torch's CPU kernel does.
pub fn logspace(
    start: Scalar,
    end: Scalar,
    steps: i64,
    base: f64,
    dtype: Option<DType>,
    device: Device,
) -> Result<Tensor> {
    let n = check_steps(steps)?;
    let dtype = dtype.unwrap_or_else(default_float);
    dispatch_all!(dtype, T => {
        let a = start.to_elem::<T>().to_f64();
        let b = end.to_elem::<T>().to_f64();
        let step = if n > 1 { (b - a) / (n - 1) as f64 } else { 0.0 };
        from_index::<T>(n, device, |i| {
            // One step is `base ** start`, as torch fills it.
            let x = if i < n / 2 || n == 1 { a + step * i as f64 } else { b - step * (n - i - 1) as f64 };
            T::from_f64(base.powf(x))
        })
    })
}

/// `torch.eye(n, m)`: ones on the main diagonal of an `n x m` matrix.
pub fn eye(n: i64, m: Option<i64>, dtype: Option<DType>, device: Device) -> Result<Tensor> {
    if n < 0 {
        bail!(Runtime, "n must be greater or equal to 0, got {n}");
    }
    let m = m.unwrap_or(n);
    if m < 0 {
        bail!(Runtime, "m must be greater or equal to 0, got {m}");
    }
    let (n, m) = (n as usize, m as usize);
    let t = Tensor::zeros(&[n, m], dtype.unwrap_or_else(default_float), device)?;
    // The diagonal as a strided view (step m + 1), filled on whichever device t is.
    let diagonal = crate::layout::Layout {
        shape: vec![n.min(m)],
        strides: vec![m as isize + 1],
        offset: 0,
    };
    t.view_with(diagonal)?.fill_(Scalar::Int(1))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arange_sizes_match_torch() {
        let t = arange(
            Scalar::Int(0),
            Scalar::Int(10),
            Scalar::Int(3),
            None,
            Device::Cpu,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_vec::<i64>(), vec![0, 3, 6, 9]);
        let t = arange(
            Scalar::Float(1.0),
            Scalar::Float(2.0),
            Scalar::Float(0.3),
            None,
            Device::Cpu,
        );
        assert_eq!(t.map(|t| t.numel()).ok(), Some(4));
        assert!(arange(
            Scalar::Int(0),
            Scalar::Int(5),
            Scalar::Int(-1),
            None,
            Device::Cpu
        )
        .is_err());
    }

    #[test]
    fn linspace_ends_exactly() {
        let t = linspace(
            Scalar::Float(0.0),
            Scalar::Float(1.0),
            7,
            Some(DType::F32),
            Device::Cpu,
        );
        let v = t.map(|t| t.to_vec::<f32>()).unwrap_or_default();
        assert_eq!(v.first(), Some(&0.0));
        assert_eq!(v.last(), Some(&1.0));
    }
}
