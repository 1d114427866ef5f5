//! `ferrotorch.dtype` objects: one interned Python object per dtype, so `is` and `==` work.

use ferrotorch_core::dtype::ALL_DTYPES;
use ferrotorch_core::DType;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyType};

#[pyclass(name = "dtype", module = "ferrotorch", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDType {
    pub d: DType,
}

#[pymethods]
impl PyDType {
    fn __repr__(&self) -> String {
        format!("torch.{}", self.d.name())
    }
    #[getter]
    fn is_floating_point(&self) -> bool {
        self.d.is_floating_point()
    }
    #[getter]
    fn is_signed(&self) -> bool {
        self.d.is_signed()
    }
    #[getter]
    fn is_complex(&self) -> bool {
        false
    }
    #[getter]
    fn itemsize(&self) -> usize {
        self.d.size()
    }
    #[allow(clippy::wrong_self_convention)] // a Python method: the receiver is the pyclass ref
    fn to_real(&self) -> Self {
        *self
    }
    fn __reduce__(&self) -> String {
        self.d.name().to_string()
    }
}

static INTERNED: PyOnceLock<Vec<Py<PyDType>>> = PyOnceLock::new();

fn interned(py: Python<'_>) -> &Vec<Py<PyDType>> {
    INTERNED.get_or_init(py, || {
        ALL_DTYPES
            .iter()
            .map(|&d| Py::new(py, PyDType { d }).expect("allocating a dtype object at import"))
            .collect()
    })
}

/// The interned Python object for `d`.
pub fn dtype_object(py: Python<'_>, d: DType) -> Py<PyDType> {
    let idx = ALL_DTYPES.iter().position(|&x| x == d).unwrap_or(0);
    interned(py)[idx].clone_ref(py)
}

/// Accepts a `ferrotorch.dtype`, a Python type (`float`, `int`, `bool`), a NumPy dtype or a
/// dtype name.
pub fn extract_dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    if let Ok(d) = obj.cast::<PyDType>() {
        return Ok(d.get().d);
    }
    if let Ok(t) = obj.cast::<PyType>() {
        if t.is(obj.py().get_type::<PyFloat>()) {
            return Ok(DType::F64);
        }
        if t.is(obj.py().get_type::<PyBool>()) {
            return Ok(DType::Bool);
        }
        if t.is(obj.py().get_type::<PyInt>()) {
            return Ok(DType::I64);
        }
    }
    // NumPy dtypes and scalar types have a `.name` / can be passed to numpy.dtype.
    let name: Option<String> = obj
        .py()
        .import("numpy")
        .and_then(|np| {
            np.getattr("dtype")?
                .call1((obj,))?
                .getattr("name")?
                .extract()
        })
        .ok();
    if let Some(d) = name.as_deref().and_then(DType::from_name) {
        return Ok(d);
    }
    Err(PyTypeError::new_err(format!(
        "dtype must be a ferrotorch.dtype (e.g. ferrotorch.float32), got {}",
        obj.repr().map(|r| r.to_string()).unwrap_or_default()
    )))
}

#[pyfunction]
fn _get_default_dtype(py: Python<'_>) -> Py<PyDType> {
    dtype_object(py, ferrotorch_core::dtype::default_float())
}

#[pyfunction]
fn _set_default_dtype(d: &Bound<'_, PyAny>) -> PyResult<()> {
    let d = extract_dtype(d)?;
    ferrotorch_core::dtype::set_default_float(d).map_err(crate::errors::to_py)
}

#[pyfunction]
fn _promote_types(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Py<PyDType>> {
    Ok(dtype_object(
        py,
        extract_dtype(a)?.promote(extract_dtype(b)?),
    ))
}

#[pyfunction]
fn _result_type(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Py<PyDType>> {
    let a = crate::tensor::tensor_or_scalar(a, "result_type")?;
    let b = crate::tensor::tensor_or_scalar(b, "result_type")?;
    Ok(dtype_object(
        py,
        ferrotorch_core::dtype::result_type(&[a.operand(), b.operand()]),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDType>()?;
    m.add_function(wrap_pyfunction!(_get_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(_set_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(_promote_types, m)?)?;
    m.add_function(wrap_pyfunction!(_result_type, m)?)?;
    let py = m.py();
    for &d in ALL_DTYPES.iter() {
        m.add(d.name(), dtype_object(py, d))?;
    }
    Ok(())
}
