//! `ferrotorch.device`.

use crate::errors::IntoPyResult;
use ferrotorch_core::Device;
use pyo3::prelude::*;

#[pyclass(name = "device", module = "ferrotorch", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDevice {
    pub d: Device,
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
            return Ok(PyDevice { d: Device::Cuda(i) });
        }
        let s: String = r#type.extract()?;
        Ok(PyDevice {
            d: Device::parse(&s, index).py()?,
        })
    }
    #[getter]
    fn r#type(&self) -> &'static str {
        self.d.type_name()
    }
    #[getter]
    fn index(&self) -> Option<usize> {
        match self.d {
            Device::Cpu => None,
            Device::Cuda(i) => Some(i),
        }
    }
    fn __repr__(&self) -> String {
        match self.d {
            Device::Cpu => "device(type='cpu')".to_string(),
            Device::Cuda(i) => format!("device(type='cuda', index={i})"),
        }
    }
    fn __str__(&self) -> String {
        self.d.to_string()
    }
}

/// Accepts a `ferrotorch.device`, a string like `"cuda:0"` or a CUDA ordinal.
pub fn extract_device(obj: &Bound<'_, PyAny>) -> PyResult<Device> {
    Ok(PyDevice::new(obj, None)?.d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDevice>()
}
