//! layer_norm, rms_norm and batch_norm and their rules (`NativeLayerNormBackward0`,
//! `FusedRmsNormBackward0`, `NativeBatchNormBackward0`). The rule runs the fused backward
//! kernel; when the backward is itself being recorded (`create_graph=True`) it recomputes the statistics from the saved input
//! with differentiable ops and writes the same gradients with them, so they can be
//! differentiated again.

use super::binary::{add, mul, sub};
use super::convert::to_dtype;
use super::number;
use super::reduce::{mean, sum};
use super::shape::reshape;
use super::unary::rsqrt;
use crate::autograd::autocast;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::batch_norm as raw_bn;
use crate::ops::norm as raw;
use crate::tensor::Tensor;

/// What a norm's rule knows besides its saved tensors.
#[derive(Clone)]
struct NormSpec {
    normalized_shape: Vec<usize>,
    eps: f64,
    rms: bool,
    has_weight: bool,
    has_bias: bool,
}

impl NormSpec {
    /// The normalised (trailing) dims and the leading dims of an input of `ndim` dims.
    fn dims(&self, ndim: usize) -> (Vec<i64>, Vec<i64>) {
        let lead = ndim - self.normalized_shape.len();
        (
            (lead..ndim).map(|d| d as i64).collect(),
            (0..lead).map(|d| d as i64).collect(),
        )
    }

    /// `(dx, dw, db)` written with differentiable ops, the statistics recomputed from `x`.
    fn composed(
        &self,
        g: &Tensor,
        x: &Tensor,
        w: Option<&Tensor>,
        need: [bool; 3],
    ) -> Result<[Option<Tensor>; 3]> {
        let (norm_dims, lead_dims) = self.dims(x.ndim());
        let nd = Some(norm_dims.as_slice());
        let centred = if self.rms {
            x.clone()
        } else {
            sub(x, &mean(x, nd, true, None)?)?
        };
        let var = mean(&mul(&centred, &centred)?, nd, true, None)?;
        let rstd = rsqrt(&add(&var, &number(self.eps)?)?)?;
        let xhat = mul(&centred, &rstd)?;
        let over_rows = |t: Tensor| -> Result<Tensor> {
            if lead_dims.is_empty() {
                Ok(t)
            } else {
                sum(&t, Some(&lead_dims), false, None)
            }
        };
        let dx = if need[0] {
            let gw = match w {
                Some(w) => mul(g, w)?,
                None => g.clone(),
            };
            let proj = mul(&xhat, &mean(&mul(&gw, &xhat)?, nd, true, None)?)?;
            let inner = if self.rms {
                sub(&gw, &proj)?
            } else {
                sub(&sub(&gw, &mean(&gw, nd, true, None)?)?, &proj)?
            };
            Some(mul(&rstd, &inner)?)
        } else {
            None
        };
        let dw = if need[1] {
            Some(over_rows(mul(g, &xhat)?)?)
        } else {
            None
        };
        let db = if need[2] {
            Some(over_rows(g.clone())?)
        } else {
            None
        };
        Ok([dx, dw, db])
    }
}

/// Records a norm's output `y` with the rule shared by layer_norm and rms_norm. `inputs` are
/// `x`, then the weight and the bias where present; `saves` are `x`, `mean`, `rstd`, then the
/// weight where present.
fn record_norm(
    name: &'static str,
    inputs: &[&Tensor],
    y: Tensor,
    saves: Vec<Save>,
    spec: NormSpec,
) -> Tensor {
    record1(name, inputs, y, saves, move |a: &BackwardArgs| {
        let g = a.grad(0)?;
        let (x, m, r) = (a.saved(0)?, a.saved(1)?, a.saved(2)?);
        let w = if spec.has_weight {
            Some(a.saved(3)?)
        } else {
            None
        };
        let ib = 1 + spec.has_weight as usize;
        let need = [
            a.needs(0),
            spec.has_weight && a.needs(1),
            spec.has_bias && a.needs(ib),
        ];
        let recorded = needs_grad(&[&g, &x]) || w.as_ref().is_some_and(|w| needs_grad(&[w]));
        let [dx, dw, db] = if recorded {
            spec.composed(&g, &x, w.as_ref(), need)?
        } else if spec.rms {
            let ns = &spec.normalized_shape;
            let (dx, dw) = raw::rms_norm_backward(&g, &x, ns, &r, w.as_ref(), [need[0], need[1]])?;
            [dx, dw, None]
        } else {
            let ns = &spec.normalized_shape;
            let (dx, dw, db) =
                raw::native_layer_norm_backward(&g, &x, ns, &m, &r, w.as_ref(), need)?;
            [dx, dw, db]
        };
        let mut grads = vec![dx];
        if spec.has_weight {
            grads.push(dw);
        }
        if spec.has_bias {
            grads.push(db);
        }
        Ok(grads)
    })
}

