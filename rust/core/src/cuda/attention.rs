//! Fused scaled-dot-product attention on CUDA tensors (`kernels/attention.cu`): a
//! flash-attention-2 style forward and backward, f16/bf16 computing in float, f64 in double.
//!
//! `ops::attention` has checked the arguments and describes every operand by its
//! `(batch, head, row, col)` strides; the kernels read them in place and write the output and
//! the gradients through their strides too (fresh tensors in the memory order of q, k and v). Head dims up to [`MAX_HEAD_DIM`] (each lane of a warp owns every 32nd column).
//! The tiles live in dynamic shared memory, above the default 48 KiB for the larger head dims,
//! so the kernels opt in to the device's maximum.

use super::flash_attention as flash;
use super::{device_of, launch_config, ptr, type_name, CudaDevice, Source};
use crate::cpu::attention::Geo;
use crate::dtype::{scalar_type_name, DType};
use crate::error::{Error, Result};
use crate::ops::attention::Plan;
use crate::tensor::Tensor;
use cudarc::driver::sys::{CUdevice_attribute, CUfunction_attribute};
use cudarc::driver::{CudaFunction, DeviceRepr, LaunchConfig};

/// Whether the fused attention op runs `query` and `value` (CUDA tensors, the last dim the head
/// dim) on its tensor-core kernels, given whether a mask comes along.
pub fn on_tensor_cores(query: &Tensor, value: &Tensor, masked: bool) -> bool {
    let head_dim = |t: &Tensor| t.shape().last().copied().unwrap_or(0);
    device_of(query).is_ok_and(|dev| {
        flash::supports(query.dtype(), head_dim(query), head_dim(value), masked, dev)
    })
}

pub const SOURCE: Source = Source {
    name: "attention",
    text: concat!(
        include_str!("kernels/attention_args.cuh"),
        include_str!("kernels/attention.cu")
    ),
};

/// Every (source, defines) the functions here request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = super::float_specialisations(SOURCE);
    v.extend(flash::specialisations());
    v
}

/// The largest `E` and `Ev` the kernels take (`DMAX` in the source).
pub const MAX_HEAD_DIM: usize = 128;
/// Warps per block, keys per tile (`WARPS`, `KT` in the source).
const WARPS: usize = 4;
const KT: usize = 32;

/// Query rows per block (`BQ` in the source): 16 per warp, 8 in double.
fn block_rows(d: DType) -> usize {
    WARPS * if d == DType::F64 { 8 } else { 16 }
}

/// Fails for problems the kernels do not take (the Python layer sends those to the composed
/// path).
pub fn check_supported(dtype: DType, e: usize, ev: usize) -> Result<()> {
    if e > MAX_HEAD_DIM || ev > MAX_HEAD_DIM {
        return Err(Error::runtime(format!(
            "scaled_dot_product_attention: the fused CUDA kernel takes head dims up to \
             {MAX_HEAD_DIM}, got E = {e} and Ev = {ev} ({})",
            scalar_type_name(dtype)
        )));
    }
    Ok(())
}

/// Must match `Geo` in `kernels/attention_args.cuh`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct GeoArg {
    b: i64,
    h: i64,
    r: i64,
    c: i64,
}

impl From<Geo> for GeoArg {
    fn from(g: Geo) -> Self {
        GeoArg {
            b: g.b as i64,
            h: g.h as i64,
            r: g.r as i64,
            c: g.c as i64,
        }
    }
}

/// Must match `Args` in `kernels/attention_args.cuh`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(super) struct Args {
    pub(super) q: GeoArg,
    pub(super) k: GeoArg,
    pub(super) v: GeoArg,
    bias: GeoArg,
    dout: GeoArg,
    o: GeoArg,
    dq: GeoArg,
    dk: GeoArg,
    dv: GeoArg,
    batch: i64,
    heads: i64,
    groups: i64,
    l: i64,
    s: i64,
    e: i64,
    ev: i64,
    scale: f64,
    causal: i32,
    has_bias: i32,
}

