//! Conversions (`to`, `float`, `clone`, `copy_`, `fill_` ...) and whole-tensor comparisons
//! (`isclose`, `allclose`, `equal`). A conversion that changes nothing returns the very same
//! Python object, as torch does, so `t.to(t.dtype) is t`.

use crate::creation::scalar_arg;
use crate::device::extract_device;
use crate::dtype::PyDType;
use crate::errors::IntoPyResult;
use crate::tensor::{extract_scalar, wrap, PyTensor};
use ferrotorch_core::autograd::functions::convert as fc;
use ferrotorch_core::ops::compare;
use ferrotorch_core::ops::convert::{self, MemoryFormat};
use ferrotorch_core::{DType, Device, Tensor};
use pyo3::exceptions::{PyNotImplementedError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyTuple, PyType};

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// `memory_format=`: `None`/`torch.preserve_format` or `torch.contiguous_format`.
fn memory_format(obj: Option<&Bound<'_, PyAny>>) -> PyResult<MemoryFormat> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(MemoryFormat::Preserve);
    };
    let s = obj.str()?.to_string();
    match s.as_str() {
        "torch.preserve_format" | "preserve_format" => Ok(MemoryFormat::Preserve),
        "torch.contiguous_format" | "contiguous_format" => Ok(MemoryFormat::Contiguous),
        _ => Err(PyNotImplementedError::new_err(format!(
            "memory_format {s} is not supported by ferrotorch"
        ))),
    }
}

/// `self.to(device, dtype)` for another device: one copy across, with the dtype changed on
/// the side where the data is smaller (both steps recorded for autograd).
fn move_to(
    slf: &Bound<'_, PyTensor>,
    device: Device,
    dtype: DType,
    format: MemoryFormat,
    non_blocking: bool,
) -> PyResult<Py<PyAny>> {
    let t = slf.borrow().inner.clone();
    let convert =
        |x: Tensor| -> PyResult<Tensor> { Ok(fc::to(&x, dtype, false, format).py()?.unwrap_or(x)) };
    let moved = if dtype.size() < t.dtype().size() {
        fc::to_device(&convert(t)?, device, non_blocking).py()?
    } else {
        convert(fc::to_device(&t, device, non_blocking).py()?)?
    };
    Ok(wrap(slf.py(), moved)?.into_any())
}

/// The result of a conversion: the new tensor, or `slf` itself when nothing changed.
fn self_or(slf: &Bound<'_, PyTensor>, converted: Option<Tensor>) -> PyResult<Py<PyAny>> {
    match converted {
        None => Ok(slf.clone().into_any().unbind()),
        Some(t) => Ok(wrap(slf.py(), t)?.into_any()),
    }
}

/// `self.to(dtype)` with torch's identity rule, shared by `to` and the dtype shorthands.
fn convert_to(
    slf: &Bound<'_, PyTensor>,
    dtype: DType,
    copy: bool,
    format: MemoryFormat,
) -> PyResult<Py<PyAny>> {
    let t = slf.borrow().inner.clone();
    let converted = fc::to(&t, dtype, copy, format).py()?;
    self_or(slf, converted)
}

fn parse_flag(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    if !obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "to(): argument '{name}' must be bool, not {}",
            type_name(obj)
        )));
    }
    obj.extract()
}

/// Defines `float()`, `double()` ...: `to(dtype)` that returns self when already that dtype.
macro_rules! dtype_shorthand {
    ($($py:literal => $rust:ident, $dt:ident;)*) => {
        #[pymethods]
        impl PyTensor {
            $(
                #[doc = concat!("`self.", $py, "()`: `self.to(torch.", stringify!($dt), ")`.")]
                #[pyo3(name = $py, signature = (memory_format=None))]
                fn $rust(slf: &Bound<'_, Self>, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                    convert_to(slf, DType::$dt, false, self::memory_format(memory_format)?)
                }
            )*
        }
    };
}
dtype_shorthand! {
    "float" => to_float, F32;
    "double" => to_double, F64;
    "half" => to_half, F16;
    "bfloat16" => to_bfloat16, BF16;
    "long" => to_long, I64;
    "int" => to_int, I32;
    "short" => to_short, I16;
    "char" => to_char, I8;
    "byte" => to_byte, U8;
    "bool" => to_bool, Bool;
}

