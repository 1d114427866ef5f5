//! Attention on tensor cores (`kernels/flash_attention.cu`): the flash-attention-2 forward and
//! backward for f16 and bf16 with head dims of 64 or 128, on sm_80 and later, without a bias.
//! `cuda::attention` sends the problems these take here and the rest to its CUDA-core kernels;
//! both share the argument block, the logsumexp convention and the delta kernel.
//!
//! The kernels read rows in 16-byte pieces, so an operand whose rows are not contiguous, or
//! whose strides or base are not 16-byte aligned, is first copied contiguous. dQ is summed over
//! the key tiles with float atomics, so its last bits may differ between runs, as with torch's
//! flash-attention backward; dK and dV have one writer each.

use super::attention::{args, config, Args, Strides};
use super::{device_of, launch_config, ptr, type_name, CudaDevice, Source};
use crate::cpu::attention::Geo;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::attention::{geo_of, Plan};
use crate::tensor::Tensor;

pub const SOURCE: Source = Source {
    name: "flash_attention",
    text: concat!(
        include_str!("kernels/attention_args.cuh"),
        include_str!("kernels/flash_attention.cu")
    ),
};

/// The head dims the kernels are compiled for (`HD` in the source).
const HEAD_DIMS: [(usize, &str); 2] = [(64, "64"), (128, "128")];
/// Query rows per forward block, keys per backward block (`BM`, `BN`).
const TILE: usize = 64;

/// Every (source, defines) the functions here request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = Vec::new();
    for d in [DType::F16, DType::BF16] {
        for (_, hd) in HEAD_DIMS {
            v.push((SOURCE, vec![("T", type_name(d)), ("HD", hd)]));
        }
    }
    v
}

fn head_dim_name(e: usize) -> Option<&'static str> {
    HEAD_DIMS.iter().find(|(n, _)| *n == e).map(|(_, s)| *s)
}

/// Whether the tensor-core kernels take the planned problem.
pub fn takes(p: &Plan, dt: DType, dev: &CudaDevice) -> bool {
    supports(dt, p.dims.e, p.dims.ev, p.bias.is_some(), dev)
}

/// Whether the tensor-core kernels take attention in `dt` with head dims `e` (queries, keys)
/// and `ev` (values), with or without an additive mask, on `dev`.
pub fn supports(dt: DType, e: usize, ev: usize, masked: bool, dev: &CudaDevice) -> bool {
    matches!(dt, DType::F16 | DType::BF16)
        && dev.capability.0 >= 8
        && !masked
        && e == ev
        && head_dim_name(e).is_some()
}

/// `op` as the kernels read it: rows contiguous, strides and base 16-byte aligned (a
/// contiguous copy otherwise).
fn aligned(op: &(Tensor, Geo)) -> Result<(Tensor, Geo)> {
    let (t, g) = op;
    let ok = g.c == 1 && [g.b, g.h, g.r].iter().all(|s| s % 8 == 0) && ptr(t) % 16 == 0;
    if ok {
        Ok(op.clone())
    } else {
        geo_of(&t.contiguous()?)
    }
}

fn defines(dt: DType, e: usize) -> [(&'static str, &'static str); 2] {
    [
        ("T", type_name(dt)),
        ("HD", head_dim_name(e).unwrap_or("64")),
    ]
}

/// Shared memory in bytes of `tiles` rows of `e` (+ 8 padding) elements of 2 bytes, plus
/// `extra` bytes.
fn smem(tiles: usize, e: usize, extra: usize) -> usize {
    tiles * (e + 8) * 2 + extra
}

/// The args of the planned problem with the operands' aligned strides.
fn aligned_args(p: &Plan, q: &Geo, k: &Geo, v: &Geo, st: &Strides) -> Args {
    let mut a = args(p, st);
    a.q = (*q).into();
    a.k = (*k).into();
    a.v = (*v).into();
    a
}

