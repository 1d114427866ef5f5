//! Fused scaled-dot-product attention and its rule: `ScaledDotProductFlashAttentionBackward0`
//! on CUDA, `ScaledDotProductFlashAttentionForCpuBackward0` on CPU (torch's names). The node
//! saves the inputs, the output and the rows' logsumexp; the rule runs the fused backward
//! kernels, which recompute the attention probabilities tile by tile. When the backward is
//! itself being recorded (`create_graph=True`), the rule writes the same gradients with
//! differentiable ops instead (materialising the probabilities), so they can be differentiated
//! again.

use super::binary::{add, mul, sub};
use super::index_mask::masked_fill;
use super::matmul::matmul;
use super::number;
use super::reduce::{sum, sum_to};
use super::shape::{expand, reshape, transpose, unsqueeze};
use super::softmax::softmax;
use crate::autograd::autocast;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::attention as raw;
use crate::tensor::Tensor;
use crate::{Device, Scalar};

/// What the rule knows besides its saved tensors.
#[derive(Clone, Copy)]
struct Spec {
    is_causal: bool,
    scale: f64,
    enable_gqa: bool,
    has_bias: bool,
}

/// `(out, logsumexp)` of `softmax(q @ k^T * scale + bias) @ v` (see [`crate::ops::attention`]);
/// only `out` carries a gradient, to `q`, `k`, `v` and `bias`.
pub fn scaled_dot_product_flash_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    is_causal: bool,
    scale: Option<f64>,
    enable_gqa: bool,
) -> Result<(Tensor, Tensor)> {
    if let Some([Some(q), Some(k), Some(v), bias]) =
        autocast::lower([Some(q), Some(k), Some(v), bias])?
    {
        return scaled_dot_product_flash_attention(
            &q,
            &k,
            &v,
            bias.as_ref(),
            is_causal,
            scale,
            enable_gqa,
        );
    }
    let (out, lse) =
        raw::scaled_dot_product_flash_attention(q, k, v, bias, is_causal, scale, enable_gqa)?;
    let inputs: Vec<&Tensor> = [Some(q), Some(k), Some(v), bias]
        .into_iter()
        .flatten()
        .collect();
    if !needs_grad(&inputs) {
        return Ok((out, lse));
    }
    let spec = Spec {
        is_causal,
        scale: raw::resolve_scale(scale, q.shape()[q.ndim() - 1]),
        enable_gqa,
        has_bias: bias.is_some(),
    };
    let mut saves: Vec<Save> = inputs.iter().map(|t| Save::Tensor((*t).clone())).collect();
    saves.push(Save::Output(0));
    saves.push(Save::Tensor(lse.clone()));
    let name = if q.is_cuda() {
        "ScaledDotProductFlashAttentionBackward0"
    } else {
        "ScaledDotProductFlashAttentionForCpuBackward0"
    };
    let out = record1(name, &inputs, out, saves, move |a: &BackwardArgs| {
        let g = a.grad(0)?;
        let (q, k, v) = (a.saved(0)?, a.saved(1)?, a.saved(2)?);
        let bias = spec.has_bias.then(|| a.saved(3)).transpose()?;
        let nb = 3 + spec.has_bias as usize;
        let (out, lse) = (a.saved(nb)?, a.saved(nb + 1)?);
        let need_bias = spec.has_bias && a.needs(3);
        let recorded =
            needs_grad(&[&g, &q, &k, &v]) || bias.as_ref().is_some_and(|b| needs_grad(&[b]));
        let (dq, dk, dv, ds) = if recorded {
            composed(&g, &q, &k, &v, bias.as_ref(), &lse, spec)?
        } else {
            raw::scaled_dot_product_flash_attention_backward(
                &g,
                &q,
                &k,
                &v,
                bias.as_ref(),
                &out,
                &lse,
                spec.is_causal,
                Some(spec.scale),
                spec.enable_gqa,
                need_bias,
            )?
        };
        let mut grads = vec![Some(dq), Some(dk), Some(dv)];
        if let Some(b) = &bias {
            grads.push(match ds {
                Some(ds) if need_bias => Some(sum_to(&ds, b.shape())?),
                _ => None,
            });
        }
        Ok(grads)
    });
    Ok((out, lse))
}

