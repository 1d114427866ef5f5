//! Fused scaled-dot-product attention, `softmax(q @ k^T * scale + bias) @ v` as one op
//! (torch's `_scaled_dot_product_flash_attention` on CUDA, `..._for_cpu` on CPU) with its
//! fused backward: the `L x S` attention matrix is never materialised.
//!
//! Shapes: `q (B..., Hq, L, E)`, `k (B..., Hk, S, E)`, `v (B..., Hk, S, Ev)`, or without heads
//! `(L, E)` etc.; the batch dims must be equal (the composed path broadcasts them). `Hq` may be
//! a multiple of `Hk` with `enable_gqa`: query head `h` uses key/value head `h / (Hq / Hk)`.
//! `bias` is an additive float mask broadcastable to the scores `(B..., Hq, L, S)`; it is read
//! through its broadcast strides (0 on broadcast dims), never expanded in memory. `is_causal`
//! hides key `j` from query `i` when `j > i` (top-left aligned, as torch).
//!
//! Inputs are read through their strides (the last dim need not be contiguous); only batch
//! dims that cannot be merged into one stride cost a copy. Outputs are contiguous on the CPU;
//! on CUDA they take the memory order of q, k and v, as torch's flash kernels do, so the heads
//! of a `(B, L, H, E)` projection come back in that order. The forward
//! also returns the rows' logsumexp `(B..., Hq, L)` in float (double for f64): `+inf` on a row
//! that every key is masked from, whose output (and gradients) are then 0.

use crate::cpu::attention::{self as kernel, Dims, Geo, Inputs, Operand, Saved};
use crate::dtype::scalar_type_name;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::check_same_device;
use crate::ops::convert::{empty_like, MemoryFormat};
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// The name errors carry.
const OP: &str = "scaled_dot_product_attention";

/// A checked attention problem: sizes and each operand with its `(batch, head, row, col)`
/// strides.
pub struct Plan {
    pub dims: Dims,
    pub q: (Tensor, Geo),
    pub k: (Tensor, Geo),
    pub v: (Tensor, Geo),
    pub bias: Option<(Tensor, Geo)>,
    /// `q`'s leading dims (batch dims and the head dim): the output is `lead + [L, Ev]`.
    pub lead: Vec<usize>,
}

impl Plan {
    pub fn out_shape(&self) -> Vec<usize> {
        [self.lead.as_slice(), &[self.dims.l, self.dims.ev]].concat()
    }
    pub fn lse_shape(&self) -> Vec<usize> {
        [self.lead.as_slice(), &[self.dims.l]].concat()
    }
    pub fn scores_shape(&self) -> Vec<usize> {
        [self.lead.as_slice(), &[self.dims.l, self.dims.s]].concat()
    }
}

/// `1 / sqrt(E)` unless given (torch's default).
pub fn resolve_scale(scale: Option<f64>, e: usize) -> f64 {
    scale.unwrap_or_else(|| 1.0 / (e as f64).sqrt())
}

/// The one stride that steps through `sizes` as a single dim, if there is one (size-1 dims
/// are free; no dims or only size-1 dims give 0).
fn merged_stride(sizes: &[usize], strides: &[isize]) -> Option<isize> {
    let mut inner: Option<(usize, isize)> = None;
    for (&n, &st) in sizes.iter().zip(strides).rev() {
        if n == 1 {
            continue;
        }
        match inner {
            Some((m, s)) if st != s * m as isize => return None,
            Some((m, s)) => inner = Some((m * n, s)),
            None => inner = Some((n, st)),
        }
    }
    Some(inner.map_or(0, |(_, s)| s))
}

/// `t`'s `(batch, head, row, col)` strides, if its batch dims merge into one. `t` has at
/// least 2 dims; the head is dim -3 when there is one.
fn strides_geo(t: &Tensor) -> Option<Geo> {
    let (n, st) = (t.ndim(), t.strides());
    let nb = n.saturating_sub(3);
    Some(Geo {
        b: merged_stride(&t.shape()[..nb], &st[..nb])?,
        h: if n >= 3 { st[n - 3] } else { 0 },
        r: st[n - 2],
        c: st[n - 1],
    })
}

/// `t` (copied if its batch dims do not merge) with its `(batch, head, row, col)` strides.
pub(crate) fn geo_of(t: &Tensor) -> Result<(Tensor, Geo)> {
    if let Some(g) = strides_geo(t) {
        return Ok((t.clone(), g));
    }
    let t = t.contiguous()?;
    let g = strides_geo(&t).ok_or_else(|| Error::runtime(format!("{OP}: unmergeable strides")))?;
    Ok((t, g))
}

