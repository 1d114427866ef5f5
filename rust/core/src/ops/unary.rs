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
use crate::cpu::iter::{for_each_run, SendPtr};
use crate::cuda::elementwise as cuda;
use crate::device::Device;
use crate::dtype::scalar_type_name;
use crate::dtype::{default_float, DType};
use crate::element::num_like::FloatMath;
use crate::element::Float;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// torch's error (`NotImplementedError`) for a kernel that has no implementation for a dtype.
/// `kernel` is torch's CPU kernel name; on CUDA it becomes the CUDA kernel's name.
pub fn not_implemented(kernel: &str, d: DType, device: Device) -> crate::error::Error {
    crate::error::Error::not_implemented(format!(
        "\"{}\" not implemented for '{}'",
        kernel_name_on(kernel, device),
        scalar_type_name(d)
    ))
}

/// torch's name of a kernel on `device`, from its CPU name: `floor_vml_cpu` and `floor_cpu`
/// are `floor_cuda` on a GPU; names without a device suffix stay as they are.
pub fn kernel_name_on(cpu_kernel: &str, device: Device) -> std::borrow::Cow<'_, str> {
    let stem = cpu_kernel
        .strip_suffix("_vml_cpu")
        .or_else(|| cpu_kernel.strip_suffix("_cpu"));
    match (device, stem) {
        (Device::Cuda(_), Some(stem)) => format!("{stem}_cuda").into(),
        _ => cpu_kernel.into(),
    }
}

/// The tensor a unary-style op writes into: `dst` when it has the result's `shape` and
/// `dtype` and overlaps no input except exactly (same layout, the in-place case), else a new
/// contiguous tensor. Writing through a `dst` with broadcast (stride-0) dims is refused, as
/// torch does, because one memory location would be computed several times.
pub fn output_for(
    shape: &[usize],
    dtype: DType,
    dst: Option<&Tensor>,
    inputs: &[&Tensor],
) -> Result<Tensor> {
    // A CUDA input decides (the others may be CPU scalars).
    let device = inputs
        .iter()
        .find(|t| t.is_cuda())
        .or(inputs.first())
        .map_or(crate::Device::Cpu, |t| t.device());
    if let Some(d) = dst {
        if d.device() != device {
            bail!(
                Runtime,
                "Expected all tensors to be on the same device, but found at least two devices, \
                 {} and {}!",
                device,
                d.device()
            );
        }
        if d.shape()
            .iter()
            .zip(d.strides())
            .any(|(&n, &s)| n > 1 && s == 0)
        {
            bail!(
                Runtime,
                "unsupported operation: more than one element of the written-to tensor refers to a \
                 single memory location. Please clone() the tensor before performing the operation."
            );
        }
        let overlaps = inputs
            .iter()
            .any(|x| d.shares_storage(x) && d.layout() != x.layout());
        if d.shape() == shape && d.dtype() == dtype && !overlaps {
            d.storage().bump_version();
            return Ok(d.clone());
        }
    }
    // Every caller writes the whole output (a map over it, a copy or a fill), so on the CPU it
    // is not cleared first: that memset would be a pass as long as the op's own.
    Tensor::empty_output(shape, dtype, device)
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

/// `map1` for f32 whose contiguous runs also get an AVX2 build of the loop when the CPU has it
/// (picked at run time), so branch-free bodies such as [`super::unary_math::exp_f32`] run
/// 8 lanes wide instead of SSE2's 4. Both builds round identically (no FMA contraction).
fn map1_f32(out: &Tensor, x: &Tensor, f: impl Fn(f32) -> f32 + Sync) {
    let (o, px) = (SendPtr(out.data_ptr::<f32>()), SendPtr(x.data_ptr::<f32>()));
    for_each_run(
        out.shape(),
        [out.strides(), x.strides()],
        |off, st, len| unsafe {
            let (o, px) = (o.get().offset(off[0]), px.get().offset(off[1]));
            if st == [1, 1] {
                // Writing in place (o == px) is fine: each element is read before it is written.
                slice_f32(px, o, len, &f);
            } else {
                for i in 0..len as isize {
                    *o.offset(i * st[0]) = f(*px.offset(i * st[1]));
                }
            }
        },
    );
}

/// `ys[i] = f(xs[i])` over `len` contiguous elements; `xs` and `ys` are equal or disjoint
/// (the op's output is the input itself or a tensor that does not overlap it).
///
/// # Safety
/// Both pointers must be valid for `len` elements.
#[inline(always)]
unsafe fn slice_f32(xs: *const f32, ys: *mut f32, len: usize, f: &impl Fn(f32) -> f32) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        return slice_f32_avx2(xs, ys, len, f);
    }
    slice_f32_body(xs, ys, len, f)
}

