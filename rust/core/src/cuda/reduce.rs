//! Reductions on CUDA tensors (kernels in `kernels/reduce.cu`): sum, prod, mean, max/min with
//! and without indices, all/any, var/std, norms, logsumexp, count_nonzero, maximum/minimum.
//!
//! Strategy, from the collapsed geometry: a block per output element folds its reduced
//! elements with warp shuffles; when there are too few outputs to fill the GPU each output is
//! split over several blocks whose partial accumulators a second kernel combines (no atomics,
//! so results are deterministic). Reductions over the outer dims of contiguous memory (column
//! sums) give each warp 32 neighbouring outputs, so it reads memory in order; short reductions
//! take a thread per output.

use super::geometry::{coalesce, MAX_DIMS};
use super::{device_of, launch_config, ptr, type_name, Source, Strided};
use crate::cpu::reduce::ReduceGeometry;
use crate::dtype::{DType, ALL_DTYPES};
use crate::error::{Error, Result};
use crate::ops::reduce::out_shape;
use crate::tensor::Tensor;
use cudarc::driver::LaunchConfig;

pub const SOURCE: Source = Source {
    name: "reduce",
    text: include_str!("kernels/reduce.cu"),
};

/// Bytes reserved per partial accumulator (the largest, Welford's, takes 24).
const ACC_BYTES: usize = 32;
const THREADS: u32 = 256;

/// The specialisation of a source for element type `d`.
pub fn defines(d: DType) -> Vec<(&'static str, &'static str)> {
    vec![
        ("T", type_name(d)),
        ("IS_FLOAT", if d.is_floating_point() { "1" } else { "0" }),
    ]
}

/// Every (source, defines) the reduction, scan and sort programs can request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = Vec::new();
    for src in [SOURCE, super::scan::SOURCE, super::sort::SOURCE] {
        for d in ALL_DTYPES {
            v.push((src, defines(d)));
        }
    }
    v
}

/// Sizes and strides (in elements) of an already collapsed view as a kernel argument.
pub(crate) fn strided(shape: &[usize], strides: &[isize]) -> Result<Strided> {
    if shape.len() > MAX_DIMS {
        return Err(Error::runtime(format!(
            "CUDA kernels take views of at most {MAX_DIMS} dimensions that cannot be merged; \
             got shape {shape:?} with strides {strides:?}"
        )));
    }
    let mut s = Strided {
        sizes: [1; MAX_DIMS],
        strides: [0; MAX_DIMS],
        ndim: shape.len() as i32,
    };
    for (d, (&n, &st)) in shape.iter().zip(strides).enumerate() {
        s.sizes[d] = n as i64;
        s.strides[d] = st as i64;
    }
    Ok(s)
}