#[pymethods]
impl PyTensor {
    /// `to(dtype)`, `to(device, dtype)`, `to(other)` and the keyword forms. Returns `self`
    /// when neither dtype nor device changes and `copy=False`.
    #[pyo3(signature = (*args, dtype=None, device=None, non_blocking=false, copy=false, memory_format=None))]
    #[allow(clippy::too_many_arguments)]
    fn to(
        slf: &Bound<'_, Self>,
        args: &Bound<'_, PyTuple>,
        dtype: Option<&Bound<'_, PyAny>>,
        device: Option<&Bound<'_, PyAny>>,
        non_blocking: bool,
        copy: bool,
        memory_format: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mut non_blocking = non_blocking;
        let mut target_dtype: Option<DType> = None;
        let mut target_device: Option<Device> = None;
        let mut copy = copy;
        let mut rest = 0;
        if let Some(a0) = args.iter().next() {
            rest = 1;
            if let Ok(other) = a0.cast::<PyTensor>() {
                let o = other.borrow();
                target_dtype = Some(o.inner.dtype());
                target_device = Some(o.inner.device());
            } else if let Ok(d) = a0.cast::<PyDType>() {
                target_dtype = Some(d.get().d);
            } else if a0.is_instance_of::<PyType>() {
                // Python `float`/`int`/`bool` stand for float64/int64/bool, as in torch.
                target_dtype = Some(crate::dtype::extract_dtype(&a0)?);
            } else if !a0.is_none() {
                if a0.is_instance_of::<PyBool>() {
                    return Err(PyTypeError::new_err(
                        "to() received an invalid combination of arguments - got (bool)",
                    ));
                }
                target_device = Some(extract_device(&a0)?);
                if let Some(d) = args
                    .iter()
                    .nth(1)
                    .and_then(|a| a.cast::<PyDType>().ok().map(|d| d.get().d))
                {
                    target_dtype = Some(d);
                    rest = 2;
                }
            }
        }
        // Remaining positionals are `non_blocking` then `copy`.
        let extra: Vec<_> = args.iter().skip(rest).collect();
        if extra.len() > 2 {
            return Err(PyTypeError::new_err(format!(
                "to() takes at most {} positional arguments ({} given)",
                rest + 2,
                args.len()
            )));
        }
        if let Some(nb) = extra.first() {
            non_blocking |= parse_flag(nb, "non_blocking")?;
        }
        if let Some(c) = extra.get(1) {
            copy |= parse_flag(c, "copy")?;
        }
        if let Some(d) = dtype.filter(|d| !d.is_none()) {
            if target_dtype.is_some() {
                return Err(PyTypeError::new_err(
                    "to() got multiple values for argument 'dtype'",
                ));
            }
            target_dtype = Some(crate::dtype::extract_dtype(d)?);
        }
        if let Some(d) = device.filter(|d| !d.is_none()) {
            if target_device.is_some() {
                return Err(PyTypeError::new_err(
                    "to() got multiple values for argument 'device'",
                ));
            }
            target_device = Some(extract_device(d)?);
        }
        let dt = target_dtype.unwrap_or_else(|| slf.borrow().inner.dtype());
        let format = self::memory_format(memory_format)?;
        match target_device {
            Some(d) if d != slf.borrow().inner.device() => {
                move_to(slf, d, dt, format, non_blocking)
            }
            _ => convert_to(slf, dt, copy, format),
        }
    }

    /// `clone(memory_format=torch.preserve_format)`: a copy that keeps a dense input's strides.
    #[pyo3(signature = (*, memory_format=None))]
    fn clone(
        &self,
        py: Python<'_>,
        memory_format: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        wrap(
            py,
            fc::clone(&self.inner, self::memory_format(memory_format)?).py()?,
        )
    }

