//! Matrix products: `matmul` and `@`, `mm`, `bmm`, `mv`, `dot`, `vdot`, `inner`, `outer`,
//! the fused `add*` forms (and their in-place variants), `einsum`, `tensordot`, `multi_dot`.
//! Every product goes through its differentiable function, which records a graph node when an
//! operand requires grad.

use crate::creation::scalar_arg;
use crate::errors::IntoPyResult;
use crate::tensor::{finish_out, wrap, PyTensor};
use ferrotorch_core::autograd::functions::{einsum as es, matmul as mm};
use ferrotorch_core::{Scalar, Tensor};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A Tensor argument, with torch's message when it is something else.
fn tensor_arg(obj: &Bound<'_, PyAny>, op: &str, name: &str, pos: usize) -> PyResult<Tensor> {
    match obj.cast::<PyTensor>() {
        Ok(t) => Ok(t.borrow().inner.clone()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{op}(): argument '{name}' (position {pos}) must be Tensor, not {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))),
    }
}

/// `out=` cannot record a graph: torch refuses it when an operand requires grad.
fn check_out(op: &str, out: Option<&Bound<'_, PyAny>>, inputs: &[&Tensor]) -> PyResult<()> {
    match out {
        Some(o) if !o.is_none() => crate::autograd::check_out(op, inputs),
        _ => Ok(()),
    }
}

fn coeff(obj: Option<&Bound<'_, PyAny>>, op: &str) -> PyResult<Scalar> {
    obj.map_or(Ok(Scalar::Int(1)), |o| scalar_arg(o, op))
}

