//! The elementwise ops with more than one operand that belong to the unary family:
//! `clamp` (bounds as numbers or tensors), `where(condition, a, b)` and `lerp`.

use super::binary::common_device;
use super::unary::{not_implemented, output_for};
use crate::cpu::elementwise::{map1, map2, map3};
use crate::cuda::elementwise as cuda;
use crate::dtype::{result_type, DType, Operand};
use crate::element::num_like::FloatMath;
use crate::element::Float;
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::tensor::Tensor;
use crate::{bail, dispatch_all, dispatch_float};

/// The broadcast shape of all `tensors`.
fn broadcast_all(tensors: &[&Tensor], op: &str) -> Result<Vec<usize>> {
    let mut shape: Vec<usize> = Vec::new();
    for t in tensors {
        shape = broadcast_shapes(&shape, t.shape(), op)?;
    }
    Ok(shape)
}

/// `t` converted to `dtype` and viewed with `shape` (broadcast dims get stride 0).
fn prepared(t: &Tensor, dtype: DType, shape: &[usize], op: &str) -> Result<Tensor> {
    let t = t.to_dtype(dtype)?;
    t.view_with(t.layout().broadcast_to(shape, op)?)
}

/// `max(x, lo)` that lets a NaN `x` through and makes a NaN bound win, as torch's clamp.
#[inline(always)]
fn clamp_lo<T: PartialOrd + Copy>(x: T, lo: T) -> T {
    #[allow(clippy::eq_op)]
    let lo_nan = lo != lo;
    if lo_nan || x < lo {
        lo
    } else {
        x
    }
}

#[inline(always)]
fn clamp_hi<T: PartialOrd + Copy>(x: T, hi: T) -> T {
    #[allow(clippy::eq_op)]
    let hi_nan = hi != hi;
    if hi_nan || hi < x {
        hi
    } else {
        x
    }
}

/// `torch.clamp(x, min, max)`: either bound may be missing (not both); bounds are tensors or
/// wrapped numbers and take part in type promotion. `max` wins where `min > max`.
pub fn clamp(
    x: &Tensor,
    min: Option<&Tensor>,
    max: Option<&Tensor>,
    dst: Option<&Tensor>,
) -> Result<Tensor> {
    if min.is_none() && max.is_none() {
        bail!(
            Runtime,
            "torch.clamp: At least one of 'min' or 'max' must not be None"
        );
    }
    let mut operands: Vec<Operand> = vec![x.operand()];
    operands.extend(min.iter().chain(max.iter()).map(|t| t.operand()));
    let dt = result_type(&operands);
    let all: Vec<&Tensor> = std::iter::once(x).chain(min).chain(max).collect();
    common_device("clamp", &all)?;
    let shape = broadcast_all(&all, "clamp")?;
    let xs = prepared(x, dt, &shape, "clamp")?;
    let out = output_for(&shape, dt, dst, &all)?;
    let is_number = |b: Option<&Tensor>| b.is_none_or(|t| t.ndim() == 0);
    if is_number(min) && is_number(max) {
        // Number-like bounds: read once, one pass over x.
        // A NaN number bound is ignored (torch's scalar kernel is `std::max(x, nan) == x`);
        // a NaN 0-d tensor bound makes every result NaN, as the tensor kernel does.
        let read = |b: Option<&Tensor>| -> Result<Option<crate::Scalar>> {
            let Some(t) = b else { return Ok(None) };
            let s = t.item()?;
            Ok(if t.0.wrapped_number && s.to_f64().is_nan() {
                None
            } else {
                Some(s)
            })
        };
        let (lo, hi) = (read(min)?, read(max)?);
        if lo.is_none() && hi.is_none() {
            out.copy_(&xs)?;
            return Ok(out);
        }
        if out.is_cuda() {
            // The bounds travel as kernel arguments (CPU scalars); a missing one is ignored.
            let bound = |b: Option<crate::Scalar>| -> Result<Tensor> {
                Tensor::scalar(b.unwrap_or(crate::Scalar::Int(0)), dt)
            };
            let op = match (lo, hi) {
                (Some(_), Some(_)) => cuda::Ternary::Clamp,
                (Some(_), None) => cuda::Ternary::ClampMin,
                _ => cuda::Ternary::ClampMax,
            };
            cuda::ternary(op, &out, &xs, &bound(lo)?, &bound(hi)?)?;
            return Ok(out);
        }
        dispatch_all!(dt, T => {
            match (lo.map(|s| s.to_elem::<T>()), hi.map(|s| s.to_elem::<T>())) {
                (Some(l), Some(h)) => map1::<T, T>(&out, &xs, |v: T| clamp_hi(clamp_lo(v, l), h)),
                (Some(l), None) => map1::<T, T>(&out, &xs, |v: T| clamp_lo(v, l)),
                (None, Some(h)) => map1::<T, T>(&out, &xs, |v: T| clamp_hi(v, h)),
                (None, None) => {}
            }
        });
        return Ok(out);
    }
    let lo = min.map(|t| prepared(t, dt, &shape, "clamp")).transpose()?;
    let hi = max.map(|t| prepared(t, dt, &shape, "clamp")).transpose()?;
    if out.is_cuda() {
        let op = match (&lo, &hi) {
            (Some(_), Some(_)) => cuda::Ternary::Clamp,
            (Some(_), None) => cuda::Ternary::ClampMin,
            _ => cuda::Ternary::ClampMax,
        };
        let (l, h) = (lo.as_ref().unwrap_or(&xs), hi.as_ref().unwrap_or(&xs));
        cuda::ternary(op, &out, &xs, l, h)?;
        return Ok(out);
    }
    dispatch_all!(dt, T => match (&lo, &hi) {
        (Some(l), Some(h)) => map3::<T, T, T, T>(&out, &xs, l, h, |v, l, h| clamp_hi(clamp_lo(v, l), h)),
        (Some(l), None) => map2::<T, T, T>(&out, &xs, l, clamp_lo),
        (None, Some(h)) => map2::<T, T, T>(&out, &xs, h, clamp_hi),
        (None, None) => {}
    });
    Ok(out)
}