/// Writes `out` (through the strides `st.o`) and `lse` (contiguous) of a problem [`takes`]
/// accepts.
pub fn forward(p: &Plan, out: &Tensor, lse: &Tensor, st: &Strides) -> Result<()> {
    let dt = out.dtype();
    let dev = device_of(out)?;
    let d = &p.dims;
    let blocks = d.batch * d.heads * d.l.div_ceil(TILE);
    if blocks == 0 {
        return Ok(());
    }
    let (q, k, v) = (aligned(&p.q)?, aligned(&p.k)?, aligned(&p.v)?);
    let f = dev.kernel(&SOURCE, &defines(dt, d.e), "flash_fwd_k")?;
    // Q and two buffers of K and V tiles.
    let cfg = config(dev, &f, blocks, smem(5 * TILE, d.e, 0))?;
    let a = aligned_args(p, &q.1, &k.1, &v.1, st);
    let (qp, kp, vp, op, lp) = (ptr(&q.0), ptr(&k.0), ptr(&v.0), ptr(out), ptr(lse));
    crate::cuda_launch!(dev, f, "flash_fwd_k", cfg; qp, kp, vp, op, lp, a)
}

/// Writes the gradients (fresh, through the strides in `st`) of a problem [`takes`] accepts
/// from the output gradient `dout` (with its strides), the forward's `lse` and
/// `delta` = rowsum(dout * out).
pub fn backward(
    p: &Plan,
    dout: &(Tensor, Geo),
    lse: &Tensor,
    delta: &Tensor,
    (dq, dk, dv): (&Tensor, &Tensor, &Tensor),
    mut st: Strides,
) -> Result<()> {
    let dt = dq.dtype();
    let dev = device_of(dq)?;
    let d = &p.dims;
    let (q, k, v, g) = (
        aligned(&p.q)?,
        aligned(&p.k)?,
        aligned(&p.v)?,
        aligned(dout)?,
    );
    st.dout = g.1;
    let a = aligned_args(p, &q.1, &k.1, &v.1, &st);
    let defs = defines(dt, d.e);
    let (qp, kp, vp, gp) = (ptr(&q.0), ptr(&k.0), ptr(&v.0), ptr(&g.0));
    let (lp, dp) = (ptr(lse), ptr(delta));
    // dQ is summed over the key tiles in float, then scaled and rounded. The buffer has dQ's
    // strides (dQ is fresh, so dense), so both are one run of memory in the same order.
    let dq_acc =
        Tensor::zeros(&[dq.numel()], DType::F32, dq.device())?.view_with(dq.layout().clone())?;
    let blocks = d.batch * (d.heads / d.groups.max(1)) * d.s.div_ceil(TILE);
    if blocks > 0 {
        // `BQ2` query rows a tile in the source.
        let bq = if d.e == 128 { 32 } else { 64 };
        let f = dev.kernel(&SOURCE, &defs, "flash_bwd_k")?;
        // K, V, dS^T (TILE x (bq + 8)), and two buffers of Q and dO tiles with their rows'
        // logsumexp and delta.
        let bytes = smem(2 * TILE + 4 * bq, d.e, 4 * bq * 4) + TILE * (bq + 8) * 2;
        let cfg = config(dev, &f, blocks, bytes)?;
        let (ap, dkp, dvp) = (ptr(&dq_acc), ptr(dk), ptr(dv));
        crate::cuda_launch!(dev, f, "flash_bwd_k", cfg; qp, kp, vp, gp, lp, dp, ap, dkp, dvp, a)?;
    }
    let n = dq.numel();
    if n > 0 {
        let f = dev.kernel(&SOURCE, &defs, "flash_dq_k")?;
        let (ap, dqp, scale, n64) = (ptr(&dq_acc), ptr(dq), d.scale as f32, n as i64);
        crate::cuda_launch!(dev, f, "flash_dq_k", launch_config(dev, n); ap, dqp, scale, n64)?;
    }
    Ok(())
}