// SAFETY: plain old data with the C layout the kernels declare.
unsafe impl DeviceRepr for Args {}

/// Strides of the operands a launch reads besides the plan's (`dout`, and `o` in the backward)
/// and of those it writes; the rest stay 0.
#[derive(Clone, Copy, Default)]
pub struct Strides {
    pub dout: Geo,
    pub o: Geo,
    pub dq: Geo,
    pub dk: Geo,
    pub dv: Geo,
}

pub(super) fn args(p: &Plan, st: &Strides) -> Args {
    let d = &p.dims;
    Args {
        q: p.q.1.into(),
        k: p.k.1.into(),
        v: p.v.1.into(),
        bias: p.bias.as_ref().map(|b| b.1.into()).unwrap_or_default(),
        dout: st.dout.into(),
        o: st.o.into(),
        dq: st.dq.into(),
        dk: st.dk.into(),
        dv: st.dv.into(),
        batch: d.batch as i64,
        heads: d.heads as i64,
        groups: d.groups as i64,
        l: d.l as i64,
        s: d.s as i64,
        e: d.e as i64,
        ev: d.ev as i64,
        scale: d.scale,
        causal: d.causal as i32,
        has_bias: p.bias.is_some() as i32,
    }
}

/// Launch shape of `blocks` blocks of [`WARPS`] warps with `smem` bytes of dynamic shared
/// memory, letting `f` use that much (above 48 KiB a kernel must opt in).
pub(super) fn config(
    dev: &CudaDevice,
    f: &CudaFunction,
    blocks: usize,
    smem: usize,
) -> Result<LaunchConfig> {
    let attr = CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN;
    let limit = dev
        .ctx
        .attribute(attr)
        .map_err(|e| Error::runtime(format!("CUDA error: cuDeviceGetAttribute: {e}")))?;
    if smem > limit as usize {
        return Err(Error::runtime(format!(
            "scaled_dot_product_attention: the fused CUDA kernel needs {smem} bytes of shared \
             memory for this head dim, the device offers {limit}"
        )));
    }
    if smem > 48 * 1024 {
        let a = CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES;
        f.set_attribute(a, smem as i32)
            .map_err(|e| Error::runtime(format!("CUDA error: cuFuncSetAttribute: {e}")))?;
    }
    let grid = u32::try_from(blocks)
        .ok()
        .filter(|&b| b < (1 << 31))
        .ok_or_else(|| {
            Error::runtime(format!(
                "scaled_dot_product_attention: {blocks} blocks exceed the CUDA grid"
            ))
        })?;
    Ok(LaunchConfig {
        grid_dim: (grid, 1, 1),
        block_dim: ((WARPS * 32) as u32, 1, 1),
        shared_mem_bytes: smem as u32,
    })
}

/// Shared memory of the forward and dq kernels (`rows_layout` in the source), in bytes.
fn rows_smem(p: &Plan, dt: DType, with_dout: bool) -> usize {
    let (e, ev, bq) = (p.dims.e, p.dims.ev, block_rows(dt));
    let elems =
        bq * e + KT * (e + 1) + KT * (ev + 1) + bq * KT + if with_dout { bq * ev } else { 0 };
    elems * dt.float_acc().size()
}

/// Writes `out` (fresh, through its strides) and `lse` (fresh, contiguous) of the planned
/// problem.
pub fn forward(p: &Plan, (out, o): &(Tensor, Geo), lse: &Tensor) -> Result<()> {
    let dt = out.dtype();
    let dev = device_of(out)?;
    let d = &p.dims;
    let blocks = d.batch * d.heads * d.l.div_ceil(block_rows(dt));
    if blocks == 0 {
        return Ok(());
    }
    let st = Strides {
        o: *o,
        ..Strides::default()
    };
    if flash::takes(p, dt, dev) {
        return flash::forward(p, out, lse, &st);
    }
    let defs = [("T", type_name(dt))];
    let f = dev.kernel(&SOURCE, &defs, "sdpa_fwd_k")?;
    let cfg = config(dev, &f, blocks, rows_smem(p, dt, false))?;
    let (qp, kp, vp) = (ptr(&p.q.0), ptr(&p.k.0), ptr(&p.v.0));
    let bp = p.bias.as_ref().map(|b| ptr(&b.0)).unwrap_or(0);
    let (op, lp, a) = (ptr(out), ptr(lse), args(p, &st));
    crate::cuda_launch!(dev, f, "sdpa_fwd_k", cfg; qp, kp, vp, bp, op, lp, a)
}

