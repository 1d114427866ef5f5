//! `ferrotorch.cuda`'s functions in Rust: devices, synchronisation, memory statistics, events,
//! and the kernel compile check. Everything raises a RuntimeError (never panics) without a GPU.

use crate::errors::IntoPyResult;
use ferrotorch_core::cuda::{self, compile};
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn dev(index: Option<usize>) -> PyResult<&'static cuda::CudaDevice> {
    cuda::device(index.unwrap_or_else(cuda::current)).py()
}

#[pyfunction]
fn _cuda_is_available() -> bool {
    cuda::is_available()
}

#[pyfunction]
fn _cuda_device_count() -> usize {
    cuda::device_count()
}

#[pyfunction]
fn _cuda_current_device() -> usize {
    cuda::current()
}

#[pyfunction]
fn _cuda_set_device(index: usize) -> PyResult<()> {
    cuda::set_current(index).py()
}

/// Waits for the device's queued work, with the GIL released.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_synchronize(py: Python<'_>, index: Option<usize>) -> PyResult<()> {
    let d = dev(index)?;
    py.detach(|| d.synchronize()).py()
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_get_device_name(index: Option<usize>) -> PyResult<String> {
    dev(index)?.name().py()
}

/// `{name, major, minor, total_memory, multi_processor_count}` of a device.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_get_device_properties<'py>(
    py: Python<'py>,
    index: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = dev(index)?;
    let p = PyDict::new(py);
    p.set_item("name", d.name().py()?)?;
    p.set_item("major", d.capability.0)?;
    p.set_item("minor", d.capability.1)?;
    p.set_item("total_memory", d.total_memory().py()?)?;
    p.set_item("multi_processor_count", d.multiprocessors)?;
    Ok(p)
}

/// `(allocated, max_allocated, reserved)` bytes of a device.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_memory_stats(index: Option<usize>) -> PyResult<(usize, usize, usize)> {
    let d = dev(index)?;
    Ok((
        cuda::memory_allocated(d),
        cuda::max_memory_allocated(d),
        cuda::memory_reserved(d),
    ))
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_reset_peak_memory_stats(index: Option<usize>) -> PyResult<()> {
    cuda::reset_peak_memory_stats(dev(index)?);
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_empty_cache(py: Python<'_>, index: Option<usize>) -> PyResult<()> {
    let d = dev(index)?;
    py.detach(|| cuda::empty_cache(d)).py()
}

/// NVRTC's version, opening the library (raises with the names tried when it is missing).
#[pyfunction]
fn _nvrtc_version() -> PyResult<(i32, i32)> {
    compile::nvrtc_version().py()
}

/// Compiles every kernel source in every specialisation for `sm_{arch}` with NVRTC (no GPU
/// needed); returns how many programs compiled. Raises with NVRTC's log on the first failure.
#[pyfunction]
fn _cuda_compile_all_kernels(py: Python<'_>, arch: u32) -> PyResult<usize> {
    py.detach(|| cuda::compile_all(arch)).py()
}

/// Compiles `text` (after the common kernel declarations) for `sm_{arch}`; returns the CUBIN's
/// size. For tests of the compile path.
#[pyfunction]
fn _cuda_compile_source(name: &str, text: &str, arch: u32) -> PyResult<usize> {
    compile::compile_str(name, text, arch).py().map(|c| c.len())
}

/// `torch.backends.cuda.matmul.allow_tf32`.
#[pyfunction]
fn _cuda_matmul_allow_tf32() -> bool {
    cuda::blas::allow_tf32()
}

#[pyfunction]
fn _cuda_set_matmul_allow_tf32(on: bool) {
    cuda::blas::set_allow_tf32(on)
}

/// cuDNN's version number, or None where the library does not load (no GPU needed).
#[pyfunction]
fn _cudnn_version() -> Option<usize> {
    cuda::cudnn::version().ok()
}

/// Why cuDNN is unavailable (the library names tried, or the failing check), or None.
#[pyfunction]
fn _cudnn_unavailable_reason() -> Option<String> {
    cuda::cudnn::version().err().map(|e| e.to_string())
}

/// `torch.backends.cudnn`'s switches that the core reads: `(enabled, allow_tf32,
/// deterministic)`.
#[pyfunction]
fn _cudnn_flags() -> (bool, bool, bool) {
    use cuda::cudnn as c;
    (c::enabled(), c::allow_tf32(), c::deterministic())
}

/// Sets the switches given (None leaves one as it is).
#[pyfunction]
#[pyo3(signature = (enabled=None, allow_tf32=None, deterministic=None))]
fn _cudnn_set_flags(enabled: Option<bool>, allow_tf32: Option<bool>, deterministic: Option<bool>) {
    use cuda::cudnn as c;
    if let Some(on) = enabled {
        c::set_enabled(on);
    }
    if let Some(on) = allow_tf32 {
        c::set_allow_tf32(on);
    }
    if let Some(on) = deterministic {
        c::set_deterministic(on);
    }
}

/// A CUDA event on a device's stream (`torch.cuda.Event`).
#[pyclass(name = "_CudaEvent", module = "ferrotorch._C", frozen)]
pub struct PyCudaEvent {
    event: cuda::Event,
}

#[pymethods]
impl PyCudaEvent {
    #[new]
    #[pyo3(signature = (enable_timing=false, index=None))]
    fn new(enable_timing: bool, index: Option<usize>) -> PyResult<Self> {
        let ordinal = index.unwrap_or_else(cuda::current);
        Ok(PyCudaEvent {
            event: cuda::Event::new(ordinal, enable_timing).py()?,
        })
    }
    fn record(&self) -> PyResult<()> {
        self.event.record().py()
    }
    fn synchronize(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.event.synchronize()).py()
    }
    fn query(&self) -> bool {
        self.event.query()
    }
    /// Milliseconds from this event to `end`.
    fn elapsed_time(&self, end: PyRef<'_, PyCudaEvent>) -> PyResult<f32> {
        self.event.elapsed_ms(&end.event).py()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCudaEvent>()?;
    m.add_function(wrap_pyfunction!(_cuda_is_available, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_device_count, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_current_device, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_device, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_get_device_name, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_get_device_properties, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_reset_peak_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_empty_cache, m)?)?;
    m.add_function(wrap_pyfunction!(_nvrtc_version, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_compile_all_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_compile_source, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_matmul_allow_tf32, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_matmul_allow_tf32, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_version, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_unavailable_reason, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_flags, m)?)?;
    m.add_function(wrap_pyfunction!(_cudnn_set_flags, m)?)?;
    Ok(())
}