/// The loop itself, over slices so the compiler knows the aliasing and vectorises: one slice
/// when the op runs in place, two disjoint ones otherwise.
#[inline(always)]
unsafe fn slice_f32_body(xs: *const f32, ys: *mut f32, len: usize, f: &impl Fn(f32) -> f32) {
    if std::ptr::eq(xs, ys) {
        for y in std::slice::from_raw_parts_mut(ys, len) {
            *y = f(*y);
        }
    } else {
        let (xs, ys) = (
            std::slice::from_raw_parts(xs, len),
            std::slice::from_raw_parts_mut(ys, len),
        );
        for (y, &x) in ys.iter_mut().zip(xs) {
            *y = f(x);
        }
    }
}

/// [`slice_f32`] compiled for AVX2.
///
/// # Safety
/// As [`slice_f32`]; the CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn slice_f32_avx2(xs: *const f32, ys: *mut f32, len: usize, f: &impl Fn(f32) -> f32) {
    slice_f32_body(xs, ys, len, f)
}

/// Defines `pub fn $name(x, dst) -> Result<Tensor>` computing `|$v| $body` elementwise in the
/// accumulator type. Integer and bool inputs are converted to the default float dtype first
/// (into a fresh tensor that then also serves as the output).
macro_rules! float_unary {
    ($($name:ident, $op:literal, $code:ident, |$v:ident| $body:expr;)*) => {$(
        #[doc = concat!("`torch.", $op, "(x)`; integer inputs give the default float dtype.")]
        pub fn $name(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
            let (x, fresh) = to_float(x)?;
            let dst = dst.or(if fresh { Some(&x) } else { None });
            let out = output_for(x.shape(), x.dtype(), dst, &[&x])?;
            if out.is_cuda() {
                cuda::unary(cuda::Unary::$code, &out, &x, [0; 3])?;
                return Ok(out);
            }
            if x.dtype() == DType::F32 {
                map1_f32(&out, &x, |$v: f32| $body);
                return Ok(out);
            }
            dispatch_float!(x.dtype(), T => map1::<T, T>(&out, &x, |e: T| {
                let $v = e.to_acc();
                T::from_acc($body)
            }), _ => bail!(Runtime, "{}: unexpected dtype {}", $op, x.dtype()));
            Ok(out)
        }
    )*};
}

