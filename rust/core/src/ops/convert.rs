//! Conversions that make a new tensor from an old one: dtype changes (`to`, `float`, ...),
//! `clone`, checked `fill_`, and the row split/flip behind Python iteration.
//!
//! New tensors follow torch's `preserve_format`: a dense input keeps its exact strides (a
//! transposed matrix stays transposed), anything else gets dense strides in the input's
//! dimension order.

use crate::bail;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::{checked_numel, Layout};
use crate::ops::shape::select;
use crate::scalar::Scalar;
use crate::storage::Storage;
use crate::tensor::Tensor;
use std::sync::Arc;

/// How a copy lays out its memory (torch's `memory_format`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MemoryFormat {
    /// Keep the input's dimension order (torch's default for `to`/`clone`).
    Preserve,
    /// Row-major.
    Contiguous,
}

/// True if the view covers a block of memory with no gaps and no element seen twice, in any
/// dimension order (torch's `is_non_overlapping_and_dense`).
pub fn is_non_overlapping_and_dense(l: &Layout) -> bool {
    let n = l.ndim();
    if n == 1 {
        return l.shape[0] < 2 || l.strides[0] == 1;
    }
    let mut perm: Vec<usize> = (0..n).collect();
    // Size<2 dims do not constrain anything: sort them last.
    perm.sort_by(|&a, &b| {
        let (sa, sb) = (l.shape[a] < 2, l.shape[b] < 2);
        sa.cmp(&sb).then(l.strides[a].cmp(&l.strides[b]))
    });
    let mut required = 1isize;
    for &d in &perm {
        if l.shape[d] < 2 {
            return true;
        }
        if l.strides[d] != required {
            return false;
        }
        required *= l.shape[d] as isize;
    }
    true
}

/// Dense strides that keep `l`'s dimension order (torch's `infer_dense_strides`): dims are
/// ordered by stride with a stable insertion sort; stride-0 dims keep their place.
pub fn infer_dense_strides(l: &Layout) -> Vec<isize> {
    let n = l.ndim();
    // perm[0] is the innermost dim.
    let mut perm: Vec<usize> = (0..n).rev().collect();
    let should_swap = |d0: usize, d1: usize| -> i32 {
        let (s0, s1) = (l.strides[d0], l.strides[d1]);
        if s0 == 0 || s1 == 0 {
            return 0;
        }
        if s0 != s1 {
            return if s0 < s1 { -1 } else { 1 };
        }
        i32::from(l.shape[d0] > l.shape[d1])
    };
    for i in 1..n {
        let mut d1 = i;
        for j in 1..=i {
            let d0 = i - j;
            match should_swap(perm[d0], perm[d1]) {
                c if c > 0 => {
                    perm.swap(d0, d1);
                    d1 = d0;
                }
                c if c < 0 => break,
                _ => {}
            }
        }
    }
    let mut strides = vec![0isize; n];
    let mut cur = 1isize;
    for &d in &perm {
        strides[d] = cur;
        if l.shape[d] > 1 {
            cur *= l.shape[d] as isize;
        }
    }
    strides
}

/// A tensor shaped like `t` for the caller to overwrite in full, laid out per `format`.
pub fn empty_like(t: &Tensor, dtype: DType, format: MemoryFormat) -> Result<Tensor> {
    if format == MemoryFormat::Contiguous || t.is_contiguous() {
        return Tensor::empty(t.shape(), dtype, t.device());
    }
    let strides = if is_non_overlapping_and_dense(t.layout()) {
        t.strides().to_vec()
    } else {
        infer_dense_strides(t.layout())
    };
    let numel = checked_numel(t.shape(), "empty_like")?;
    // Dense: whoever asked for it writes every element, as after `Tensor::empty`.
    let storage = Arc::new(Storage::uninit(numel * dtype.size(), t.device())?);
    Tensor::from_parts(
        storage,
        Layout {
            shape: t.shape().to_vec(),
            strides,
            offset: 0,
        },
        dtype,
    )
}

/// A new tensor with `t`'s values converted to `dtype` (always a copy).
pub fn convert(t: &Tensor, dtype: DType, format: MemoryFormat) -> Result<Tensor> {
    let out = empty_like(t, dtype, format)?;
    out.copy_(t)?;
    Ok(out)
}

/// `clone(memory_format)`: a copy with the same dtype.
pub fn clone(t: &Tensor, format: MemoryFormat) -> Result<Tensor> {
    convert(t, t.dtype(), format)
}

/// `to(dtype, copy, memory_format)` minus devices: `None` means "self unchanged" (torch
/// returns the very same tensor object then).
pub fn to_dtype(
    t: &Tensor,
    dtype: DType,
    copy: bool,
    format: MemoryFormat,
) -> Result<Option<Tensor>> {
    let layout_ok = format == MemoryFormat::Preserve || t.is_contiguous();
    if dtype == t.dtype() && !copy && layout_ok {
        return Ok(None);
    }
    convert(t, dtype, format).map(Some)
}

/// The C++ type name torch's overflow message uses for `dtype`.
fn cpp_type_name(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "bool",
        DType::U8 => "uint8_t",
        DType::I8 => "int8_t",
        DType::I16 => "int16_t",
        DType::I32 => "int",
        DType::I64 => "int64_t",
        DType::F16 => "at::Half",
        DType::BF16 => "at::BFloat16",
        DType::F32 => "float",
        DType::F64 => "double",
    }
}

