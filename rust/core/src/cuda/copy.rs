//! Copies and fills on one CUDA device (kernels in `kernels/copy.cu`): any pair of dtypes and
//! strides, converting with torch's casts.

use super::geometry::coalesce;
use super::{device_of, launch_config, ptr, type_name, Source};
use crate::dtype::ALL_DTYPES;
use crate::error::Result;
use crate::tensor::Tensor;

pub const SOURCE: Source = Source {
    name: "copy",
    text: include_str!("kernels/copy.cu"),
};

/// Every (source, defines) the copies request: each source dtype to each destination dtype.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = Vec::new();
    for s in ALL_DTYPES {
        for d in ALL_DTYPES {
            v.push((SOURCE, vec![("SRC", type_name(s)), ("DST", type_name(d))]));
        }
    }
    v
}

/// `dst.copy_(src)` on one device: same shape, any dtypes and strides.
pub fn copy(dst: &Tensor, src: &Tensor) -> Result<()> {
    let dev = device_of(dst)?;
    let n = dst.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = [
        ("SRC", type_name(src.dtype())),
        ("DST", type_name(dst.dtype())),
    ];
    let (out, inp) = (ptr(dst), ptr(src));
    let cfg = launch_config(dev, n);
    let n = n as i64;
    if dst.is_contiguous() && src.is_contiguous() {
        let f = dev.kernel(&SOURCE, &defines, "copy_contiguous")?;
        return crate::cuda_launch!(dev, f, "copy_contiguous", cfg; out, inp, n);
    }
    // Walk the elements in the destination's memory order (any order of the dims gives the
    // same copy): two views of one permuted layout, such as a transposed weight cast to another
    // dtype, then merge into one run read and written in order.
    let mut order: Vec<usize> = (0..dst.ndim()).collect();
    order.sort_by_key(|&d| std::cmp::Reverse(dst.strides()[d]));
    let pick = |v: &[isize]| -> Vec<isize> { order.iter().map(|&d| v[d]).collect() };
    let shape: Vec<usize> = order.iter().map(|&d| dst.shape()[d]).collect();
    let [so, si] = coalesce(&shape, [&pick(dst.strides()), &pick(src.strides())])?;
    let nd = so.ndim as usize;
    let inner = if nd > 0 { so.sizes[nd - 1] } else { 1 };
    if nd > 0 && so.strides[nd - 1] == 1 && si.strides[nd - 1] == 1 && inner >= ROW_MIN {
        // A warp per segment of up to 256 elements of a row.
        let warps = (n / inner) as usize * (inner as usize).div_ceil(256);
        let f = dev.kernel(&SOURCE, &defines, "copy_rows")?;
        let cfg = launch_config(dev, warps * 32);
        return crate::cuda_launch!(dev, f, "copy_rows", cfg; out, so, inp, si, n);
    }
    let f = dev.kernel(&SOURCE, &defines, "copy_strided")?;
    crate::cuda_launch!(dev, f, "copy_strided", cfg; out, so, inp, si, n)
}

/// Rows at least this long take the row kernel (a warp per segment); shorter ones would leave
/// most of a warp's lanes idle, and take the per-element kernel.
const ROW_MIN: i64 = 32;

/// `t.fill_(value)` where `bits` are the value's bytes in `t`'s dtype (little-endian).
pub fn fill(t: &Tensor, bits: u64) -> Result<()> {
    let dev = device_of(t)?;
    let n = t.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = [("SRC", type_name(t.dtype())), ("DST", type_name(t.dtype()))];
    let [so] = coalesce(t.shape(), [t.strides()])?;
    let out = ptr(t);
    let n64 = n as i64;
    let f = dev.kernel(&SOURCE, &defines, "fill")?;
    crate::cuda_launch!(dev, f, "fill", launch_config(dev, n); out, so, bits, n64)
}
