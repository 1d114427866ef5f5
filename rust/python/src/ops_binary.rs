//! Arithmetic operators and their function/method/in-place forms.

use crate::errors::IntoPyResult;
use crate::tensor::{finish_out, maybe_operand, tensor_or_scalar, wrap, PyTensor};
use ferrotorch_core::ops::binary;
use ferrotorch_core::{Scalar, Tensor};
use pyo3::prelude::*;

/// `a + alpha * b` as torch's `add`/`sub` define it.
fn scaled(op: &str, b: Tensor, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<Tensor> {
    match alpha {
        None => Ok(b),
        Some(a) => {
            let s = crate::creation::scalar_arg(a, op)?;
            if s == Scalar::Int(1) {
                return Ok(b);
            }
            binary::mul(&b, &Tensor::wrapped_scalar(s).py()?).py()
        }
    }
}

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn add(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let b = scaled("add", tensor_or_scalar(other, "add")?, alpha)?;
        finish_out(py, wrap(py, binary::add(&self.inner, &b).py()?)?, out)
    }

    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn sub(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let b = scaled("sub", tensor_or_scalar(other, "sub")?, alpha)?;
        finish_out(py, wrap(py, binary::sub(&self.inner, &b).py()?)?, out)
    }

    #[pyo3(signature = (other, *, out=None))]
    fn mul(&self, py: Python<'_>, other: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyTensor>> {
        let b = tensor_or_scalar(other, "mul")?;
        finish_out(py, wrap(py, binary::mul(&self.inner, &b).py()?)?, out)
    }

    fn __add__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::add(&self.inner, &b).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __radd__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::add(&b, &self.inner).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __sub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::sub(&self.inner, &b).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __rsub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::sub(&b, &self.inner).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __mul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::mul(&self.inner, &b).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __rmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::mul(&b, &self.inner).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __truediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::div(&self.inner, &b).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __rtruediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match maybe_operand(other) {
            Some(b) => Ok(wrap(py, binary::div(&b, &self.inner).py()?)?.into_any()),
            None => Ok(py.NotImplemented()),
        }
    }
}

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
