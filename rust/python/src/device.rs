//! `ferrotorch.device`.

use crate::errors::IntoPyResult;
use ferrotorch_core::{cuda, Device};
use pyo3::prelude::*;

/// A device as the user named it. `device("cuda")` has no index, prints as `cuda` and differs
/// from `device("cuda:0")`, as in torch; it means the current CUDA device when used.
#[pyclass(name = "device", module = "ferrotorch", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDevice {
    d: Device,
    /// False only for a bare `"cuda"`, whose ordinal is resolved when the device is used.
    indexed: bool,
}

impl PyDevice {
    /// The device of a tensor or generator: always with its index.
    pub fn of(d: Device) -> Self {
        PyDevice { d, indexed: true }
    }

    /// The concrete device, a bare `"cuda"` resolved to the current CUDA device.
    pub fn resolve(&self) -> Device {
        match self.d {
            Device::Cuda(_) if !self.indexed => Device::Cuda(cuda::current()),
            d => d,
        }
    }
}

#[pymethods]
impl PyDevice {
    #[new]
    #[pyo3(signature = (r#type, index=None))]
    fn new(r#type: &Bound<'_, PyAny>, index: Option<usize>) -> PyResult<Self> {
        if let Ok(d) = r#type.cast::<PyDevice>() {
            return Ok(*d.get());
        }
        if let Ok(i) = r#type.extract::<usize>() {
            return Ok(PyDevice::of(Device::Cuda(i)));
        }
        let s: String = r#type.extract()?;
        let d = Device::parse(&s, index).py()?;
        let indexed = d == Device::Cpu || index.is_some() || s.contains(':');
        Ok(PyDevice { d, indexed })
    }
    #[getter]
    fn r#type(&self) -> &'static str {
        self.d.type_name()
    }
    #[getter]
    fn index(&self) -> Option<usize> {
        match self.d {
            Device::Cuda(i) if self.indexed => Some(i),
            _ => None,
        }
    }
    fn __repr__(&self) -> String {
        match self.index() {
            None => format!("device(type='{}')", self.d.type_name()),
            Some(i) => format!("device(type='cuda', index={i})"),
        }
    }
    fn __str__(&self) -> String {
        match self.index() {
            None => self.d.type_name().to_string(),
            Some(_) => self.d.to_string(),
        }
    }
}

/// Accepts a `ferrotorch.device`, a string like `"cuda:0"` or a CUDA ordinal.
pub fn extract_device(obj: &Bound<'_, PyAny>) -> PyResult<Device> {
    Ok(PyDevice::new(obj, None)?.resolve())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDevice>()
}
