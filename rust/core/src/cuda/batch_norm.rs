//! Batch norm on CUDA tensors (`kernels/batch_norm.cu`): per-channel moments, the normalising
//! map, the backward's per-channel sums and its map.
//!
//! Callers (`ops::batch_norm`) have checked the arguments and made every tensor contiguous; the
//! input is seen as `[n, c, hw]`, the per-channel statistics are `[c]` tensors of the compute
//! dtype (float for f16/bf16).

use super::rowwise::defines;
use super::{device_of, launch_config, ptr, CudaDevice, Source};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;
use cudarc::driver::LaunchConfig;

pub const SOURCE: Source = Source {
    name: "batch_norm",
    text: concat!(
        include_str!("kernels/moments.cuh"),
        include_str!("kernels/batch_norm.cu")
    ),
};

/// `[n, c, hw]`: batch, channels, and the product of the spatial dims.
pub type Layout = (usize, usize, usize);

/// How many chunks of rows the column reductions split into: enough blocks to fill the GPU,
/// each folding at least 32 rows of its 32 columns.
fn splits(dev: &CudaDevice, rows: usize, cols: usize) -> usize {
    let blocks = dev.multiprocessors as usize * 4;
    let tiles = cols.div_ceil(32);
    if tiles >= blocks {
        1
    } else {
        (blocks / tiles).clamp(1, rows.div_ceil(32).max(1))
    }
}

fn tile_config(dev: &CudaDevice, cols: usize, splits: usize) -> LaunchConfig {
    let blocks = (cols.div_ceil(32) * splits).clamp(1, dev.multiprocessors as usize * 32);
    LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (32, 8, 1),
        shared_mem_bytes: 0,
    }
}

fn channel_config(dev: &CudaDevice, c: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (c.clamp(1, dev.multiprocessors as usize * 32) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// `(mean, var, invstd)` per channel of `x` (biased variance; `invstd = 1 / sqrt(var + eps)`).
/// `x` holds at least one element per channel.
pub fn moments(x: &Tensor, (n, c, hw): Layout, eps: f64, acc: DType) -> Result<[Tensor; 3]> {
    let dev = device_of(x)?;
    let k = c * hw;
    let s = splits(dev, n, k);
    // Three A values (count, mean, m2) per column and split.
    let part = Tensor::empty(&[s * k * 3], acc, x.device())?;
    let stat = || Tensor::empty(&[c], acc, x.device());
    let (mean, var, invstd) = (stat()?, stat()?, stat()?);
    let defs = defines(x.dtype());
    let (n64, k64, c64, hw64, s64) = (n as i64, k as i64, c as i64, hw as i64, s as i64);
    let (xp, pp) = (ptr(x), ptr(&part));
    let name = "batch_norm_moments_partial_k";
    let f = dev.kernel(&SOURCE, &defs, name)?;
    crate::cuda_launch!(dev, f, name, tile_config(dev, k, s); xp, pp, n64, k64, s64)?;
    let (mp, vp, ip) = (ptr(&mean), ptr(&var), ptr(&invstd));
    let name = "batch_norm_moments_finish_k";
    let f = dev.kernel(&SOURCE, &defs, name)?;
    crate::cuda_launch!(dev, f, name, channel_config(dev, c); pp, mp, vp, ip, c64, hw64, s64, eps)?;
    Ok([mean, var, invstd])
}

/// `y = (x - mean) * invstd * w + b` per channel; `w` and `b` are optional `[c]` of `x`'s dtype.
pub fn apply(
    x: &Tensor,
    (_, c, hw): Layout,
    mean: &Tensor,
    invstd: &Tensor,
    w: Option<&Tensor>,
    b: Option<&Tensor>,
) -> Result<Tensor> {
    let dev = device_of(x)?;
    let y = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    let total = x.numel();
    if total == 0 {
        return Ok(y);
    }
    let (xp, yp, mp, ip) = (ptr(x), ptr(&y), ptr(mean), ptr(invstd));
    let (wp, bp) = (w.map(ptr).unwrap_or(0), b.map(ptr).unwrap_or(0));
    let (c64, hw64, t64) = (c as i64, hw as i64, total as i64);
    let name = "batch_norm_apply_k";
    let f = dev.kernel(&SOURCE, &defines(x.dtype()), name)?;
    crate::cuda_launch!(dev, f, name, launch_config(dev, total); xp, yp, mp, ip, wp, bp, c64, hw64, t64)?;
    Ok(y)
}

/// `(sum(g), sum(g * (x - mean)))` per channel.
pub fn grad_sums(g: &Tensor, x: &Tensor, (n, c, hw): Layout, mean: &Tensor) -> Result<[Tensor; 2]> {
    let dev = device_of(x)?;
    let acc = mean.dtype();
    let k = c * hw;
    let s = splits(dev, n, k);
    let part = Tensor::empty(&[s * k * 2], acc, x.device())?;
    let sum_g = Tensor::empty(&[c], acc, x.device())?;
    let sum_gx = Tensor::empty(&[c], acc, x.device())?;
    let defs = defines(x.dtype());
    let (n64, k64, c64, hw64, s64) = (n as i64, k as i64, c as i64, hw as i64, s as i64);
    let (gp, xp, mp, pp) = (ptr(g), ptr(x), ptr(mean), ptr(&part));
    let name = "batch_norm_grad_sums_partial_k";
    let f = dev.kernel(&SOURCE, &defs, name)?;
    crate::cuda_launch!(dev, f, name, tile_config(dev, k, s); gp, xp, mp, pp, n64, k64, hw64, s64)?;
    let (sg, sgx) = (ptr(&sum_g), ptr(&sum_gx));
    let name = "batch_norm_grad_sums_finish_k";
    let f = dev.kernel(&SOURCE, &defs, name)?;
    crate::cuda_launch!(dev, f, name, channel_config(dev, c); pp, sg, sgx, c64, hw64, s64)?;
    Ok([sum_g, sum_gx])
}

/// `dx`: with the batch's statistics when `sums` (`sum_g`, `sum_gx`) are given (training), else
/// with fixed ones (`dx = g * invstd * w`).
pub fn backward_apply(
    g: &Tensor,
    x: &Tensor,
    (n, c, hw): Layout,
    mean: &Tensor,
    invstd: &Tensor,
    w: Option<&Tensor>,
    sums: Option<&[Tensor; 2]>,
) -> Result<Tensor> {
    let dev = device_of(x)?;
    let dx = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    let total = x.numel();
    if total == 0 {
        return Ok(dx);
    }
    let (gp, xp, dp, mp, ip) = (ptr(g), ptr(x), ptr(&dx), ptr(mean), ptr(invstd));
    let wp = w.map(ptr).unwrap_or(0);
    let (sg, sgx) = sums.map_or((0, 0), |[a, b]| (ptr(a), ptr(b)));
    let (c64, hw64, t64) = (c as i64, hw as i64, total as i64);
    let inv_m = 1.0 / (n * hw).max(1) as f64;
    let name = "batch_norm_backward_apply_k";
    let f = dev.kernel(&SOURCE, &defines(x.dtype()), name)?;
    crate::cuda_launch!(dev, f, name, launch_config(dev, total);
        gp, xp, dp, mp, ip, wp, sg, sgx, c64, hw64, t64, inv_m)?;
    Ok(dx)
}

/// Every (source, defines) the batch norm program can request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    super::float_specialisations(SOURCE)
}
