//! Scans on CUDA tensors (kernels in `kernels/scan.cu`): cumsum, cumprod, cummax, cummin,
//! logcumsumexp.

use super::reduce::defines;
use super::{device_of, launch_config, ptr, Source};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use cudarc::driver::LaunchConfig;

pub const SOURCE: Source = Source {
    name: "scan",
    text: include_str!("kernels/scan.cu"),
};

/// Scans the contiguous `x`, seen as `[outer, n, inner]`, along the middle dim with the
/// kernels named `op`, into new contiguous tensors of `x`'s shape and dtypes `dt0` (and `dt1`).
pub fn scan(
    x: &Tensor,
    (outer, n, inner): (usize, usize, usize),
    op: &str,
    dt0: DType,
    dt1: Option<DType>,
) -> Result<(Tensor, Option<Tensor>)> {
    if !x.is_contiguous() {
        return Err(Error::runtime(format!(
            "{op}: CUDA scans take contiguous inputs"
        )));
    }
    let dev = device_of(x)?;
    let o0 = Tensor::empty(x.shape(), dt0, x.device())?;
    let o1 = dt1
        .map(|d| Tensor::empty(x.shape(), d, x.device()))
        .transpose()?;
    let rows = outer * inner;
    if rows == 0 || n == 0 {
        return Ok((o0, o1));
    }
    let defs = defines(x.dtype());
    let (xp, p0, p1) = (ptr(x), ptr(&o0), o1.as_ref().map(ptr).unwrap_or(0));
    let (r64, n64, i64_) = (rows as i64, n as i64, inner as i64);
    // A thread per row reads memory in order when the rows are side by side (inner > 1) and
    // there are enough of them; otherwise a block per row scans it in parallel.
    if n <= 64 || (inner > 1 && rows >= 4096) {
        let name = format!("{op}_thread");
        let f = dev.kernel(&SOURCE, &defs, &name)?;
        return crate::cuda_launch!(dev, f, &name, launch_config(dev, rows); xp, r64, n64, i64_, p0, p1)
            .map(|_| (o0, o1));
    }
    let threads: u32 = if n >= 1024 { 1024 } else { 256 };
    let sms = dev.multiprocessors as usize;
    let cfg = LaunchConfig {
        grid_dim: (rows.min(sms * 32) as u32, 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    };
    let name = format!("{op}_block");
    let f = dev.kernel(&SOURCE, &defs, &name)?;
    crate::cuda_launch!(dev, f, &name, cfg; xp, r64, n64, i64_, p0, p1)?;
    Ok((o0, o1))
}
