//! `torch.set_num_threads` / `torch.get_num_threads`: the size of the CPU kernels' thread pool.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

#[pyfunction]
fn set_num_threads(n: i64) -> PyResult<()> {
    if n <= 0 {
        return Err(PyValueError::new_err(format!(
            "set_num_threads expects a positive integer, got {n}"
        )));
    }
    ferrotorch_core::cpu::threads::set_num_threads(n as usize);
    Ok(())
}

#[pyfunction]
fn get_num_threads() -> usize {
    ferrotorch_core::cpu::threads()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)
}
