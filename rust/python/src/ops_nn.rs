//! Bindings of the fused nn ops: softmax / log_softmax as Tensor methods (the module functions
//! are these methods), and the `_C` functions `nn.functional` calls: the softmax backward
//! kernels, layer norm, RMS norm and nll_loss. No math here.

use crate::dtype::extract_dtype;
use crate::errors::IntoPyResult;
use crate::tensor::{wrap, PyTensor};
use ferrotorch_core::autograd::functions::{convert as fc, loss as fl, norm as fn_, softmax as fs};
use ferrotorch_core::ops::loss::Reduction;
use ferrotorch_core::ops::softmax as raw;
use ferrotorch_core::Tensor;
use pyo3::prelude::*;

/// `x` converted to `dtype=` first, as torch's softmax family does (a recorded cast).
fn cast(x: &Tensor, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<Tensor> {
    match dtype.filter(|d| !d.is_none()) {
        Some(d) => fc::to_dtype(x, extract_dtype(d)?).py(),
        None => Ok(x.clone()),
    }
}

#[pymethods]
impl PyTensor {
    /// `Tensor.softmax(dim, dtype=None)`: `exp(x) / sum(exp(x))` along `dim`, computed stably
    /// by one fused kernel.
    #[pyo3(signature = (dim, dtype=None))]
    fn softmax(
        &self,
        py: Python<'_>,
        dim: i64,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let x = cast(&self.inner, dtype)?;
        wrap(py, fs::softmax(&x, dim).py()?)
    }

    /// `Tensor.log_softmax(dim, dtype=None)`: `x - logsumexp(x)` along `dim`, by one fused
    /// kernel.
    #[pyo3(signature = (dim, dtype=None))]
    fn log_softmax(
        &self,
        py: Python<'_>,
        dim: i64,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let x = cast(&self.inner, dtype)?;
        wrap(py, fs::log_softmax(&x, dim).py()?)
    }
}

/// `_C._softmax(x, dim)`: the fused softmax, recorded as `SoftmaxBackward0`.
#[pyfunction]
fn _softmax(py: Python<'_>, x: PyRef<'_, PyTensor>, dim: i64) -> PyResult<Py<PyTensor>> {
    wrap(py, fs::softmax(&x.inner, dim).py()?)
}

/// `_C._log_softmax(x, dim)`: the fused log_softmax, recorded as `LogSoftmaxBackward0`.
#[pyfunction]
fn _log_softmax(py: Python<'_>, x: PyRef<'_, PyTensor>, dim: i64) -> PyResult<Py<PyTensor>> {
    wrap(py, fs::log_softmax(&x.inner, dim).py()?)
}

/// `_C._softmax_backward_data(grad, out, dim)`: `out * (grad - sum(grad * out, dim))`.
#[pyfunction]
fn _softmax_backward_data(
    py: Python<'_>,
    grad: PyRef<'_, PyTensor>,
    out: PyRef<'_, PyTensor>,
    dim: i64,
) -> PyResult<Py<PyTensor>> {
    wrap(
        py,
        raw::softmax_backward_data(&grad.inner, &out.inner, dim).py()?,
    )
}

/// `_C._log_softmax_backward_data(grad, out, dim)`: `grad - exp(out) * sum(grad, dim)`.
#[pyfunction]
fn _log_softmax_backward_data(
    py: Python<'_>,
    grad: PyRef<'_, PyTensor>,
    out: PyRef<'_, PyTensor>,
    dim: i64,
) -> PyResult<Py<PyTensor>> {
    wrap(
        py,
        raw::log_softmax_backward_data(&grad.inner, &out.inner, dim).py()?,
    )
}

/// `_C._native_layer_norm(x, normalized_shape, weight, bias, eps)` -> `(y, mean, rstd)`;
/// `y` is recorded as `NativeLayerNormBackward0`.
#[pyfunction]
#[pyo3(signature = (x, normalized_shape, weight=None, bias=None, eps=1e-5))]
fn _native_layer_norm(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    normalized_shape: Vec<usize>,
    weight: Option<PyRef<'_, PyTensor>>,
    bias: Option<PyRef<'_, PyTensor>>,
    eps: f64,
) -> PyResult<(Py<PyTensor>, Py<PyTensor>, Py<PyTensor>)> {
    let (w, b) = (
        weight.map(|w| w.inner.clone()),
        bias.map(|b| b.inner.clone()),
    );
    let (y, m, r) =
        fn_::layer_norm(&x.inner, &normalized_shape, w.as_ref(), b.as_ref(), eps).py()?;
    Ok((wrap(py, y)?, wrap(py, m)?, wrap(py, r)?))
}

/// `_C._rms_norm(x, normalized_shape, weight, eps)` -> `(y, rstd)`; `y` is recorded as
/// `FusedRmsNormBackward0`.
#[pyfunction]
#[pyo3(signature = (x, normalized_shape, weight=None, eps=1e-6))]
fn _rms_norm(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    normalized_shape: Vec<usize>,
    weight: Option<PyRef<'_, PyTensor>>,
    eps: f64,
) -> PyResult<(Py<PyTensor>, Py<PyTensor>)> {
    let w = weight.map(|w| w.inner.clone());
    let (y, r) = fn_::rms_norm(&x.inner, &normalized_shape, w.as_ref(), eps).py()?;
    Ok((wrap(py, y)?, wrap(py, r)?))
}

fn nll(
    input: &Tensor,
    target: &Tensor,
    weight: Option<PyRef<'_, PyTensor>>,
    reduction: &str,
    ignore_index: i64,
) -> PyResult<(Tensor, Tensor)> {
    let w = weight.map(|w| w.inner.clone());
    let r = Reduction::parse(reduction).py()?;
    fl::nll_loss(input, target, w.as_ref(), r, ignore_index).py()
}

/// `_C._nll_loss(input, target, weight, reduction, ignore_index)`: the fused nll_loss,
/// recorded as `NllLossBackward0` (no gradient for `weight`).
#[pyfunction]
#[pyo3(signature = (input, target, weight=None, reduction="mean", ignore_index=-100))]
fn _nll_loss(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    target: PyRef<'_, PyTensor>,
    weight: Option<PyRef<'_, PyTensor>>,
    reduction: &str,
    ignore_index: i64,
) -> PyResult<Py<PyTensor>> {
    wrap(
        py,
        nll(&input.inner, &target.inner, weight, reduction, ignore_index)?.0,
    )
}

/// `_C._nll_loss_forward(...)`: as `_nll_loss`, with the total weight of the targets that are
/// not ignored: `(output, total_weight)`.
#[pyfunction]
#[pyo3(signature = (input, target, weight=None, reduction="mean", ignore_index=-100))]
fn _nll_loss_forward(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    target: PyRef<'_, PyTensor>,
    weight: Option<PyRef<'_, PyTensor>>,
    reduction: &str,
    ignore_index: i64,
) -> PyResult<(Py<PyTensor>, Py<PyTensor>)> {
    let (out, tw) = nll(&input.inner, &target.inner, weight, reduction, ignore_index)?;
    Ok((wrap(py, out)?, wrap(py, tw)?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(_log_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(_softmax_backward_data, m)?)?;
    m.add_function(wrap_pyfunction!(_log_softmax_backward_data, m)?)?;
    m.add_function(wrap_pyfunction!(_native_layer_norm, m)?)?;
    m.add_function(wrap_pyfunction!(_rms_norm, m)?)?;
    m.add_function(wrap_pyfunction!(_nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(_nll_loss_forward, m)?)
}
