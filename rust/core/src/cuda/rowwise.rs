//! Fused row-wise nn kernels on CUDA tensors (`kernels/rowwise.cu`): softmax and log_softmax,
//! cross entropy from logits, layer norm and RMS norm, each with its backward.
//!
//! Callers (`ops::softmax`, `ops::cross_entropy`, `ops::norm`) have checked the arguments and
//! made every tensor contiguous; a softmax input is seen as `[outer, n, inner]` around its dim, a
//! norm input as `[rows, n]`. Rows of the last dim (`inner == 1`) take a warp each when short and a block each
//! when long; other dims take a thread per column.

use super::{device_of, launch_config, ptr, type_name, CudaDevice, Source};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use cudarc::driver::LaunchConfig;

pub const SOURCE: Source = Source {
    name: "rowwise",
    text: concat!(
        include_str!("kernels/moments.cuh"),
        include_str!("kernels/rowwise.cu")
    ),
};

/// The specialisation for element type `d`.
pub(crate) fn defines(d: DType) -> [(&'static str, &'static str); 1] {
    [("T", type_name(d))]
}

/// Every (source, defines) the row-wise and loss programs can request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = super::float_specialisations(SOURCE);
    v.extend(super::float_specialisations(super::loss::SOURCE));
    v
}

/// Rows at most this long take one warp each; longer rows take a block.
const WARP_ROW_MAX: usize = 1024;