float_unary! {
    exp, "exp", Exp, |v| v.fast_exp();
    exp2, "exp2", Exp2, |v| v.exp2();
    log, "log", Log, |v| v.ln();
    log2, "log2", Log2, |v| v.log2();
    log10, "log10", Log10, |v| v.log10();
    log1p, "log1p", Log1p, |v| v.ln_1p();
    expm1, "expm1", Expm1, |v| v.exp_m1();
    sqrt, "sqrt", Sqrt, |v| v.sqrt();
    rsqrt, "rsqrt", Rsqrt, |v| 1.0 / v.sqrt();
    sin, "sin", Sin, |v| v.sin();
    cos, "cos", Cos, |v| v.cos();
    tan, "tan", Tan, |v| v.tan();
    asin, "asin", Asin, |v| v.asin();
    acos, "acos", Acos, |v| v.acos();
    atan, "atan", Atan, |v| v.atan();
    sinh, "sinh", Sinh, |v| v.sinh();
    cosh, "cosh", Cosh, |v| v.cosh();
    tanh, "tanh", Tanh, |v| v.fast_tanh();
    asinh, "asinh", Asinh, |v| v.asinh();
    acosh, "acosh", Acosh, |v| v.acosh();
    atanh, "atanh", Atanh, |v| v.atanh();
    sigmoid, "sigmoid", Sigmoid, |v| 1.0 / (1.0 + (-v).fast_exp());
    erf, "erf", Erf, |v| v.erf_();
    erfc, "erfc", Erfc, |v| v.erfc_();
    erfinv, "erfinv", Erfinv, |v| v.erfinv_();
    reciprocal, "reciprocal", Reciprocal, |v| 1.0 / v;
}

/// Defines a float-only op that keeps the dtype (rounding family): integer inputs are copied
/// unchanged when `$ints_copy`, else refused as torch does.
macro_rules! float_keep {
    ($($name:ident, $kernel:literal, $ints_copy:expr, $code:ident, |$v:ident| $body:expr;)*) => {$(
        #[doc = concat!("`torch.", stringify!($name), "(x)`, keeping the dtype.")]
        pub fn $name(x: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
            let dt = x.dtype();
            if !dt.is_floating_point() {
                if !$ints_copy || dt == DType::Bool {
                    return Err(not_implemented($kernel, dt, x.device()));
                }
                let out = output_for(x.shape(), dt, dst, &[x])?;
                out.copy_(x)?;
                return Ok(out);
            }
            let out = output_for(x.shape(), dt, dst, &[x])?;
            if out.is_cuda() {
                cuda::unary(cuda::Unary::$code, &out, x, [0; 3])?;
                return Ok(out);
            }
            dispatch_float!(dt, T => map1::<T, T>(&out, x, |e: T| {
                let $v = e.to_acc();
                T::from_acc($body)
            }), _ => unreachable!());
            Ok(out)
        }
    )*};
}

float_keep! {
    floor, "floor_vml_cpu", true, Floor, |v| v.floor();
    ceil, "ceil_vml_cpu", true, Ceil, |v| v.ceil();
    trunc, "trunc_vml_cpu", true, Trunc, |v| v.trunc();
    round, "round_vml_cpu", true, Round, |v| v.round_ties_even();
    frac, "frac_cpu", false, Frac, |v| v - v.trunc();
}

/// `torch.round(x, decimals=d)`: `nearbyint(x * 10^d) / 10^d` (division first for `d < 0`),
/// computed in the accumulator type as torch does.
pub fn round_decimals(x: &Tensor, decimals: i64, dst: Option<&Tensor>) -> Result<Tensor> {
    if decimals == 0 {
        return round(x, dst);
    }
    let dt = x.dtype();
    if !dt.is_floating_point() {
        return Err(not_implemented("round_cpu", dt, x.device()));
    }
    let neg = decimals < 0;
    let p = 10f64.powi(decimals.unsigned_abs().min(400) as i32);
    let out = output_for(x.shape(), dt, dst, &[x])?;
    if out.is_cuda() {
        let p = [p.to_bits(), neg as u64, 0];
        cuda::unary(cuda::Unary::RoundDecimals, &out, x, p)?;
        return Ok(out);
    }
    dispatch_float!(dt, T => {
        let p: <T as Float>::Acc = FloatMath::from_f64(p);
        map1::<T, T>(&out, x, |e: T| {
            let v = e.to_acc();
            T::from_acc(if neg { (v / p).round_ties_even() * p } else { (v * p).round_ties_even() / p })
        })
    }, _ => unreachable!());
    Ok(out)
}