/// A parameter in the input's dtype (a recorded cast, so its gradient returns in its own).
fn param_like(p: Option<&Tensor>, x: &Tensor) -> Result<Option<Tensor>> {
    p.map(|p| to_dtype(p, x.dtype())).transpose()
}

/// `native_layer_norm(x, normalized_shape, weight, bias, eps)`: `(y, mean, rstd)`; only `y`
/// carries a gradient.
pub fn layer_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    if let Some([Some(x), weight, bias]) = autocast::float32([Some(x), weight, bias])? {
        return layer_norm(&x, normalized_shape, weight.as_ref(), bias.as_ref(), eps);
    }
    let (w, b) = (param_like(weight, x)?, param_like(bias, x)?);
    let (y, m, r) = raw::native_layer_norm(x, normalized_shape, w.as_ref(), b.as_ref(), eps)?;
    let inputs: Vec<&Tensor> = [Some(x), w.as_ref(), b.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    if !needs_grad(&inputs) {
        return Ok((y, m, r));
    }
    let mut saves = vec![
        Save::Tensor(x.clone()),
        Save::Tensor(m.clone()),
        Save::Tensor(r.clone()),
    ];
    if let Some(w) = &w {
        saves.push(Save::Tensor(w.clone()));
    }
    let spec = NormSpec {
        normalized_shape: normalized_shape.to_vec(),
        eps,
        rms: false,
        has_weight: w.is_some(),
        has_bias: b.is_some(),
    };
    let y = record_norm("NativeLayerNormBackward0", &inputs, y, saves, spec);
    Ok((y, m, r))
}

/// `rms_norm(x, normalized_shape, weight, eps)`: `(y, rstd)`; only `y` carries a gradient.
pub fn rms_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    eps: f64,
) -> Result<(Tensor, Tensor)> {
    let w = param_like(weight, x)?;
    let (y, r) = raw::rms_norm(x, normalized_shape, w.as_ref(), eps)?;
    let inputs: Vec<&Tensor> = [Some(x), w.as_ref()].into_iter().flatten().collect();
    if !needs_grad(&inputs) {
        return Ok((y, r));
    }
    // The mean slot of the shared rule: RMS norm does not centre.
    let zeros = Tensor::zeros(r.shape(), r.dtype(), r.device())?;
    let mut saves = vec![
        Save::Tensor(x.clone()),
        Save::Tensor(zeros),
        Save::Tensor(r.clone()),
    ];
    if let Some(w) = &w {
        saves.push(Save::Tensor(w.clone()));
    }
    let spec = NormSpec {
        normalized_shape: normalized_shape.to_vec(),
        eps,
        rms: true,
        has_weight: w.is_some(),
        has_bias: false,
    };
    let y = record_norm("FusedRmsNormBackward0", &inputs, y, saves, spec);
    Ok((y, r))
}

/// The `[1, c, 1, ...]` shape a per-channel tensor broadcasts with over an input of `ndim` dims.
fn channel_shape(c: usize, ndim: usize) -> Vec<i64> {
    let mut s = vec![1i64; ndim];
    s[1] = c as i64;
    s
}