/// Binary products `self.op(other, *, out=None)`.
macro_rules! binary_product {
    ($name:ident, $op:literal, $arg:ident, $f:path) => {
        #[pymethods]
        impl PyTensor {
            #[pyo3(signature = ($arg, *, out=None))]
            fn $name(
                &self,
                py: Python<'_>,
                $arg: &Bound<'_, PyAny>,
                out: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyTensor>> {
                let other = tensor_arg($arg, $op, stringify!($arg), 1)?;
                let this = self.inner.clone();
                check_out($op, out, &[&this, &other])?;
                // Large products take a while: let other Python threads run meanwhile.
                let r = py.detach(|| $f(&this, &other)).py()?;
                finish_out(py, wrap(py, r)?, out)
            }
        }
    };
}
binary_product!(matmul, "matmul", other, mm::matmul);
binary_product!(mm, "mm", mat2, mm::mm);
binary_product!(bmm, "bmm", mat2, mm::bmm);
binary_product!(mv, "mv", vec, mm::mv);
binary_product!(dot, "dot", tensor, mm::dot);
binary_product!(vdot, "vdot", other, mm::vdot);
binary_product!(inner, "inner", other, mm::inner);
binary_product!(outer, "outer", vec2, mm::outer);
binary_product!(ger, "ger", vec2, mm::outer);

/// `self.op(a, b, *, beta=1, alpha=1, out=None)` and the in-place `self.op_(...)`.
macro_rules! fused_product {
    ($name:ident, $name_:ident, $op:literal, $a:ident, $b:ident, $f:path, $f_:path) => {
        #[pymethods]
        impl PyTensor {
            #[pyo3(signature = ($a, $b, *, beta=None, alpha=None, out=None))]
            fn $name(
                &self,
                py: Python<'_>,
                $a: &Bound<'_, PyAny>,
                $b: &Bound<'_, PyAny>,
                beta: Option<&Bound<'_, PyAny>>,
                alpha: Option<&Bound<'_, PyAny>>,
                out: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyTensor>> {
                let a = tensor_arg($a, $op, stringify!($a), 1)?;
                let b = tensor_arg($b, $op, stringify!($b), 2)?;
                let (this, beta, alpha) =
                    (self.inner.clone(), coeff(beta, $op)?, coeff(alpha, $op)?);
                check_out($op, out, &[&this, &a, &b])?;
                let r = py.detach(|| $f(&this, &a, &b, beta, alpha)).py()?;
                finish_out(py, wrap(py, r)?, out)
            }

            #[pyo3(signature = ($a, $b, *, beta=None, alpha=None))]
            fn $name_(
                slf: &Bound<'_, Self>,
                $a: &Bound<'_, PyAny>,
                $b: &Bound<'_, PyAny>,
                beta: Option<&Bound<'_, PyAny>>,
                alpha: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyTensor>> {
                let a = tensor_arg($a, $op, stringify!($a), 1)?;
                let b = tensor_arg($b, $op, stringify!($b), 2)?;
                let this = slf.borrow().inner.clone();
                let (beta, alpha) = (coeff(beta, $op)?, coeff(alpha, $op)?);
                slf.py().detach(|| $f_(&this, &a, &b, beta, alpha)).py()?;
                Ok(slf.clone().unbind())
            }
        }
    };
}
fused_product!(addmm, addmm_, "addmm", mat1, mat2, mm::addmm, mm::addmm_);
fused_product!(addmv, addmv_, "addmv", mat, vec, mm::addmv, mm::addmv_);
fused_product!(
    baddbmm,
    baddbmm_,
    "baddbmm",
    batch1,
    batch2,
    mm::baddbmm,
    mm::baddbmm_
);
fused_product!(
    addbmm,
    addbmm_,
    "addbmm",
    batch1,
    batch2,
    mm::addbmm,
    mm::addbmm_
);
fused_product!(addr, addr_, "addr", vec1, vec2, mm::addr, mm::addr_);

#[pymethods]
impl PyTensor {
    fn __matmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match other.cast::<PyTensor>() {
            Ok(o) => {
                let (o, this) = (o.borrow().inner.clone(), self.inner.clone());
                Ok(wrap(py, py.detach(|| mm::matmul(&this, &o)).py()?)?.into_any())
            }
            Err(_) => Ok(py.NotImplemented()),
        }
    }

    fn __rmatmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match other.cast::<PyTensor>() {
            Ok(o) => {
                let (o, this) = (o.borrow().inner.clone(), self.inner.clone());
                Ok(wrap(py, py.detach(|| mm::matmul(&o, &this)).py()?)?.into_any())
            }
            Err(_) => Ok(py.NotImplemented()),
        }
    }
}

fn tensor_list(items: &Bound<'_, PyAny>, op: &str) -> PyResult<Vec<Tensor>> {
    let mut out = Vec::new();
    for (i, obj) in items.try_iter()?.enumerate() {
        out.push(tensor_arg(&obj?, op, "tensors", i)?);
    }
    Ok(out)
}

/// `einsum(equation, operands)`; the Python wrapper accepts varargs, a list, or sublists.
#[pyfunction]
fn _einsum(py: Python<'_>, equation: &str, operands: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
    let ops = tensor_list(operands, "einsum")?;
    let r = py.detach(|| es::einsum(equation, &ops)).py()?;
    wrap(py, r)
}

/// `tensordot(a, b, dims_a, dims_b)` with the dims already normalised to two lists.
#[pyfunction]
#[pyo3(signature = (a, b, dims_a, dims_b, out=None))]
fn _tensordot(
    py: Python<'_>,
    a: PyRef<'_, PyTensor>,
    b: PyRef<'_, PyTensor>,
    dims_a: Vec<i64>,
    dims_b: Vec<i64>,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let (a, b) = (a.inner.clone(), b.inner.clone());
    check_out("tensordot", out, &[&a, &b])?;
    let r = py.detach(|| mm::tensordot(&a, &b, &dims_a, &dims_b)).py()?;
    finish_out(py, wrap(py, r)?, out)
}

#[pyfunction]
#[pyo3(signature = (tensors, *, out=None))]
fn _multi_dot(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let ts = tensor_list(tensors, "multi_dot")?;
    check_out("linalg_multi_dot", out, &ts.iter().collect::<Vec<_>>())?;
    finish_out(py, wrap(py, mm::multi_dot(&ts).py()?)?, out)
}

#[pyfunction]
#[pyo3(signature = (tensors, *, out=None))]
fn _chain_matmul(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let ts = tensor_list(tensors, "chain_matmul")?;
    check_out("chain_matmul", out, &ts.iter().collect::<Vec<_>>())?;
    finish_out(py, wrap(py, mm::chain_matmul(&ts).py()?)?, out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_einsum, m)?)?;
    m.add_function(wrap_pyfunction!(_tensordot, m)?)?;
    m.add_function(wrap_pyfunction!(_multi_dot, m)?)?;
    m.add_function(wrap_pyfunction!(_chain_matmul, m)?)
}