/// The gradients dq, dk and dv (fresh, each with the strides it is written through) and `ds`,
/// the bias gradient (fresh, contiguous, zero-filled), when asked for.
pub type Grads<'a> = (
    &'a (Tensor, Geo),
    &'a (Tensor, Geo),
    &'a (Tensor, Geo),
    Option<&'a Tensor>,
);

/// Writes the gradients from the output gradient `dout` and the forward's `out` (each with its
/// strides), its contiguous `lse`, and `delta`, scratch of `lse`'s size.
pub fn backward(
    p: &Plan,
    dout: &(Tensor, Geo),
    (out, o): &(Tensor, Geo),
    lse: &Tensor,
    delta: &Tensor,
    (dq, dk, dv, ds): Grads,
) -> Result<()> {
    let dt = out.dtype();
    let dev = device_of(out)?;
    let d = &p.dims;
    let defs = [("T", type_name(dt))];
    let st = Strides {
        dout: dout.1,
        o: *o,
        dq: dq.1,
        dk: dk.1,
        dv: dv.1,
    };
    let a = args(p, &st);
    let (qp, kp, vp) = (ptr(&p.q.0), ptr(&p.k.0), ptr(&p.v.0));
    let bp = p.bias.as_ref().map(|b| ptr(&b.0)).unwrap_or(0);
    let (gp, lp, dp) = (ptr(&dout.0), ptr(lse), ptr(delta));
    let rows = d.batch * d.heads * d.l;
    if rows > 0 {
        let f = dev.kernel(&SOURCE, &defs, "sdpa_delta_k")?;
        // A warp per row: launch_config's threads per element, divided by 32.
        let mut cfg = launch_config(dev, rows * 32);
        cfg.grid_dim.0 = cfg.grid_dim.0.max(1);
        let op = ptr(out);
        crate::cuda_launch!(dev, f, "sdpa_delta_k", cfg; gp, op, dp, a)?;
    }
    if flash::takes(p, dt, dev) && ds.is_none() {
        return flash::backward(p, dout, lse, delta, (&dq.0, &dk.0, &dv.0), st);
    }
    if rows > 0 {
        let blocks = d.batch * d.heads * d.l.div_ceil(block_rows(dt));
        let f = dev.kernel(&SOURCE, &defs, "sdpa_bwd_dq_k")?;
        let cfg = config(dev, &f, blocks, rows_smem(p, dt, true))?;
        let (dqp, dsp) = (ptr(&dq.0), ds.map(ptr).unwrap_or(0));
        crate::cuda_launch!(dev, f, "sdpa_bwd_dq_k", cfg; qp, kp, vp, bp, gp, lp, dp, dqp, dsp, a)?;
    }
    let blocks = d.batch * (d.heads / d.groups.max(1)) * d.s.div_ceil(KT);
    if blocks > 0 {
        let (e, ev, bq) = (d.e, d.ev, block_rows(dt));
        let elems = KT * (e + 1) + KT * (ev + 1) + bq * e + bq * ev + 2 * bq * KT;
        let smem = elems * dt.float_acc().size();
        let f = dev.kernel(&SOURCE, &defs, "sdpa_bwd_dkdv_k")?;
        let cfg = config(dev, &f, blocks, smem)?;
        let (dkp, dvp) = (ptr(&dk.0), ptr(&dv.0));
        crate::cuda_launch!(dev, f, "sdpa_bwd_dkdv_k", cfg; qp, kp, vp, bp, gp, lp, dp, dkp, dvp, a)?;
    }
    Ok(())
}
