//! Core errors become the Python exceptions torch raises.

use ferrotorch_core::{Error, ErrorKind};
use pyo3::exceptions::{
    PyIndexError, PyNotImplementedError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::PyErr;

pub fn to_py(e: Error) -> PyErr {
    if let Some(err) = e.foreign.as_ref().and_then(|f| f.downcast_ref::<PyErr>()) {
        return pyo3::Python::attach(|py| err.clone_ref(py));
    }
    match e.kind {
        ErrorKind::Runtime => PyRuntimeError::new_err(e.message),
        ErrorKind::Index => PyIndexError::new_err(e.message),
        ErrorKind::Value => PyValueError::new_err(e.message),
        ErrorKind::Type => PyTypeError::new_err(e.message),
        ErrorKind::NotImplemented => PyNotImplementedError::new_err(e.message),
        ErrorKind::OutOfMemory => OutOfMemoryError::new_err(e.message),
    }
}

pyo3::create_exception!(
    ferrotorch,
    OutOfMemoryError,
    PyRuntimeError,
    "A device allocation did not fit (torch.OutOfMemoryError); free tensors and try again."
);

pub fn register(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
    use pyo3::types::PyModuleMethods;
    m.add("OutOfMemoryError", m.py().get_type::<OutOfMemoryError>())
}

/// `core_result.py()?` turns a core `Result` into a `PyResult`.
pub trait IntoPyResult<T> {
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPyResult<T> for ferrotorch_core::Result<T> {
    #[inline]
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}

/// A Python exception raised inside a callback the core made, as a core error.
pub fn from_py(e: PyErr) -> Error {
    let message = e.to_string();
    Error::foreign(std::sync::Arc::new(e), message)
}
