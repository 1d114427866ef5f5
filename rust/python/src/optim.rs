//! `_C._fused_step`: the fused multi-tensor optimizer update (ferrotorch_core::ops::optim),
//! called by python/ferrotorch/optim/_fused.py.

use crate::errors::IntoPyResult;
use crate::tensor::PyTensor;
use ferrotorch_core::ops::optim::{fused_step, Rule, SCALARS};
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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_fused_step, m)?)
}
