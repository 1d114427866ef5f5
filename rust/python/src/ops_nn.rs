//! Bindings of the fused nn ops: softmax / log_softmax as Tensor methods (the module functions
//! are these methods), and the `_C` functions `nn.functional` calls: the softmax backward
//! kernels, layer norm, RMS norm, batch norm, nll_loss, embedding, the fused LSTM/GRU steps and
//! separable resampling. No math here.

use crate::dtype::extract_dtype;
use crate::errors::IntoPyResult;
use crate::tensor::{wrap, PyTensor};
use ferrotorch_core::autograd::functions::{
    convert as fc, cross_entropy as fce, embedding as femb, loss as fl, norm as fn_,
    resample as fres, rnn as fr, softmax as fs,
};
use ferrotorch_core::ops::activation::GeluApproximate;
use ferrotorch_core::ops::loss::Reduction;
use ferrotorch_core::ops::resample::Taps;
use ferrotorch_core::ops::softmax as raw;
use ferrotorch_core::Tensor;
use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
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

/// `_C._causal_softmax(x)`: softmax over the last dim with SDPA's causal mask over the last
/// two, recorded as `SoftmaxBackward0`.
#[pyfunction]
fn _causal_softmax(py: Python<'_>, x: PyRef<'_, PyTensor>) -> PyResult<Py<PyTensor>> {
    wrap(py, fs::causal_softmax(&x.inner).py()?)
}

/// `_C._gelu(x, approximate)`: one fused kernel each way, recorded as `GeluBackward0`.
#[pyfunction]
#[pyo3(signature = (x, approximate="none"))]
fn _gelu(py: Python<'_>, x: PyRef<'_, PyTensor>, approximate: &str) -> PyResult<Py<PyTensor>> {
    let approximate = GeluApproximate::parse(approximate).py()?;
    wrap(
        py,
        ferrotorch_core::autograd::functions::activation::gelu(&x.inner, approximate).py()?,
    )
}