/// A fresh CUDA tensor of `shape` for a kernel to write through its strides: in `like`'s
/// memory order when `like` has that shape, its rows are contiguous and the order's batch dims
/// merge; else contiguous.
fn output_like(like: &Tensor, shape: &[usize], dt: DType) -> Result<(Tensor, Geo)> {
    if like.shape() == shape {
        let t = empty_like(like, dt, MemoryFormat::Preserve)?;
        if let Some(g) = strides_geo(&t).filter(|g| g.c == 1) {
            return Ok((t, g));
        }
    }
    geo_of(&Tensor::empty(shape, dt, like.device())?)
}

/// Checks the arguments of the fused op (torch's messages where it has them) and describes
/// the problem.
pub(crate) fn plan(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    is_causal: bool,
    scale: Option<f64>,
    enable_gqa: bool,
) -> Result<Plan> {
    let name = |t: &Tensor| scalar_type_name(t.dtype());
    if q.dtype() != k.dtype() || q.dtype() != v.dtype() {
        bail!(
            Runtime,
            "{OP}: Expected query, key, and value to have the same dtype, but got query.dtype: \
             {} key.dtype: {} and value.dtype: {} instead.",
            name(q),
            name(k),
            name(v)
        );
    }
    if !q.dtype().is_floating_point() {
        bail!(
            Runtime,
            "{OP}: expected query, key and value of a floating-point dtype, got {}",
            name(q)
        );
    }
    let all: Vec<&Tensor> = [Some(q), Some(k), Some(v), bias]
        .into_iter()
        .flatten()
        .collect();
    check_same_device(OP, &all)?;
    let n = q.ndim();
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    if n < 2 || k.ndim() != n || v.ndim() != n {
        bail!(
            Runtime,
            "{OP}: expected query, key and value of one rank of at least 2, got shapes {qs:?}, \
             {ks:?} and {vs:?}"
        );
    }
    let nb = n.saturating_sub(3);
    if qs[..nb] != ks[..nb] || qs[..nb] != vs[..nb] {
        bail!(
            Runtime,
            "{OP}: the fused kernel needs equal batch dims, got query {qs:?}, key {ks:?} and \
             value {vs:?}"
        );
    }
    if ks[n - 2] != vs[n - 2] || qs[n - 1] != ks[n - 1] {
        bail!(
            Runtime,
            "{OP}: key {ks:?} must have the query's embedding dim ({}) and as many rows as value \
             {vs:?}",
            qs[n - 1]
        );
    }
    let (hq, hk) = if n >= 3 {
        (qs[n - 3], ks[n - 3])
    } else {
        (1, 1)
    };
    if n >= 3 && (vs[n - 3] != hk || (hq != hk && !(enable_gqa && hk > 0 && hq % hk == 0))) {
        bail!(
            Runtime,
            "{OP}: number of heads in key and value must divide the number of heads in query \
             (with enable_gqa=True) or equal it; got query heads {hq}, key heads {hk} and value \
             heads {}",
            vs[n - 3]
        );
    }
    let lead = qs[..n - 2].to_vec();
    let (l, s, e, ev) = (qs[n - 2], ks[n - 2], qs[n - 1], vs[n - 1]);
    let dims = Dims {
        batch: qs[..nb].iter().product(),
        heads: hq,
        groups: hq.checked_div(hk).unwrap_or(1),
        l,
        s,
        e,
        ev,
        scale: resolve_scale(scale, e),
        causal: is_causal,
    };
    let bias = match bias {
        None => None,
        Some(b) => {
            if b.dtype() != q.dtype() {
                bail!(
                    Runtime,
                    "{OP}: expected attn_mask of the query's dtype {}, got {}",
                    name(q),
                    name(b)
                );
            }
            let full: Vec<usize> = [lead.as_slice(), &[l, s]].concat();
            let fits = b.ndim() <= full.len()
                && b.shape()
                    .iter()
                    .rev()
                    .zip(full.iter().rev())
                    .all(|(&x, &y)| x == y || x == 1);
            if !fits {
                bail!(
                    Runtime,
                    "attn_mask of shape {:?} cannot be broadcast to the attention scores' shape \
                     {full:?}",
                    b.shape()
                );
            }
            Some(geo_of(&crate::ops::shape::broadcast_to(b, &full)?)?)
        }
    };
    if q.is_cuda() {
        crate::cuda::attention::check_supported(q.dtype(), e, ev)?;
    }
    Ok(Plan {
        dims,
        q: geo_of(q)?,
        k: geo_of(k)?,
        v: geo_of(v)?,
        bias,
        lead,
    })
}

fn operand<T: crate::element::Element>((t, geo): &(Tensor, Geo)) -> Operand<T> {
    Operand {
        ptr: t.data_ptr::<T>(),
        geo: *geo,
    }
}

fn inputs<T: crate::element::Element>(p: &Plan) -> Inputs<T> {
    Inputs {
        q: operand(&p.q),
        k: operand(&p.k),
        v: operand(&p.v),
        bias: p.bias.as_ref().map(operand),
    }
}

