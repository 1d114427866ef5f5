//! Sorting on CUDA tensors (kernels in `kernels/sort.cu`): stable sort of the rows of a
//! contiguous `[rows, n]` input, and medians and modes of sorted rows.

use super::reduce::defines;
use super::{device_of, launch_config, ptr, Source};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use cudarc::driver::LaunchConfig;

pub const SOURCE: Source = Source {
    name: "sort",
    text: include_str!("kernels/sort.cu"),
};

/// Rows padded to at most this many slots sort in shared memory, a block per row.
const SMALL_P: usize = 2048;

fn rows_and_len(x: &Tensor, op: &str) -> Result<(usize, usize)> {
    if !x.is_contiguous() || x.ndim() == 0 {
        return Err(Error::runtime(format!(
            "{op}: CUDA row kernels take contiguous inputs of at least one dim"
        )));
    }
    let n = x.shape()[x.ndim() - 1];
    let rows = x.numel().checked_div(n).unwrap_or(0);
    Ok((rows, n))
}

/// Sorts every row (the last dim) of the contiguous `x`: (values, int64 indices), stable,
/// NaN after every number (first when `desc`, as torch).
pub fn sort_rows(x: &Tensor, desc: bool) -> Result<(Tensor, Tensor)> {
    let dev = device_of(x)?;
    let (rows, n) = rows_and_len(x, "sort")?;
    let ov = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    let oi = Tensor::empty(x.shape(), DType::I64, x.device())?;
    if rows == 0 {
        return Ok((ov, oi));
    }
    let defs = defines(x.dtype());
    let (xp, pv, pi) = (ptr(x), ptr(&ov), ptr(&oi));
    let (r64, n64, d) = (rows as i64, n as i64, desc as i32);
    let p = n.next_power_of_two();
    let sms = dev.multiprocessors as usize;
    if p <= SMALL_P {
        let acc = if x.dtype() == DType::F64 || x.dtype() == DType::I64 {
            8
        } else {
            4
        };
        let threads = (p / 2).clamp(32, 1024) as u32;
        let cfg = LaunchConfig {
            grid_dim: (rows.min(sms * 32) as u32, 1, 1),
            block_dim: (threads, 1, 1),
            shared_mem_bytes: ((p * 4).div_ceil(16) * 16 + p * acc) as u32,
        };
        let p32 = p as i32;
        let f = dev.kernel(&SOURCE, &defs, "sort_small")?;
        crate::cuda_launch!(dev, f, "sort_small", cfg; xp, r64, n64, p32, d, pv, pi)?;
        return Ok((ov, oi));
    }
    let kv = Tensor::empty(&[rows, p], x.dtype(), x.device())?;
    let ki = Tensor::empty(&[rows, p], DType::I64, x.device())?;
    let (pkv, pki, p64) = (ptr(&kv), ptr(&ki), p as i64);
    let f = dev.kernel(&SOURCE, &defs, "sort_init")?;
    crate::cuda_launch!(dev, f, "sort_init", launch_config(dev, rows * p); xp, r64, n64, p64, pkv, pki)?;
    let f = dev.kernel(&SOURCE, &defs, "sort_step")?;
    let mut k = 2i64;
    while k <= p64 {
        let mut j = k / 2;
        while j > 0 {
            crate::cuda_launch!(dev, f, "sort_step", launch_config(dev, rows * p / 2);
                pkv, pki, r64, n64, p64, k, j, d)?;
            j /= 2;
        }
        k *= 2;
    }
    let f = dev.kernel(&SOURCE, &defs, "sort_finish")?;
    crate::cuda_launch!(dev, f, "sort_finish", launch_config(dev, rows * n); pkv, pki, r64, n64, p64, pv, pi)?;
    Ok((ov, oi))
}

/// Per-row statistic `kernel` (`median_sorted`, `mode_sorted`) of ascending-sorted rows:
/// (values, indices) shaped like the rows with a last dim of 1.
fn pick(
    sv: &Tensor,
    si: &Tensor,
    kernel: &str,
    skip_nan: Option<bool>,
) -> Result<(Tensor, Tensor)> {
    let dev = device_of(sv)?;
    let (rows, n) = rows_and_len(sv, kernel)?;
    let mut shape = sv.shape().to_vec();
    let last = shape.len() - 1;
    shape[last] = 1;
    let ov = Tensor::empty(&shape, sv.dtype(), sv.device())?;
    let oi = Tensor::empty(&shape, DType::I64, sv.device())?;
    if rows == 0 {
        return Ok((ov, oi));
    }
    let f = dev.kernel(&SOURCE, &defines(sv.dtype()), kernel)?;
    let (pv, pi, qv, qi) = (ptr(sv), ptr(si), ptr(&ov), ptr(&oi));
    let (r64, n64) = (rows as i64, n as i64);
    let cfg = launch_config(dev, rows);
    match skip_nan {
        Some(s) => {
            let s = s as i32;
            crate::cuda_launch!(dev, f, kernel, cfg; pv, pi, r64, n64, s, qv, qi)?
        }
        None => crate::cuda_launch!(dev, f, kernel, cfg; pv, pi, r64, n64, qv, qi)?,
    }
    Ok((ov, oi))
}

/// Lower median of every row of the contiguous `x` (last dim), NaN-aware as `torch.median`
/// (`nanmedian` with `skip_nan`); the last dim becomes 1.
pub fn median_rows(x: &Tensor, skip_nan: bool) -> Result<(Tensor, Tensor)> {
    let (sv, si) = sort_rows(x, false)?;
    pick(&sv, &si, "median_sorted", Some(skip_nan))
}

/// `torch.mode` of every row of the contiguous `x`; the last dim becomes 1.
pub fn mode_rows(x: &Tensor) -> Result<(Tensor, Tensor)> {
    let (sv, si) = sort_rows(x, false)?;
    pick(&sv, &si, "mode_sorted", None)
}