/// `t (B..., Hk, S, E)` with each head repeated `groups` times in place:
/// `(B..., Hk * groups, S, E)` (`repeat_interleave` on the head dim).
fn repeat_heads(t: &Tensor, groups: usize) -> Result<Tensor> {
    if groups == 1 {
        return Ok(t.clone());
    }
    let n = t.ndim();
    let s = t.shape();
    let mut wide: Vec<i64> = s.iter().map(|&d| d as i64).collect();
    wide.insert(n - 2, groups as i64);
    let mut merged: Vec<i64> = s.iter().map(|&d| d as i64).collect();
    merged[n - 3] *= groups as i64;
    reshape(&expand(&unsqueeze(t, (n - 2) as i64)?, &wide)?, &merged)
}

/// The gradient of the repeated heads summed back onto `(B..., Hk, S, E)`.
fn sum_groups(t: &Tensor, groups: usize) -> Result<Tensor> {
    if groups == 1 {
        return Ok(t.clone());
    }
    let n = t.ndim();
    let mut wide: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
    wide[n - 3] /= groups as i64;
    wide.insert(n - 2, groups as i64);
    sum(&reshape(t, &wide)?, Some(&[(n - 2) as i64]), false, None)
}

/// A CPU bool tensor moved to `device`.
fn mask(values: Vec<bool>, shape: &[usize], device: Device) -> Result<Tensor> {
    Tensor::from_vec(values, shape)?.to_device(device)
}

/// `(dq, dk, dv, dscores)` written with differentiable ops: the probabilities are
/// recomputed as a softmax of the full score matrix, with the fully masked rows (logsumexp
/// `+inf`) held at 0 as the fused kernels do.
#[allow(clippy::type_complexity)]
fn composed(
    g: &Tensor,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    lse: &Tensor,
    spec: Spec,
) -> Result<(Tensor, Tensor, Tensor, Option<Tensor>)> {
    let n = q.ndim();
    let groups = if n >= 3 && k.shape()[n - 3] > 0 {
        q.shape()[n - 3] / k.shape()[n - 3]
    } else {
        1
    };
    let (kr, vr) = (repeat_heads(k, groups)?, repeat_heads(v, groups)?);
    let scale = number(spec.scale)?;
    let (l, s) = (q.shape()[n - 2], k.shape()[n - 2]);
    let mut scores = mul(&matmul(q, &transpose(&kr, -2, -1)?)?, &scale)?;
    if let Some(b) = bias {
        scores = add(&scores, b)?;
    }
    if spec.is_causal {
        let hidden: Vec<bool> = (0..l * s).map(|x| x % s > x / s).collect();
        let hidden = mask(hidden, &[l, s], q.device())?;
        scores = masked_fill(&scores, &hidden, Scalar::Float(f64::NEG_INFINITY))?;
    }
    let dead: Vec<bool> = lse
        .to_vec::<f64>()
        .iter()
        .map(|&x| x == f64::INFINITY)
        .collect();
    let mut dead_shape = lse.shape().to_vec();
    dead_shape.push(1);
    let dead = mask(dead, &dead_shape, q.device())?;
    let scores = masked_fill(&scores, &dead, Scalar::Float(0.0))?;
    let p = masked_fill(&softmax(&scores, -1)?, &dead, Scalar::Float(0.0))?;
    let dv = sum_groups(&matmul(&transpose(&p, -2, -1)?, g)?, groups)?;
    let dp = matmul(g, &transpose(&vr, -2, -1)?)?;
    let dot = sum(&mul(&dp, &p)?, Some(&[-1]), true, None)?;
    let ds = mul(&p, &sub(&dp, &dot)?)?;
    let dq = mul(&matmul(&ds, &kr)?, &scale)?;
    let dk = sum_groups(&mul(&matmul(&transpose(&ds, -2, -1)?, q)?, &scale)?, groups)?;
    Ok((dq, dk, dv, bias.map(|_| ds)))
}