/// `(out, logsumexp)` of attention; see the module docs for shapes.
pub fn scaled_dot_product_flash_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    is_causal: bool,
    scale: Option<f64>,
    enable_gqa: bool,
) -> Result<(Tensor, Tensor)> {
    let p = plan(q, k, v, bias, is_causal, scale, enable_gqa)?;
    let dt = q.dtype();
    let lse = Tensor::empty(&p.lse_shape(), dt.float_acc(), q.device())?;
    if q.is_cuda() {
        let out = output_like(q, &p.out_shape(), dt)?;
        if out.0.numel() > 0 || lse.numel() > 0 {
            crate::cuda::attention::forward(&p, &out, &lse)?;
        }
        return Ok((out.0, lse));
    }
    let out = Tensor::empty(&p.out_shape(), dt, q.device())?;
    if out.numel() == 0 && lse.numel() == 0 {
        return Ok((out, lse));
    }
    // SAFETY: the plan's operands address views of its sizes; out and lse are fresh and
    // contiguous of the sizes `forward` expects.
    dispatch_float!(dt, T => unsafe {
        kernel::forward::<T>(&p.dims, inputs::<T>(&p), out.data_ptr::<T>(), lse.data_ptr_raw() as *mut _)
    }, _ => unreachable!("plan accepts floating dtypes only"));
    Ok((out, lse))
}

/// Gradients of attention from the output gradient `grad` and the forward's `out` and `lse`:
/// `(dq, dk, dv, dscores)`, `dscores` (the gradient of the bias before it is summed to the
/// bias's shape, `(B..., Hq, L, S)`) only with `bias_grad`.
#[allow(clippy::too_many_arguments)]
pub fn scaled_dot_product_flash_attention_backward(
    grad: &Tensor,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    out: &Tensor,
    lse: &Tensor,
    is_causal: bool,
    scale: Option<f64>,
    enable_gqa: bool,
    bias_grad: bool,
) -> Result<(Tensor, Tensor, Tensor, Option<Tensor>)> {
    let op = "_scaled_dot_product_flash_attention_backward";
    let p = plan(q, k, v, bias, is_causal, scale, enable_gqa)?;
    check_same_device(op, &[grad, q, out, lse])?;
    let dt = q.dtype();
    if grad.shape() != p.out_shape().as_slice()
        || out.shape() != p.out_shape().as_slice()
        || lse.shape() != p.lse_shape().as_slice()
        || lse.dtype() != dt.float_acc()
    {
        bail!(
            Runtime,
            "{op}: grad_out {:?}, out {:?} and logsumexp {:?} ({}) do not match the output {:?}",
            grad.shape(),
            out.shape(),
            lse.shape(),
            scalar_type_name(lse.dtype()),
            p.out_shape()
        );
    }
    let dout = geo_of(&grad.to_dtype(dt)?)?;
    let lse = lse.contiguous()?;
    let dev = q.device();
    let ds = if bias_grad {
        Some(Tensor::zeros(&p.scores_shape(), dt, dev)?)
    } else {
        None
    };
    let delta = Tensor::empty(&p.lse_shape(), dt.float_acc(), dev)?;
    if q.is_cuda() {
        let out = geo_of(&out.to_dtype(dt)?)?;
        let (dq, dk, dv) = (
            output_like(q, q.shape(), dt)?,
            output_like(k, k.shape(), dt)?,
            output_like(v, v.shape(), dt)?,
        );
        let grads = (&dq, &dk, &dv, ds.as_ref());
        crate::cuda::attention::backward(&p, &dout, &out, &lse, &delta, grads)?;
        return Ok((dq.0, dk.0, dv.0, ds));
    }
    let out = out.to_dtype(dt)?.contiguous()?;
    let dq = Tensor::empty(q.shape(), dt, dev)?;
    let dk = Tensor::empty(k.shape(), dt, dev)?;
    let dv = Tensor::empty(v.shape(), dt, dev)?;
    let d = &p.dims;
    // SAFETY: as in the forward; the gradients and delta are fresh, contiguous, of the sizes
    // `backward` expects, and dscores zero-filled.
    dispatch_float!(dt, T => unsafe {
        let dop = operand::<T>(&dout);
        let dl = delta.data_ptr_raw() as *mut <T as crate::element::Float>::Acc;
        kernel::delta::<T>(d, dop, out.data_ptr::<T>(), dl);
        let saved = Saved { dout: dop, lse: lse.data_ptr_raw() as *const _, delta: dl };
        kernel::backward::<T>(
            d,
            inputs::<T>(&p),
            saved,
            (dq.data_ptr::<T>(), dk.data_ptr::<T>(), dv.data_ptr::<T>()),
            ds.as_ref().map(|t| t.data_ptr::<T>()),
        )
    }, _ => unreachable!("plan accepts floating dtypes only"));
    Ok((dq, dk, dv, ds))
}
