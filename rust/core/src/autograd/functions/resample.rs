//! Separable resampling with its rule (the upsample family's nodes): the gradient is the same
//! op with the taps transposed, recorded again, so every order of derivative runs the one kernel.

use crate::autograd::node::BackwardArgs;
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::resample::{self as raw, Taps};
use crate::tensor::Tensor;

/// torch's node name for `name` (the interpolate mode and dims), so `grad_fn` reads as torch's.
pub fn node_name(name: &str) -> &'static str {
    const NAMES: [&str; 12] = [
        "UpsampleNearest1DBackward0",
        "UpsampleNearest2DBackward0",
        "UpsampleNearest3DBackward0",
        "_UpsampleNearestExact1DBackward0",
        "_UpsampleNearestExact2DBackward0",
        "_UpsampleNearestExact3DBackward0",
        "UpsampleLinear1DBackward0",
        "UpsampleBilinear2DBackward0",
        "UpsampleTrilinear3DBackward0",
        "UpsampleBicubic2DBackward0",
        "AdaptiveAvgPool2DBackward0",
        "AdaptiveAvgPool3DBackward0",
    ];
    NAMES
        .into_iter()
        .find(|n| *n == name)
        .unwrap_or("ResampleBackward0")
}

/// Resamples the last `taps.len()` dims of `x`; recorded as `name` (see [`node_name`]).
pub fn resample(x: &Tensor, taps: &[Taps], name: &'static str) -> Result<Tensor> {
    let lead = x.ndim().saturating_sub(taps.len());
    let adjoint: Vec<Taps> = taps
        .iter()
        .zip(&x.shape()[lead..])
        .map(|(t, &n)| t.transpose(n))
        .collect();
    resample_with_adjoint(x, taps, &adjoint, name)
}

/// `resample(x, taps)`, recorded with the gradient `resample(g, adjoint)` (itself recorded with
/// `taps` as its adjoint: the transpose of the transpose).
fn resample_with_adjoint(
    x: &Tensor,
    taps: &[Taps],
    adjoint: &[Taps],
    name: &'static str,
) -> Result<Tensor> {
    let y = raw::resample(x, taps)?;
    if !needs_grad(&[x]) {
        return Ok(y);
    }
    let (t, adj) = (taps.to_vec(), adjoint.to_vec());
    Ok(record1(name, &[x], y, vec![], move |a: &BackwardArgs| {
        let g = a.grad(0)?;
        Ok(vec![Some(resample_with_adjoint(&g, &adj, &t, name)?)])
    }))
}