/// `torch.where(condition, a, b)`: `a` where `condition` holds, else `b`, broadcast together;
/// the result dtype promotes `a` and `b` (numbers count as numbers).
pub fn where_(condition: &Tensor, a: &Tensor, b: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
    // torch still accepts uint8 conditions (with a deprecation warning).
    if condition.dtype() != DType::Bool && condition.dtype() != DType::U8 {
        bail!(
            Runtime,
            "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
            crate::dtype::scalar_type_name(condition.dtype())
        );
    }
    let dt = result_type(&[a.operand(), b.operand()]);
    let device = common_device("where", &[condition, a, b])?;
    let shape = broadcast_all(&[condition, a, b], "where")?;
    // The kernel reads the condition from device memory.
    let c = prepared(&condition.to_device(device)?, DType::Bool, &shape, "where")?;
    let (xa, xb) = (
        prepared(a, dt, &shape, "where")?,
        prepared(b, dt, &shape, "where")?,
    );
    let out = output_for(&shape, dt, dst, &[condition, a, b])?;
    if out.is_cuda() {
        cuda::where_(&out, &c, &xa, &xb)?;
        return Ok(out);
    }
    dispatch_all!(dt, T => map3::<bool, T, T, T>(&out, &c, &xa, &xb, |c, x, y| if c { x } else { y }));
    Ok(out)
}

/// How torch's dtype (a `caffe2::TypeMeta`) prints in lerp's messages.
pub fn type_meta_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "float",
        DType::F64 => "double",
        DType::F16 => "c10::Half",
        DType::BF16 => "c10::BFloat16",
        DType::I64 => "long int",
        DType::I32 => "int",
        DType::I16 => "short int",
        DType::I8 => "signed char",
        DType::U8 => "unsigned char",
        DType::Bool => "bool",
    }
}

/// `torch.lerp(x, end, weight)`: `x + weight * (end - x)`, evaluated from the nearer end as
/// torch does (`end - (end - x) * (1 - weight)` when `|weight| >= 0.5`) so `weight == 1`
/// gives `end` exactly. `end` (and a tensor `weight`) must have `x`'s float dtype.
pub fn lerp(x: &Tensor, end: &Tensor, weight: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
    let dt = x.dtype();
    let scalar_weight = weight.0.wrapped_number;
    if !dt.is_floating_point() {
        let kernel = if scalar_weight {
            "lerp_kernel_scalar"
        } else {
            "lerp_kernel_tensor"
        };
        return Err(not_implemented(kernel, dt, x.device()));
    }
    for (t, name) in [(end, "end"), (weight, "weight")] {
        // A number or 0-d tensor weight may have any dtype; torch reads it as a scalar.
        if t.dtype() != dt && !(name == "weight" && (scalar_weight || t.ndim() == 0)) {
            bail!(
                Runtime,
                "expected dtype {} for `{name}` but got dtype {}",
                type_meta_name(dt),
                type_meta_name(t.dtype())
            );
        }
    }
    common_device("lerp", &[x, end, weight])?;
    let shape = broadcast_all(&[x, end, weight], "lerp")?;
    let (xs, es) = (
        prepared(x, dt, &shape, "lerp")?,
        prepared(end, dt, &shape, "lerp")?,
    );
    let out = output_for(&shape, dt, dst, &[x, end, weight])?;
    if out.is_cuda() {
        let ws = if scalar_weight {
            Tensor::scalar(crate::Scalar::Float(weight.item()?.to_f64()), dt)?
        } else {
            prepared(weight, dt, &shape, "lerp")?
        };
        cuda::ternary(cuda::Ternary::Lerp, &out, &xs, &es, &ws)?;
        return Ok(out);
    }
    dispatch_float!(dt, T => {
        type A = <T as Float>::Acc;
        #[inline(always)]
        fn f(s: A, e: A, w: A) -> A {
            if w.abs() < 0.5 { s + w * (e - s) } else { e - (e - s) * (1.0 - w) }
        }
        if scalar_weight {
            let w = <A as FloatMath>::from_f64(weight.item()?.to_f64());
            map2::<T, T, T>(&out, &xs, &es, |s: T, e: T| T::from_acc(f(s.to_acc(), e.to_acc(), w)));
        } else {
            let ws = prepared(weight, dt, &shape, "lerp")?;
            map3::<T, T, T, T>(&out, &xs, &es, &ws, |s: T, e: T, w: T| {
                T::from_acc(f(s.to_acc(), e.to_acc(), w.to_acc()))
            });
        }
    }, _ => unreachable!());
    Ok(out)
}