/// Fails as torch's `Scalar::to<T>()` does when `value` does not fit `dtype` (infinities and
/// NaN fit every floating dtype; bool takes anything).
pub fn check_scalar_fits(value: Scalar, dtype: DType) -> Result<()> {
    let (lo, hi): (f64, f64) = match dtype {
        DType::Bool => return Ok(()),
        DType::U8 => (0.0, 255.0),
        DType::I8 => (-128.0, 127.0),
        DType::I16 => (i16::MIN as f64, i16::MAX as f64),
        DType::I32 => (i32::MIN as f64, i32::MAX as f64),
        DType::I64 => (i64::MIN as f64, i64::MAX as f64),
        DType::F16 => (-65504.0, 65504.0),
        DType::BF16 => (-3.3895313892515355e38, 3.3895313892515355e38),
        DType::F32 => (f32::MIN as f64, f32::MAX as f64),
        DType::F64 => return Ok(()),
    };
    let overflows = match value {
        Scalar::Bool(_) => false,
        // i64 fits i64; compare narrower integer ranges exactly.
        Scalar::Int(i) => dtype != DType::I64 && ((i as f64) < lo || (i as f64) > hi),
        Scalar::Float(f) => {
            if dtype.is_floating_point() {
                f.is_finite() && (f < lo || f > hi)
            } else {
                f < lo || f > hi
            }
        }
    };
    if overflows {
        bail!(
            Runtime,
            "value cannot be converted to type {} without overflow",
            cpp_type_name(dtype)
        );
    }
    Ok(())
}

/// `fill_(value)` with torch's overflow check.
pub fn fill_checked(t: &Tensor, value: Scalar) -> Result<()> {
    check_scalar_fits(value, t.dtype())?;
    t.fill_(value)
}

/// `dst.copy_(src)` refusing a destination whose elements share memory (a broadcast view),
/// as torch's internal-overlap check does.
pub fn copy_into(dst: &Tensor, src: &Tensor) -> Result<()> {
    let l = dst.layout();
    if l.shape
        .iter()
        .zip(&l.strides)
        .any(|(&n, &s)| n > 1 && s == 0)
    {
        bail!(
            Runtime,
            "unsupported operation: more than one element of the written-to tensor refers to a \
             single memory location. Please clone() the tensor before performing the operation."
        );
    }
    dst.copy_(src)
}

/// The views `t[0], t[1], ...` (torch's `unbind(0)`, which iteration uses).
pub fn unbind0(t: &Tensor) -> Result<Vec<Tensor>> {
    if t.ndim() == 0 {
        bail!(
            Index,
            "Dimension specified as 0 but tensor has no dimensions"
        );
    }
    (0..t.shape()[0] as i64).map(|i| select(t, 0, i)).collect()
}

/// A copy of `t` with dim 0 reversed (`flip(0)`, which `reversed()` uses).
pub fn flip0(t: &Tensor) -> Result<Tensor> {
    if t.ndim() == 0 {
        return Ok(t.clone());
    }
    let out = Tensor::empty(t.shape(), t.dtype(), t.device())?;
    let n = t.shape()[0] as i64;
    for i in 0..n {
        select(&out, 0, i)?.copy_(&select(t, 0, n - 1 - i)?)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::shape::{expand, permute};

    #[test]
    fn preserve_format_keeps_transposed_strides() {
        let t = Tensor::from_vec((0..6i64).collect::<Vec<_>>(), &[2, 3]).unwrap();
        let p = permute(&t, &[1, 0]).unwrap();
        let c = convert(&p, DType::F32, MemoryFormat::Preserve).unwrap();
        assert_eq!(c.strides(), &[1, 3]);
        assert_eq!(c.to_vec::<f32>(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        let c = convert(&p, DType::F32, MemoryFormat::Contiguous).unwrap();
        assert_eq!(c.strides(), &[2, 1]);
        let e = expand(&Tensor::from_vec(vec![1i64, 2], &[2, 1]).unwrap(), &[2, 3]).unwrap();
        assert!(!is_non_overlapping_and_dense(e.layout()));
        assert_eq!(
            clone(&e, MemoryFormat::Preserve).unwrap().strides(),
            &[3, 1]
        );
    }

    #[test]
    fn overflow_check_matches_torch() {
        assert!(check_scalar_fits(Scalar::Int(300), DType::U8).is_err());
        assert!(check_scalar_fits(Scalar::Int(255), DType::U8).is_ok());
        assert!(check_scalar_fits(Scalar::Float(f64::INFINITY), DType::F16).is_ok());
        assert!(check_scalar_fits(Scalar::Float(1e5), DType::F16).is_err());
        assert!(check_scalar_fits(Scalar::Int(i64::MAX), DType::I64).is_ok());
    }

    #[test]
    fn copy_into_broadcast_view_is_refused() {
        let e = expand(&Tensor::from_vec(vec![0.0f32], &[1]).unwrap(), &[3]).unwrap();
        let src = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
        assert!(copy_into(&e, &src).is_err());
        let dst = Tensor::from_vec(vec![0i64; 3], &[3]).unwrap();
        copy_into(&dst, &src).unwrap();
        assert_eq!(dst.to_vec::<i64>(), vec![1, 2, 3]);
    }

    #[test]
    fn unbind_and_flip() {
        let t = Tensor::from_vec((0..6i64).collect::<Vec<_>>(), &[3, 2]).unwrap();
        let rows = unbind0(&t).unwrap();
        assert_eq!(rows[2].to_vec::<i64>(), vec![4, 5]);
        assert_eq!(flip0(&t).unwrap().to_vec::<i64>(), vec![4, 5, 2, 3, 0, 1]);
    }
}
