//! Indexing and shape copies on CUDA: gather along a dim (`gather`, `index_select`), the read
//! of advanced indexing, masked fills, triangles, reversed copies (`flip`), and the host round
//! trip the data-dependent ops without a kernel yet take. The writes (scatters) are in
//! `scatter.rs`.
//!
//! Index values are checked on the device: a kernel that meets an out-of-range index sets a
//! flag instead of dereferencing it (an illegal address would poison the whole CUDA context).
//! The gathers leave the flag to the next synchronisation, where it raises (`pending.rs`);
//! advanced indexing reads its check at once, as its offsets must be valid before they are
//! followed.

use super::geometry::{coalesce, Strided, MAX_DIMS};
use super::{device_of, launch_config, ptr, type_name, Source};
use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::index::IndexItem;
use crate::tensor::Tensor;

pub const SOURCE: Source = Source {
    name: "index",
    text: include_str!("kernels/index.cu"),
};

/// Every (source, defines) the functions here request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    crate::dtype::ALL_DTYPES
        .iter()
        .map(|&d| (SOURCE, vec![("T", type_name(d))]))
        .collect()
}

/// A view's geometry with every dimension kept (kernels that need the coordinates of the last
/// dims use it).
fn unmerged(shape: &[usize], strides: &[isize]) -> Result<Strided> {
    if shape.len() > MAX_DIMS {
        return Err(Error::runtime(format!(
            "CUDA kernels take views of at most {MAX_DIMS} dimensions, got {}",
            shape.len()
        )));
    }
    let mut s = Strided {
        sizes: [1; MAX_DIMS],
        strides: [0; MAX_DIMS],
        ndim: shape.len() as i32,
    };
    for d in 0..shape.len() {
        s.sizes[d] = shape[d] as i64;
        s.strides[d] = strides[d] as i64;
    }
    Ok(s)
}

/// `out[e] = src[e with coordinate d replaced by idx[e]]`, all three viewed with `out`'s
/// shape (`idx` broadcast where it has stride 0; `src`'s stride along `d` is `src_sd` and
/// its size there `size`). An index out of range raises `err()` at the next synchronisation.
#[allow(clippy::too_many_arguments)]
pub fn gather_dim(
    out: &Tensor,
    src: &Tensor,
    src_strides: &[isize],
    src_sd: isize,
    size: usize,
    idx: &Tensor,
    idx_strides: &[isize],
    wrap: bool,
    err: impl FnOnce() -> Error + Send + 'static,
) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let idx = if idx.dtype() == DType::I64 {
        idx.clone()
    } else {
        idx.to_dtype(DType::I64)?
    };
    let [so, ss, si] = coalesce(out.shape(), [out.strides(), src_strides, idx_strides])?;
    let flag = Tensor::zeros(&[1], DType::I32, out.device())?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(out.dtype()))], "gather_dim")?;
    let (po, ps, pi, pf) = (ptr(out), ptr(src), ptr(&idx), ptr(&flag));
    let (sd, size, wrap, n64) = (src_sd as i64, size as i64, wrap as i32, n as i64);
    crate::cuda_launch!(dev, f, "gather_dim", launch_config(dev, n);
        po, so, ps, ss, sd, size, pi, si, wrap, n64, pf)?;
    out.storage().bump_version();
    dev.defer_check(flag, move |v| (v.first() != Some(&0)).then(err))
}

/// `out[e] = src[src_strides(e) + offs[offs_strides(e)]]` over the elements of `out`: the read
/// of advanced indexing, through storage offsets (int64) that
/// [`IndexCheck`](super::scatter::IndexCheck) built and checked.
pub fn gather_offsets(
    out: &Tensor,
    src: &Tensor,
    src_strides: &[isize],
    offs: &Tensor,
    offs_strides: &[isize],
) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let [so, ss, si] = coalesce(out.shape(), [out.strides(), src_strides, offs_strides])?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(out.dtype()))], "gather_offsets")?;
    let (po, ps, pi, n64) = (ptr(out), ptr(src), ptr(offs), n as i64);
    crate::cuda_launch!(dev, f, "gather_offsets", launch_config(dev, n); po, so, ps, ss, pi, si, n64)?;
    out.storage().bump_version();
    Ok(())
}

/// `t.masked_fill_(mask, value)` with `mask` (bool) already broadcast to `t`'s shape and
/// `bits` the value's bytes in `t`'s dtype.
pub fn masked_fill(t: &Tensor, mask: &Tensor, bits: u64) -> Result<()> {
    let dev = device_of(t)?;
    let n = t.numel();
    if n == 0 {
        return Ok(());
    }
    let [so, sm] = coalesce(t.shape(), [t.strides(), mask.strides()])?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(t.dtype()))], "masked_fill")?;
    let (po, pm, n64) = (ptr(t), ptr(mask), n as i64);
    crate::cuda_launch!(dev, f, "masked_fill", launch_config(dev, n); po, so, pm, sm, bits, n64)?;
    t.storage().bump_version();
    Ok(())
}

/// `t.masked_scatter_(mask, src)` with `mask` (bool) broadcast to `t`'s shape, `rank` the
/// running count of the mask in row-major order (contiguous int64, inclusive) and `src`
/// contiguous with at least as many elements as the mask selects.
pub fn masked_scatter(t: &Tensor, mask: &Tensor, rank: &Tensor, src: &Tensor) -> Result<()> {
    let dev = device_of(t)?;
    let n = t.numel();
    if n == 0 {
        return Ok(());
    }
    let [so, sm] = coalesce(t.shape(), [t.strides(), mask.strides()])?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(t.dtype()))], "masked_scatter")?;
    let (po, pm, pr, ps, n64) = (ptr(t), ptr(mask), ptr(rank), ptr(src), n as i64);
    crate::cuda_launch!(dev, f, "masked_scatter", launch_config(dev, n); po, so, pm, sm, pr, ps, n64)?;
    t.storage().bump_version();
    Ok(())
}