/// `_C._gelu_backward(grad, x, approximate)`: `grad * gelu'(x)` (not recorded).
#[pyfunction]
#[pyo3(signature = (grad, x, approximate="none"))]
fn _gelu_backward(
    py: Python<'_>,
    grad: PyRef<'_, PyTensor>,
    x: PyRef<'_, PyTensor>,
    approximate: &str,
) -> PyResult<Py<PyTensor>> {
    let approximate = GeluApproximate::parse(approximate).py()?;
    wrap(
        py,
        ferrotorch_core::ops::activation::gelu_backward(&grad.inner, &x.inner, approximate).py()?,
    )
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

/// `_C._native_batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps)`
/// -> `(y, mean, invstd)` (the statistics used); `y` is recorded as `NativeBatchNormBackward0`
/// and the running statistics are updated in place when training.
#[pyfunction]
#[pyo3(signature = (x, weight, bias, running_mean, running_var, training, momentum, eps))]
#[allow(clippy::too_many_arguments)]
fn _native_batch_norm(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    weight: Option<PyRef<'_, PyTensor>>,
    bias: Option<PyRef<'_, PyTensor>>,
    running_mean: Option<PyRef<'_, PyTensor>>,
    running_var: Option<PyRef<'_, PyTensor>>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> PyResult<(Py<PyTensor>, Py<PyTensor>, Py<PyTensor>)> {
    let inner = |t: Option<PyRef<'_, PyTensor>>| t.map(|t| t.inner.clone());
    let (w, b) = (inner(weight), inner(bias));
    let (rm, rv) = (inner(running_mean), inner(running_var));
    let (y, m, r) = fn_::batch_norm(
        &x.inner,
        w.as_ref(),
        b.as_ref(),
        rm.as_ref(),
        rv.as_ref(),
        training,
        momentum,
        eps,
    )
    .py()?;
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

/// `_C._cross_entropy(input, target, ignore_index, reduction)`: cross entropy from `(N, C)`
/// logits and `(N,)` int64 class indices in one fused op (no class weights, no label
/// smoothing); the loss is float32 (float64 for float64 logits), as under autocast.
#[pyfunction]
#[pyo3(signature = (input, target, ignore_index=-100, reduction="mean"))]
fn _cross_entropy(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    target: PyRef<'_, PyTensor>,
    ignore_index: i64,
    reduction: &str,
) -> PyResult<Py<PyTensor>> {
    let r = Reduction::parse(reduction).py()?;
    wrap(
        py,
        fce::cross_entropy(&input.inner, &target.inner, ignore_index, r).py()?,
    )
}

/// `_C._thnn_fused_lstm_cell(gates, cx)` -> `(hy, cy)`: the pointwise part of an LSTM step
/// from the summed gate pre-activations, recorded as `ThnnFusedLstmCellBackward0`.
#[pyfunction]
fn _thnn_fused_lstm_cell(
    py: Python<'_>,
    gates: PyRef<'_, PyTensor>,
    cx: PyRef<'_, PyTensor>,
) -> PyResult<(Py<PyTensor>, Py<PyTensor>)> {
    let (hy, cy) = fr::lstm_cell(&gates.inner, &cx.inner).py()?;
    Ok((wrap(py, hy)?, wrap(py, cy)?))
}

/// `_C._thnn_fused_gru_cell(gi, gh, hx)` -> `hy`: the pointwise part of a GRU step from the
/// input and hidden products, recorded as `ThnnFusedGruCellBackward0`.
#[pyfunction]
fn _thnn_fused_gru_cell(
    py: Python<'_>,
    gi: PyRef<'_, PyTensor>,
    gh: PyRef<'_, PyTensor>,
    hx: PyRef<'_, PyTensor>,
) -> PyResult<Py<PyTensor>> {
    wrap(py, fr::gru_cell(&gi.inner, &gh.inner, &hx.inner).py()?)
}

/// `_C._resample(x, taps, name)`: separable resampling of the last `len(taps)` dims of `x`,
/// each dim's taps an `(index, weight)` pair of `(out, k)` int64 / float64 NumPy arrays;
/// recorded as `name` (torch's upsample node names).
#[pyfunction]
fn _resample(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    taps: Vec<(PyReadonlyArray2<'_, i64>, PyReadonlyArray2<'_, f64>)>,
    name: &str,
) -> PyResult<Py<PyTensor>> {
    let taps: Vec<Taps> = taps
        .iter()
        .map(|(index, weight)| {
            let (out, k) = (index.shape()[0], index.shape()[1]);
            Taps {
                index: index.as_array().iter().copied().collect(),
                weight: weight.as_array().iter().copied().collect(),
                out,
                k,
            }
        })
        .collect();
    wrap(
        py,
        fres::resample(&x.inner, &taps, fres::node_name(name)).py()?,
    )
}

/// `_C._embedding(weight, indices, padding_idx, scale_grad_by_freq)`: rows of `weight`,
/// recorded as `EmbeddingBackward0` (a scatter-add of the gradient's rows).
#[pyfunction]
#[pyo3(signature = (weight, indices, padding_idx=None, scale_grad_by_freq=false))]
fn _embedding(
    py: Python<'_>,
    weight: PyRef<'_, PyTensor>,
    indices: PyRef<'_, PyTensor>,
    padding_idx: Option<i64>,
    scale_grad_by_freq: bool,
) -> PyResult<Py<PyTensor>> {
    let out = femb::embedding(
        &weight.inner,
        &indices.inner,
        padding_idx,
        scale_grad_by_freq,
    );
    wrap(py, out.py()?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(_gelu, m)?)?;
    m.add_function(wrap_pyfunction!(_causal_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(_gelu_backward, m)?)?;
    m.add_function(wrap_pyfunction!(_log_softmax, m)?)?;
    m.add_function(wrap_pyfunction!(_softmax_backward_data, m)?)?;
    m.add_function(wrap_pyfunction!(_log_softmax_backward_data, m)?)?;
    m.add_function(wrap_pyfunction!(_native_layer_norm, m)?)?;
    m.add_function(wrap_pyfunction!(_rms_norm, m)?)?;
    m.add_function(wrap_pyfunction!(_native_batch_norm, m)?)?;
    m.add_function(wrap_pyfunction!(_thnn_fused_lstm_cell, m)?)?;
    m.add_function(wrap_pyfunction!(_thnn_fused_gru_cell, m)?)?;
    m.add_function(wrap_pyfunction!(_resample, m)?)?;
    m.add_function(wrap_pyfunction!(_embedding, m)?)?;
    m.add_function(wrap_pyfunction!(_nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(_cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(_nll_loss_forward, m)?)
}