    /// `copy_(src, non_blocking=False)`: broadcasts `src` to self's shape, converting dtype.
    #[pyo3(signature = (src, non_blocking=false))]
    fn copy_<'py>(
        slf: &Bound<'py, Self>,
        src: &Bound<'py, PyAny>,
        non_blocking: bool,
    ) -> PyResult<Bound<'py, Self>> {
        let _ = non_blocking;
        let src = src.cast::<PyTensor>().map_err(|_| {
            PyTypeError::new_err(format!(
                "copy_(): argument 'src' (position 1) must be Tensor, not {}",
                type_name(src)
            ))
        })?;
        let s = src.borrow().inner.clone();
        ferrotorch_core::autograd::functions::inplace::copy_(&slf.borrow().inner, &s).py()?;
        Ok(slf.clone())
    }

    /// `fill_(value)`: a number or a 0-d tensor, checked against the dtype's range.
    fn fill_<'py>(slf: &Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let v = if let Ok(t) = value.cast::<PyTensor>() {
            let nd = t.borrow().inner.ndim();
            if nd != 0 {
                return Err(PyRuntimeError::new_err(format!(
                    "fill_ only supports 0-dimension value tensor but got tensor with {nd} dimensions."
                )));
            }
            scalar_arg(value, "fill_")?
        } else {
            extract_scalar(value).ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "fill_() received an invalid combination of arguments - got ({}), but expected \
                     one of:\n * (Tensor value)\n * (Number value)",
                    type_name(value)
                ))
            })?
        };
        ferrotorch_core::autograd::functions::inplace::fill_(&slf.borrow().inner, v).py()?;
        Ok(slf.clone())
    }

    /// `zero_()`: fills with zeros in place.
    fn zero_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        ferrotorch_core::autograd::functions::inplace::zero_(&slf.borrow().inner).py()?;
        Ok(slf.clone())
    }

    /// `cpu()`: a copy in host memory (self when already there).
    #[pyo3(signature = (memory_format=None))]
    fn cpu(slf: &Bound<'_, Self>, memory_format: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let dtype = slf.borrow().inner.dtype();
        let format = self::memory_format(memory_format)?;
        match slf.borrow().inner.device() {
            Device::Cpu => convert_to(slf, dtype, false, format),
            Device::Cuda(_) => move_to(slf, Device::Cpu, dtype, format, false),
        }
    }

    /// `cuda(device=None)`: a copy on the GPU (the current device by default; self when
    /// already there).
    #[pyo3(signature = (device=None, non_blocking=false, memory_format=None))]
    fn cuda(
        slf: &Bound<'_, Self>,
        device: Option<&Bound<'_, PyAny>>,
        non_blocking: bool,
        memory_format: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let target = match device.filter(|d| !d.is_none()) {
            Some(d) => match extract_device(d)? {
                Device::Cpu => {
                    return Err(PyRuntimeError::new_err(
                        "Invalid device, must be cuda device",
                    ))
                }
                cuda => cuda,
            },
            None => Device::Cuda(ferrotorch_core::cuda::current()),
        };
        let dtype = slf.borrow().inner.dtype();
        let format = self::memory_format(memory_format)?;
        if slf.borrow().inner.device() == target {
            return convert_to(slf, dtype, false, format);
        }
        move_to(slf, target, dtype, format, non_blocking)
    }

    /// `pin_memory()`: a copy in page-locked host memory, from which `to("cuda",
    /// non_blocking=True)` copies without waiting.
    fn pin_memory(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        wrap(
            py,
            ferrotorch_core::cuda::transfer::pin_memory(&self.inner).py()?,
        )
    }

    fn is_pinned(&self) -> bool {
        self.inner.storage().is_pinned()
    }

    /// `isclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)`: elementwise closeness.
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn isclose(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        rtol: f64,
        atol: f64,
        equal_nan: bool,
    ) -> PyResult<Py<PyTensor>> {
        let o = tensor_arg(other, "isclose")?;
        wrap(
            py,
            compare::isclose(&self.inner, &o, rtol, atol, equal_nan).py()?,
        )
    }

    /// `allclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)`: every element close.
    #[pyo3(signature = (other, rtol=1e-05, atol=1e-08, equal_nan=false))]
    fn allclose(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        rtol: f64,
        atol: f64,
        equal_nan: bool,
    ) -> PyResult<bool> {
        let o = tensor_arg(other, "allclose")?;
        let t = self.inner.clone();
        py.detach(|| compare::allclose(&t, &o, rtol, atol, equal_nan))
            .py()
    }

    /// `equal(other)`: same shape and same values.
    fn equal(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let o = tensor_arg(other, "equal")?;
        let t = self.inner.clone();
        py.detach(|| compare::equal(&t, &o)).py()
    }

    /// The rows `self[0], self[1], ...` as views (iteration).
    fn _unbind0<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = convert::unbind0(&self.inner).py()?;
        let objs = rows
            .into_iter()
            .map(|t| wrap(py, t))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objs)
    }

    /// A copy with dim 0 reversed (`reversed()` before the index family's `flip` exists).
    fn _flip0(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        wrap(py, convert::flip0(&self.inner).py()?)
    }
}

/// A required Tensor argument, with torch's error for anything else.
fn tensor_arg(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    obj.cast::<PyTensor>()
        .map(|t| t.borrow().inner.clone())
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{op}(): argument 'other' (position 2) must be Tensor, not {}",
                type_name(obj)
            ))
        })
}

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