/// `out[k] = src[e]` for the k-th element `e` (row-major over `src`'s shape) where `mask`
/// (bool, of `src`'s shape) holds, `rank` being as in [`masked_scatter`]; `out` holds exactly
/// that many elements.
pub fn masked_select(out: &Tensor, src: &Tensor, mask: &Tensor, rank: &Tensor) -> Result<()> {
    let dev = device_of(out)?;
    let n = src.numel();
    if n == 0 || out.numel() == 0 {
        return Ok(());
    }
    let [ss, sm] = coalesce(src.shape(), [src.strides(), mask.strides()])?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(out.dtype()))], "masked_select")?;
    let (po, ps, pm, pr, n64) = (ptr(out), ptr(src), ptr(mask), ptr(rank), n as i64);
    crate::cuda_launch!(dev, f, "masked_select", launch_config(dev, n); po, ps, ss, pm, sm, pr, n64)?;
    out.storage().bump_version();
    Ok(())
}

/// Fills `out` (`[count, shape.len()]`, int64) with the coordinates over `shape` of the
/// elements where the inclusive running count `rank` (contiguous, row-major over `shape`)
/// steps up.
pub fn nonzero_coords(out: &Tensor, rank: &Tensor, shape: &[usize]) -> Result<()> {
    let dev = device_of(out)?;
    let n = rank.numel();
    if n == 0 || out.numel() == 0 {
        return Ok(());
    }
    let s = unmerged(shape, &vec![0; shape.len()])?;
    let f = dev.kernel(&SOURCE, &[("T", "i64")], "nonzero_coords")?;
    let (po, pr, n64) = (ptr(out), ptr(rank), n as i64);
    crate::cuda_launch!(dev, f, "nonzero_coords", launch_config(dev, n); po, pr, s, n64)?;
    out.storage().bump_version();
    Ok(())
}

/// `out[e]` = the insertion index of `values[e]` in its row of `seq` (contiguous rows of
/// `row` elements; `per_row` values per row, or one row for all when `one_row`). `out` is
/// int64 or int32; `seq` and `values` are contiguous and share a dtype.
pub fn searchsorted(
    out: &Tensor,
    seq: &Tensor,
    values: &Tensor,
    row: usize,
    per_row: usize,
    one_row: bool,
    right: bool,
) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let name = match out.dtype() {
        DType::I32 => "searchsorted_i32",
        _ => "searchsorted_i64",
    };
    let f = dev.kernel(&SOURCE, &[("T", type_name(seq.dtype()))], name)?;
    let (po, ps, pv) = (ptr(out), ptr(seq), ptr(values));
    let (row, per_row, n64) = (row as i64, per_row as i64, n as i64);
    let (one_row, right) = (one_row as i32, right as i32);
    crate::cuda_launch!(dev, f, name, launch_config(dev, n); po, ps, pv, row, per_row, one_row, right, n64)
}

/// Zeroes each matrix (last two dims) of `t` outside its lower (`lower`) or upper triangle
/// relative to diagonal `k`.
pub fn triangle(t: &Tensor, lower: bool, k: i64) -> Result<()> {
    let dev = device_of(t)?;
    let n = t.numel();
    if n == 0 {
        return Ok(());
    }
    let s = unmerged(t.shape(), t.strides())?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(t.dtype()))], "triangle")?;
    let (p, lower, n64) = (ptr(t), lower as i32, n as i64);
    crate::cuda_launch!(dev, f, "triangle", launch_config(dev, n); p, s, k, lower, n64)?;
    t.storage().bump_version();
    Ok(())
}

/// Copies `src` read through `src_strides` (may be negative) from element offset `shift` of
/// its view into `out` (same shape and dtype). Callers guarantee every read stays in `src`.
pub fn copy_with_strides(
    out: &Tensor,
    src: &Tensor,
    shift: isize,
    src_strides: &[isize],
) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let name = type_name(out.dtype());
    let [so, ss] = coalesce(out.shape(), [out.strides(), src_strides])?;
    let f = dev.kernel(
        &super::copy::SOURCE,
        &[("SRC", name), ("DST", name)],
        "copy_strided",
    )?;
    let po = ptr(out);
    let ps = (ptr(src) as i64 + shift as i64 * out.dtype().size() as i64) as u64;
    let n64 = n as i64;
    crate::cuda_launch!(dev, f, "copy_strided", launch_config(dev, n); po, so, ps, ss, n64)?;
    out.storage().bump_version();
    Ok(())
}

/// True if any of the tensors lives on a GPU.
pub fn any_cuda(ts: &[&Tensor]) -> bool {
    ts.iter().any(|t| t.is_cuda())
}

/// `t` in host memory (itself if already there). Data-dependent ops without a kernel run on
/// the host through this and move their result back.
pub fn host(t: &Tensor) -> Result<Tensor> {
    if t.is_cuda() {
        t.to_device(Device::Cpu)
    } else {
        Ok(t.clone())
    }
}

/// torch's error for index tensors on a GPU other than the indexed tensor's device (a host
/// tensor indexes a tensor on any device).
pub fn check_index_devices(t: &Tensor, items: &[IndexItem]) -> Result<()> {
    let elsewhere = items
        .iter()
        .any(|it| matches!(it, IndexItem::Tensor(x) if x.is_cuda() && x.device() != t.device()));
    if elsewhere {
        return Err(Error::runtime(format!(
            "indices should be either on cpu or on the same device as the indexed tensor ({})",
            t.device()
        )));
    }
    Ok(())
}
