//! Safetensors files for `ferrotorch.save` / `ferrotorch.load` (python/ferrotorch/serialization.py
//! turns objects into named tensors plus JSON and back).

use crate::errors::IntoPyResult;
use crate::tensor::{wrap, PyTensor};
use ferrotorch_core::serialization as ser;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::HashMap;
use std::path::PathBuf;

type Named = Vec<(String, Py<PyTensor>)>;

fn core_tensors(py: Python<'_>, tensors: &Named) -> Vec<(String, ferrotorch_core::Tensor)> {
    tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.borrow(py).inner.clone()))
        .collect()
}

/// Writes `tensors` and `metadata` atomically to `path`.
#[pyfunction]
fn _safetensors_save_file(
    py: Python<'_>,
    path: PathBuf,
    tensors: Named,
    metadata: HashMap<String, String>,
) -> PyResult<()> {
    let tensors = core_tensors(py, &tensors);
    py.detach(|| ser::save_file(&path, &tensors, metadata)).py()
}

/// The file's bytes, for a Python file object.
#[pyfunction]
fn _safetensors_save_bytes<'py>(
    py: Python<'py>,
    tensors: Named,
    metadata: HashMap<String, String>,
) -> PyResult<Bound<'py, PyBytes>> {
    let tensors = core_tensors(py, &tensors);
    let bytes = py.detach(|| ser::save_bytes(&tensors, metadata)).py()?;
    Ok(PyBytes::new(py, &bytes))
}

fn loaded(py: Python<'_>, l: ser::Loaded) -> PyResult<(Named, HashMap<String, String>)> {
    let tensors = l
        .tensors
        .into_iter()
        .map(|(n, t)| Ok((n, wrap(py, t)?)))
        .collect::<PyResult<Named>>()?;
    Ok((tensors, l.metadata))
}

/// `(tensors in file order, metadata)` of a memory-mapped file.
#[pyfunction]
fn _safetensors_load_file(
    py: Python<'_>,
    path: PathBuf,
) -> PyResult<(Named, HashMap<String, String>)> {
    let l = py.detach(|| ser::load_file(&path)).py()?;
    loaded(py, l)
}

/// `(tensors in file order, metadata)` of a file's bytes.
#[pyfunction]
fn _safetensors_load_bytes(
    py: Python<'_>,
    data: Vec<u8>,
) -> PyResult<(Named, HashMap<String, String>)> {
    let l = py.detach(|| ser::load_bytes(data)).py()?;
    loaded(py, l)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_safetensors_save_file, m)?)?;
    m.add_function(wrap_pyfunction!(_safetensors_save_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(_safetensors_load_file, m)?)?;
    m.add_function(wrap_pyfunction!(_safetensors_load_bytes, m)?)
}