/// Launch shape of a row kernel over `rows` rows of `n` elements, and its `warp` argument.
fn rows_config(dev: &CudaDevice, rows: usize, n: usize) -> (LaunchConfig, i32) {
    let max_blocks = dev.multiprocessors as usize * 32;
    let (threads, blocks, warp) = if n <= WARP_ROW_MAX {
        // Four warps, four rows, per block.
        (128u32, rows.div_ceil(4), 1)
    } else {
        // Enough threads that each takes a few 16-byte packs; 512 at most (the kernels'
        // `__launch_bounds__`).
        (if n <= 4096 { 256 } else { 512 }, rows, 0)
    };
    let cfg = LaunchConfig {
        grid_dim: (blocks.clamp(1, max_blocks) as u32, 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    };
    (cfg, warp)
}

fn check_contiguous(op: &str, ts: &[&Tensor]) -> Result<()> {
    if ts.iter().any(|t| !t.is_contiguous()) {
        return Err(Error::runtime(format!(
            "{op}: CUDA row kernels take contiguous tensors"
        )));
    }
    Ok(())
}

/// `softmax` (or `log_softmax` with `log`) of the contiguous `x` seen as `[outer, n, inner]`,
/// along the middle dim, into a new tensor.
pub fn softmax(x: &Tensor, (outer, n, inner): (usize, usize, usize), log: bool) -> Result<Tensor> {
    let op = if log { "log_softmax" } else { "softmax" };
    check_contiguous(op, &[x])?;
    let dev = device_of(x)?;
    let y = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    if y.numel() == 0 {
        return Ok(y);
    }
    let defs = defines(x.dtype());
    let (xp, yp) = (ptr(x), ptr(&y));
    let (o, n64, i) = (outer as i64, n as i64, inner as i64);
    if inner == 1 {
        let (cfg, warp) = rows_config(dev, outer, n);
        let name = format!("{op}_rows_k");
        let f = dev.kernel(&SOURCE, &defs, &name)?;
        crate::cuda_launch!(dev, f, &name, cfg; xp, yp, o, n64, warp)?;
    } else {
        let name = format!("{op}_columns_k");
        let f = dev.kernel(&SOURCE, &defs, &name)?;
        let cfg = launch_config(dev, outer * inner);
        crate::cuda_launch!(dev, f, &name, cfg; xp, yp, o, n64, i)?;
    }
    Ok(y)
}

/// `softmax` over the rows of the contiguous `x` (`rows` of `n`) as rows of `l x n` matrices,
/// row `i` of each seeing columns `0..=i` only (the others come out 0).
pub fn causal_softmax(x: &Tensor, rows: usize, n: usize, l: usize) -> Result<Tensor> {
    check_contiguous("softmax", &[x])?;
    let dev = device_of(x)?;
    let y = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    if y.numel() == 0 {
        return Ok(y);
    }
    let (cfg, warp) = rows_config(dev, rows, n);
    let f = dev.kernel(&SOURCE, &defines(x.dtype()), "softmax_causal_rows_k")?;
    let (xp, yp) = (ptr(x), ptr(&y));
    let (r64, n64, l64) = (rows as i64, n as i64, l as i64);
    crate::cuda_launch!(dev, f, "softmax_causal_rows_k", cfg; xp, yp, r64, n64, warp, l64)?;
    Ok(y)
}

/// The gradient of `softmax` (`log_softmax` with `log`) from the output gradient `g` and the
/// saved output `y`, both contiguous of one shape seen as `[outer, n, inner]`.
pub fn softmax_backward(
    g: &Tensor,
    y: &Tensor,
    (outer, n, inner): (usize, usize, usize),
    log: bool,
) -> Result<Tensor> {
    let op = if log {
        "log_softmax_backward"
    } else {
        "softmax_backward"
    };
    check_contiguous(op, &[g, y])?;
    let dev = device_of(y)?;
    let dx = Tensor::empty(y.shape(), y.dtype(), y.device())?;
    if dx.numel() == 0 {
        return Ok(dx);
    }
    let defs = defines(y.dtype());
    let (gp, yp, dp) = (ptr(g), ptr(y), ptr(&dx));
    let (o, n64, i) = (outer as i64, n as i64, inner as i64);
    if inner == 1 {
        let (cfg, warp) = rows_config(dev, outer, n);
        let name = format!("{op}_rows_k");
        let f = dev.kernel(&SOURCE, &defs, &name)?;
        crate::cuda_launch!(dev, f, &name, cfg; gp, yp, dp, o, n64, warp)?;
    } else {
        let name = format!("{op}_columns_k");
        let f = dev.kernel(&SOURCE, &defs, &name)?;
        let cfg = launch_config(dev, outer * inner);
        crate::cuda_launch!(dev, f, &name, cfg; gp, yp, dp, o, n64, i)?;
    }
    Ok(dx)
}

/// The gradient of [`causal_softmax`] from the output gradient `g` and the saved output `y`
/// (contiguous, `rows` of `n`, as rows of `l x n` matrices): only the visible columns are read.
pub fn causal_softmax_backward(
    g: &Tensor,
    y: &Tensor,
    rows: usize,
    n: usize,
    l: usize,
) -> Result<Tensor> {
    check_contiguous("softmax_backward", &[g, y])?;
    let dev = device_of(y)?;
    let dx = Tensor::empty(y.shape(), y.dtype(), y.device())?;
    if dx.numel() == 0 {
        return Ok(dx);
    }
    let (cfg, warp) = rows_config(dev, rows, n);
    let f = dev.kernel(
        &SOURCE,
        &defines(y.dtype()),
        "softmax_backward_causal_rows_k",
    )?;
    let (gp, yp, dp) = (ptr(g), ptr(y), ptr(&dx));
    let (r64, n64, l64) = (rows as i64, n as i64, l as i64);
    crate::cuda_launch!(dev, f, "softmax_backward_causal_rows_k", cfg; gp, yp, dp, r64, n64, warp, l64)?;
    Ok(dx)
}

/// Cross entropy of the contiguous `[rows, n]` logits `x` against the int64 `target` (`[rows]`):
/// writes each row's loss, maximum and log-sum into the `[rows]` tensors of `stats` (`x`'s
/// compute dtype). A target outside `[0, n)` that is not `ignore_index` raises torch's error for
/// the first such row at the device's next synchronisation (`cuda::loss::bad_target_flag`).
pub fn cross_entropy(
    x: &Tensor,
    target: &Tensor,
    ignore_index: i64,
    [loss, max, log_sum]: [&Tensor; 3],
) -> Result<()> {
    check_contiguous("cross_entropy", &[x, target])?;
    let dev = device_of(x)?;
    let rows = target.numel();
    if rows == 0 {
        return Ok(());
    }
    let n = x.numel() / rows;
    let bad = super::loss::bad_target_flag(x)?;
    let (cfg, warp) = rows_config(dev, rows, n);
    let f = dev.kernel(&SOURCE, &defines(x.dtype()), "cross_entropy_rows_k")?;
    let (xp, tp, bp) = (ptr(x), ptr(target), ptr(&bad));
    let (lp, mp, sp) = (ptr(loss), ptr(max), ptr(log_sum));
    let (r64, n64) = (rows as i64, n as i64);
    crate::cuda_launch!(dev, f, "cross_entropy_rows_k", cfg;
        xp, tp, lp, mp, sp, r64, n64, ignore_index, bp, warp)?;
    super::loss::defer_bad_target_check(dev, bad, target)
}

/// The gradient of [`cross_entropy`] for the logits: `w[r] * (softmax(x[r]) - one_hot(t[r]))`
/// in `x`'s dtype, from the saved row statistics and the rows' gradients `w` (all `[rows]` of
/// the compute dtype).
pub fn cross_entropy_backward(
    x: &Tensor,
    target: &Tensor,
    ignore_index: i64,
    [max, log_sum, w]: [&Tensor; 3],
) -> Result<Tensor> {
    check_contiguous("cross_entropy_backward", &[x, target, max, log_sum, w])?;
    let dev = device_of(x)?;
    let dx = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    let rows = target.numel();
    if dx.numel() == 0 {
        return Ok(dx);
    }
    let n = x.numel() / rows;
    let (cfg, warp) = rows_config(dev, rows, n);
    let f = dev.kernel(
        &SOURCE,
        &defines(x.dtype()),
        "cross_entropy_backward_rows_k",
    )?;
    let (xp, tp, dp) = (ptr(x), ptr(target), ptr(&dx));
    let (mp, sp, wp) = (ptr(max), ptr(log_sum), ptr(w));
    let (r64, n64) = (rows as i64, n as i64);
    crate::cuda_launch!(dev, f, "cross_entropy_backward_rows_k", cfg;
        xp, tp, mp, sp, wp, dp, r64, n64, ignore_index, warp)?;
    Ok(dx)
}

/// Layer norm (RMS norm with `rms`, which has no bias) of the contiguous `x` seen as
/// `[rows, n]`: `(y, mean, rstd)`, the statistics as `[rows]` tensors of `stat_dtype`
/// (float for f16/bf16 inputs). `w` and `b` are contiguous `[n]` of `x`'s dtype.
pub fn norm(
    x: &Tensor,
    w: Option<&Tensor>,
    b: Option<&Tensor>,
    (rows, n): (usize, usize),
    eps: f64,
    rms: bool,
    stat_dtype: DType,
) -> Result<(Tensor, Tensor, Tensor)> {
    let op = if rms { "rms_norm" } else { "layer_norm" };
    let all: Vec<&Tensor> = [Some(x), w, b].into_iter().flatten().collect();
    check_contiguous(op, &all)?;
    let dev = device_of(x)?;
    let y = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    let mean = Tensor::empty(&[rows], stat_dtype, x.device())?;
    let rstd = Tensor::empty(&[rows], stat_dtype, x.device())?;
    if rows == 0 {
        return Ok((y, mean, rstd));
    }
    if n == 0 {
        // The mean of nothing is NaN, and so is its rstd (as torch).
        mean.fill_(crate::Scalar::Float(f64::NAN))?;
        rstd.fill_(crate::Scalar::Float(f64::NAN))?;
        return Ok((y, mean, rstd));
    }
    let defs = defines(x.dtype());
    let (xp, yp, mp, rp) = (ptr(x), ptr(&y), ptr(&mean), ptr(&rstd));
    let (wp, bp) = (w.map(ptr).unwrap_or(0), b.map(ptr).unwrap_or(0));
    let (r64, n64) = (rows as i64, n as i64);
    let (cfg, warp) = rows_config(dev, rows, n);
    let name = format!("{op}_rows_k");
    let f = dev.kernel(&SOURCE, &defs, &name)?;
    if rms {
        crate::cuda_launch!(dev, f, &name, cfg; xp, wp, yp, mp, rp, r64, n64, eps, warp)?;
    } else {
        crate::cuda_launch!(dev, f, &name, cfg; xp, wp, bp, yp, mp, rp, r64, n64, eps, warp)?;
    }
    Ok((y, mean, rstd))
}

/// What a norm's backward computes: `dx` always, `dw`/`db` when asked.
pub struct NormGrads {
    pub dx: Tensor,
    pub dw: Option<Tensor>,
    pub db: Option<Tensor>,
}

/// The backward of [`norm`] from the output gradient `g`, the input `x` (both `[rows, n]`,
/// contiguous), the saved statistics and the weight. `need` says which of (dw, db) to compute.
#[allow(clippy::too_many_arguments)]
pub fn norm_backward(
    g: &Tensor,
    x: &Tensor,
    mean: &Tensor,
    rstd: &Tensor,
    w: Option<&Tensor>,
    (rows, n): (usize, usize),
    rms: bool,
    need: (bool, bool),
) -> Result<NormGrads> {
    let op = if rms {
        "rms_norm_backward"
    } else {
        "layer_norm_backward"
    };
    let all: Vec<&Tensor> = [Some(g), Some(x), Some(mean), Some(rstd), w]
        .into_iter()
        .flatten()
        .collect();
    check_contiguous(op, &all)?;
    let dev = device_of(x)?;
    let dt = x.dtype();
    let dx = Tensor::empty(x.shape(), dt, x.device())?;
    let new_param = |wanted: bool| {
        wanted
            .then(|| Tensor::zeros(&[n], dt, x.device()))
            .transpose()
    };
    let (dw, db) = (new_param(need.0)?, new_param(need.1)?);
    if n == 0 {
        return Ok(NormGrads { dx, dw, db });
    }
    let defs = defines(dt);
    let (gp, xp, mp, rp) = (ptr(g), ptr(x), ptr(mean), ptr(rstd));
    let (r64, n64) = (rows as i64, n as i64);
    if rows > 0 {
        let (cfg, warp) = rows_config(dev, rows, n);
        let (wp, dp) = (w.map(ptr).unwrap_or(0), ptr(&dx));
        let name = format!("{op}_rows_k");
        let f = dev.kernel(&SOURCE, &defs, &name)?;
        crate::cuda_launch!(dev, f, &name, cfg; gp, xp, mp, rp, wp, dp, r64, n64, warp)?;
    }
    if (dw.is_some() || db.is_some()) && rows > 0 {
        norm_params(
            dev,
            (gp, xp, mp, rp),
            (rows, n),
            mean.dtype(),
            dt,
            (&dw, &db),
        )?;
    }
    Ok(NormGrads { dx, dw, db })
}

/// dweight / dbias: column sums over the rows, split over enough blocks to fill the GPU, then
/// the splits summed in a fixed order.
fn norm_params(
    dev: &CudaDevice,
    (gp, xp, mp, rp): (u64, u64, u64, u64),
    (rows, n): (usize, usize),
    acc: DType,
    dt: DType,
    (dw, db): (&Option<Tensor>, &Option<Tensor>),
) -> Result<()> {
    let sms = dev.multiprocessors as usize;
    let tiles = n.div_ceil(32);
    // Each block folds at least 64 rows of its 32 columns.
    let splits = if tiles >= sms * 4 {
        1
    } else {
        (sms * 4 / tiles).clamp(1, rows.div_ceil(64).max(1))
    };
    let device = crate::Device::Cuda(dev.ordinal);
    let part_w = Tensor::empty(&[splits * n], acc, device)?;
    let part_b = Tensor::empty(&[splits * n], acc, device)?;
    let (pw, pb) = (ptr(&part_w), ptr(&part_b));
    let (r64, n64, s64) = (rows as i64, n as i64, splits as i64);
    let defs = defines(dt);
    let cfg = LaunchConfig {
        grid_dim: ((tiles * splits).clamp(1, sms * 32) as u32, 1, 1),
        block_dim: (32, 8, 1),
        shared_mem_bytes: 0,
    };
    let f = dev.kernel(&SOURCE, &defs, "norm_params_partial_k")?;
    crate::cuda_launch!(dev, f, "norm_params_partial_k", cfg; gp, xp, mp, rp, pw, pb, r64, n64, s64)?;
    let (dwp, dbp) = (
        dw.as_ref().map(ptr).unwrap_or(0),
        db.as_ref().map(ptr).unwrap_or(0),
    );
    let f = dev.kernel(&SOURCE, &defs, "norm_params_final_k")?;
    crate::cuda_launch!(dev, f, "norm_params_final_k", launch_config(dev, n); pw, pb, dwp, dbp, n64, s64)
}