fn blocks(n: usize, max: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (n.clamp(1, max) as u32, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Reduces `x` over the dims in `mask` with the kernels named `op` (see `REDUCE_KERNELS` in
/// `reduce.cu`), writing a tensor of dtype `dt0` and, for two-output ops, one of `dt1`. `p` is
/// the op's parameter (norm order, variance correction).
pub fn reduce(
    x: &Tensor,
    mask: &[bool],
    keepdim: bool,
    op: &str,
    p: f64,
    dt0: DType,
    dt1: Option<DType>,
) -> Result<(Tensor, Option<Tensor>)> {
    let dev = device_of(x)?;
    let g = ReduceGeometry::new(x.shape(), x.strides(), mask);
    let shape = out_shape(x.shape(), mask, keepdim);
    let o0 = Tensor::empty(&shape, dt0, x.device())?;
    let o1 = dt1
        .map(|d| Tensor::empty(&shape, d, x.device()))
        .transpose()?;
    let (n_out, n_red) = (g.out_numel(), g.red_numel());
    if n_out == 0 {
        return Ok((o0, o1));
    }
    let kept = strided(&g.kept_shape, &g.kept_strides)?;
    let red = strided(&g.red_shape, &g.red_strides)?;
    let defs = defines(x.dtype());
    let (xp, p0, p1) = (ptr(x), ptr(&o0), o1.as_ref().map(ptr).unwrap_or(0));
    let (no, nr) = (n_out as i64, n_red as i64);
    let nk = g.kept_shape.len();
    let columns =
        nk > 0 && g.kept_strides[nk - 1] == 1 && g.red_strides.last().is_some_and(|&s| s != 1);
    if n_red <= 32 {
        let name = format!("{op}_thread");
        let f = dev.kernel(&SOURCE, &defs, &name)?;
        crate::cuda_launch!(dev, f, &name, launch_config(dev, n_out); xp, kept, red, no, nr, p0, p1, p)?;
        return Ok((o0, o1));
    }
    let sms = dev.multiprocessors as usize;
    let (target, max_blocks) = (sms * 8, sms * 32);
    // Work items: tiles of 32 neighbouring outputs for column reductions, else outputs.
    let (kind, items, per_split) = if columns {
        ("columns", n_out.div_ceil(32), 512)
    } else {
        ("block", n_out, 4096)
    };
    let splits = if items >= target {
        1
    } else {
        (target / items).min(n_red.div_ceil(per_split)).max(1)
    };
    let name = format!("{op}_{kind}");
    let f = dev.kernel(&SOURCE, &defs, &name)?;
    let sp = splits as i64;
    let mut cfg = blocks(items * splits, max_blocks);
    if columns {
        cfg.block_dim = (32, THREADS / 32, 1);
    }
    if splits == 1 {
        let none = 0u64;
        crate::cuda_launch!(dev, f, &name, cfg; xp, kept, red, no, nr, sp, p0, p1, none, p)?;
        return Ok((o0, o1));
    }
    let part = Tensor::empty(&[n_out * splits * ACC_BYTES], DType::U8, x.device())?;
    let pp = ptr(&part);
    crate::cuda_launch!(dev, f, &name, cfg; xp, kept, red, no, nr, sp, p0, p1, pp, p)?;
    let name = format!("{op}_final");
    let f = dev.kernel(&SOURCE, &defs, &name)?;
    crate::cuda_launch!(dev, f, &name, blocks(n_out, max_blocks); pp, no, nr, sp, p0, p1, p)?;
    Ok((o0, o1))
}

/// One-output [`reduce`].
pub fn reduce1(
    x: &Tensor,
    mask: &[bool],
    keepdim: bool,
    op: &str,
    p: f64,
    dt: DType,
) -> Result<Tensor> {
    Ok(reduce(x, mask, keepdim, op, p, dt, None)?.0)
}

/// Two-output [`reduce`].
pub fn reduce2(
    x: &Tensor,
    mask: &[bool],
    keepdim: bool,
    op: &str,
    p: f64,
    dts: (DType, DType),
) -> Result<(Tensor, Tensor)> {
    let (a, b) = reduce(x, mask, keepdim, op, p, dts.0, Some(dts.1))?;
    let b = b.ok_or_else(|| Error::runtime(format!("{op}: second output missing")))?;
    Ok((a, b))
}

/// `out = maximum(a, b)` (`MAX`) or `minimum`: all three of one shape and dtype, on one device.
pub fn maximum_minimum<const MAX: bool>(out: &Tensor, a: &Tensor, b: &Tensor) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let [so, sa, sb] = coalesce(out.shape(), [out.strides(), a.strides(), b.strides()])?;
    let name = if MAX { "maximum" } else { "minimum" };
    let f = dev.kernel(&SOURCE, &defines(out.dtype()), name)?;
    let (po, pa, pb, n64) = (ptr(out), ptr(a), ptr(b), n as i64);
    crate::cuda_launch!(dev, f, name, launch_config(dev, n); po, so, pa, sa, pb, sb, n64)
}
