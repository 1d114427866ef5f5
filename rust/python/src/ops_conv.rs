//! Convolution and the sliding-window kernels for `nn.functional`: `_C._convolution`
//! (torch's `aten::convolution`, every conv and conv_transpose), `_C._im2col` (`F.unfold`),
//! `_C._col2im` (`F.fold`), `_C._max_pool_with_indices` and `_C._avg_pool`. The Python layer
//! checks the arguments with torch's messages first.

use crate::errors::IntoPyResult;
use crate::tensor::{wrap, PyTensor};
use ferrotorch_core::autograd::functions::{conv, convolution as fconv, pool};
use ferrotorch_core::ops::conv::Window;
use ferrotorch_core::ops::convolution::ConvParams;
use ferrotorch_core::ops::pool::AvgPool;
use pyo3::prelude::*;

/// Sizes as `usize`, refusing negative ones.
fn sizes(op: &str, name: &str, v: &[i64]) -> PyResult<Vec<usize>> {
    v.iter()
        .map(|&x| {
            usize::try_from(x).map_err(|_| {
                pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "{op}: {name} must be non-negative, but got {name}={v:?}"
                ))
            })
        })
        .collect()
}

/// `im2col(input, kernel_size, dilation, padding, stride)` over the `len(kernel_size)`
/// trailing dims of `(N, C, *spatial)`, in `F.unfold`'s argument order.
#[pyfunction]
fn _im2col(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    kernel_size: Vec<i64>,
    dilation: Vec<i64>,
    padding: Vec<i64>,
    stride: Vec<i64>,
) -> PyResult<Py<PyTensor>> {
    let x = input.inner.clone();
    let w = Window::new("im2col", &kernel_size, &stride, &padding, &dilation).py()?;
    wrap(py, py.detach(|| conv::im2col(&x, &w)).py()?)
}

/// `col2im(input, output_size, kernel_size, dilation, padding, stride)`, in `F.fold`'s
/// argument order.
#[pyfunction]
fn _col2im(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    output_size: Vec<i64>,
    kernel_size: Vec<i64>,
    dilation: Vec<i64>,
    padding: Vec<i64>,
    stride: Vec<i64>,
) -> PyResult<Py<PyTensor>> {
    let x = input.inner.clone();
    let size = sizes("col2im", "output_size", &output_size)?;
    let w = Window::new("col2im", &kernel_size, &stride, &padding, &dilation).py()?;
    wrap(py, py.detach(|| conv::col2im(&x, &size, &w)).py()?)
}

/// `convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
/// groups)` over a batched `(N, C, *spatial)` input, recorded as `ConvolutionBackward0`.
#[allow(clippy::too_many_arguments)] // torch's signature, one Python argument each
#[pyfunction]
fn _convolution(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    weight: PyRef<'_, PyTensor>,
    bias: Option<PyRef<'_, PyTensor>>,
    stride: Vec<i64>,
    padding: Vec<i64>,
    dilation: Vec<i64>,
    transposed: bool,
    output_padding: Vec<i64>,
    groups: i64,
) -> PyResult<Py<PyTensor>> {
    let (x, w) = (input.inner.clone(), weight.inner.clone());
    let b = bias.map(|b| b.inner.clone());
    let p = ConvParams::new(
        &stride,
        &padding,
        &dilation,
        transposed,
        &output_padding,
        groups,
    )
    .py()?;
    wrap(
        py,
        py.detach(|| fconv::convolution(&x, &w, b.as_ref(), &p))
            .py()?,
    )
}

/// `(values, indices)` of max pooling over the `len(kernel_size)` trailing dims.
#[pyfunction]
fn _max_pool_with_indices(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    kernel_size: Vec<i64>,
    stride: Vec<i64>,
    padding: Vec<i64>,
    dilation: Vec<i64>,
    ceil_mode: bool,
) -> PyResult<(Py<PyTensor>, Py<PyTensor>)> {
    let x = input.inner.clone();
    let op = format!("max_pool{}d", kernel_size.len());
    let w = Window::new(&op, &kernel_size, &stride, &padding, &dilation).py()?;
    let (v, i) = py
        .detach(|| pool::max_pool_with_indices(&x, &w, ceil_mode))
        .py()?;
    Ok((wrap(py, v)?, wrap(py, i)?))
}

/// Average pooling over the `len(kernel_size)` trailing dims.
#[allow(clippy::too_many_arguments)] // torch's signature, one Python argument each
#[pyfunction]
#[pyo3(signature = (input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None))]
fn _avg_pool(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    kernel_size: Vec<i64>,
    stride: Vec<i64>,
    padding: Vec<i64>,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> PyResult<Py<PyTensor>> {
    let x = input.inner.clone();
    let p = AvgPool::new(
        &kernel_size,
        &stride,
        &padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )
    .py()?;
    wrap(py, py.detach(|| pool::avg_pool(&x, &p)).py()?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_convolution, m)?)?;
    m.add_function(wrap_pyfunction!(_im2col, m)?)?;
    m.add_function(wrap_pyfunction!(_col2im, m)?)?;
    m.add_function(wrap_pyfunction!(_max_pool_with_indices, m)?)?;
    m.add_function(wrap_pyfunction!(_avg_pool, m)?)
}
