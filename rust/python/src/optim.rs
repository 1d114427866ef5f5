//! `_C._fused_step`: the fused multi-tensor optimizer update (ferrotorch_core::ops::optim),
//! called by python/ferrotorch/optim/_fused.py; `_C._clip_grad_norm_` for nn.utils.

use crate::errors::IntoPyResult;
use crate::tensor::PyTensor;
use ferrotorch_core::ops::optim::{clip_grad_norm_, fused_step, Rule, SCALARS};
use ferrotorch_core::Tensor;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn inner(ts: &[PyRef<'_, PyTensor>]) -> Vec<Tensor> {
    ts.iter().map(|t| t.inner.clone()).collect()
}

/// Updates `params` and `states[j][i]` in place by `rule` with per-parameter constant rows.
#[pyfunction]
fn _fused_step(
    py: Python<'_>,
    rule: &str,
    params: Vec<PyRef<'_, PyTensor>>,
    grads: Vec<PyRef<'_, PyTensor>>,
    states: Vec<Vec<PyRef<'_, PyTensor>>>,
    scalars: Vec<Vec<f64>>,
) -> PyResult<()> {
    let rule = Rule::from_name(rule).py()?;
    let rows = scalars
        .iter()
        .map(|row| {
            if row.len() > SCALARS {
                return Err(PyValueError::new_err(format!(
                    "_fused_step: at most {SCALARS} constants per parameter, got {}",
                    row.len()
                )));
            }
            let mut r = [0.0; SCALARS];
            r[..row.len()].copy_from_slice(row);
            Ok(r)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let (params, grads) = (inner(&params), inner(&grads));
    let states: Vec<Vec<Tensor>> = states.iter().map(|s| inner(s)).collect();
    py.detach(|| fused_step(rule, &params, &grads, &states, &rows))
        .py()
}

/// `nn.utils.clip_grad_norm_` on the gradients: scales them in place, returns the total norm.
#[pyfunction]
fn _clip_grad_norm_(
    py: Python<'_>,
    grads: Vec<PyRef<'_, PyTensor>>,
    max_norm: f64,
    norm_type: f64,
    error_if_nonfinite: bool,
) -> PyResult<Py<PyTensor>> {
    let grads = inner(&grads);
    let total = py
        .detach(|| clip_grad_norm_(&grads, max_norm, norm_type, error_if_nonfinite))
        .py()?;
    crate::tensor::wrap(py, total)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_fused_step, m)?)?;
    m.add_function(wrap_pyfunction!(_clip_grad_norm_, m)?)
}