/// Batch norm's `(dx, dw, db)` written with differentiable ops, for double backward: with the
/// batch's statistics recomputed from `x` when `training`, else with the fixed `mean`/`invstd`.
fn batch_norm_composed(
    g: &Tensor,
    x: &Tensor,
    w: Option<&Tensor>,
    (mean_used, invstd_used): (&Tensor, &Tensor),
    training: bool,
    eps: f64,
    need: [bool; 3],
) -> Result<[Option<Tensor>; 3]> {
    let nd = x.ndim();
    let c = x.shape()[1];
    let dims: Vec<i64> = (0..nd as i64).filter(|&d| d != 1).collect();
    let over = Some(dims.as_slice());
    let cs = channel_shape(c, nd);
    let (centred, invstd) = if training {
        let centred = sub(x, &mean(x, over, true, None)?)?;
        let var = mean(&mul(&centred, &centred)?, over, true, None)?;
        (centred, rsqrt(&add(&var, &number(eps)?)?)?)
    } else {
        let m = reshape(&to_dtype(mean_used, x.dtype())?, &cs)?;
        (
            sub(x, &m)?,
            reshape(&to_dtype(invstd_used, x.dtype())?, &cs)?,
        )
    };
    let xhat = mul(&centred, &invstd)?;
    let per_channel = |t: Tensor| sum(&t, over, false, None);
    let dx = if need[0] {
        let gw = match w {
            Some(w) => mul(g, &reshape(w, &cs)?)?,
            None => g.clone(),
        };
        let inner = if training {
            let proj = mul(&xhat, &mean(&mul(&gw, &xhat)?, over, true, None)?)?;
            sub(&sub(&gw, &mean(&gw, over, true, None)?)?, &proj)?
        } else {
            gw
        };
        Some(mul(&invstd, &inner)?)
    } else {
        None
    };
    let dw = need[1].then(|| per_channel(mul(g, &xhat)?)).transpose()?;
    let db = need[2].then(|| per_channel(g.clone())).transpose()?;
    Ok([dx, dw, db])
}

/// `native_batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps)`:
/// `(y, mean, invstd)` (the statistics used); only `y` carries a gradient, through
/// `NativeBatchNormBackward0`. The running statistics are buffers, updated in place when
/// training.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let (w, b) = (param_like(weight, x)?, param_like(bias, x)?);
    let (y, m, r) = raw_bn::native_batch_norm(
        x,
        w.as_ref(),
        b.as_ref(),
        running_mean,
        running_var,
        training,
        momentum,
        eps,
    )?;
    let inputs: Vec<&Tensor> = [Some(x), w.as_ref(), b.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    if !needs_grad(&inputs) {
        return Ok((y, m, r));
    }
    let mut saves = vec![
        Save::Tensor(x.clone()),
        Save::Tensor(m.clone()),
        Save::Tensor(r.clone()),
    ];
    if let Some(w) = &w {
        saves.push(Save::Tensor(w.clone()));
    }
    let (has_weight, has_bias) = (w.is_some(), b.is_some());
    let y = record1(
        "NativeBatchNormBackward0",
        &inputs,
        y,
        saves,
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let (x, m, r) = (a.saved(0)?, a.saved(1)?, a.saved(2)?);
            let w = if has_weight { Some(a.saved(3)?) } else { None };
            let ib = 1 + has_weight as usize;
            let need = [
                a.needs(0),
                has_weight && a.needs(1),
                has_bias && a.needs(ib),
            ];
            let recorded = needs_grad(&[&g, &x]) || w.as_ref().is_some_and(|w| needs_grad(&[w]));
            let [dx, dw, db] = if recorded {
                batch_norm_composed(&g, &x, w.as_ref(), (&m, &r), training, eps, need)?
            } else {
                let (dx, dw, db) =
                    raw_bn::native_batch_norm_backward(&g, &x, w.as_ref(), &m, &r, training, need)?;
                [dx, dw, db]
            };
            let mut grads = vec![dx];
            if has_weight {
                grads.push(dw);
            }
            if has_bias {
                grads.push(db);
            }
            Ok(grads)
        },
    );
    Ok((y, m, r))
}
