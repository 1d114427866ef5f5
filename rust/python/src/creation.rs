//! `tensor`, `as_tensor` and the fill factories (`zeros`, `ones`, `full`, `empty` and `_like`).

use crate::device::extract_device;
use crate::dtype::extract_dtype;
use crate::errors::IntoPyResult;
use crate::numpy_interop::tensor_from_ndarray;
use crate::tensor::{extract_scalar, extract_shape_args, wrap, PyTensor};
use ferrotorch_core::dtype::default_float;
use ferrotorch_core::{DType, Device, Scalar, Tensor};
use numpy::PyUntypedArray;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PySequence, PyString, PyTuple};

/// Options every factory takes.
pub struct FactoryOptions {
    pub dtype: Option<DType>,
    pub device: Device,
}

pub fn factory_options(
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<FactoryOptions> {
    let _ = requires_grad; // applied to the result by `autograd::with_requires_grad`
    let dtype = match dtype {
        Some(d) if !d.is_none() => Some(extract_dtype(d)?),
        _ => None,
    };
    let device = match device {
        Some(d) if !d.is_none() => extract_device(d)?,
        _ => Device::Cpu,
    };
    Ok(FactoryOptions { dtype, device })
}

/// Values gathered from nested Python sequences, with the widest kind seen.
struct Gathered {
    shape: Vec<usize>,
    values: Vec<Scalar>,
    widest: DType,
}

fn kind_of(s: Scalar) -> DType {
    match s {
        Scalar::Bool(_) => DType::Bool,
        Scalar::Int(_) => DType::I64,
        Scalar::Float(_) => default_float(),
    }
}

fn gather(obj: &Bound<'_, PyAny>, depth: usize, g: &mut Gathered) -> PyResult<()> {
    if let Some(s) = extract_scalar(obj) {
        if depth != g.shape.len() {
            return Err(PyValueError::new_err(format!(
                "expected sequence of length {} at dim {depth} (got a number)",
                g.shape.get(depth).copied().unwrap_or(0)
            )));
        }
        g.widest = if g.values.is_empty() {
            kind_of(s)
        } else {
            g.widest.promote(kind_of(s))
        };
        g.values.push(s);
        return Ok(());
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.borrow().inner.clone();
        if t.ndim() == 0 {
            let s = t.item().py()?;
            g.widest = if g.values.is_empty() {
                t.dtype()
            } else {
                g.widest.promote(t.dtype())
            };
            g.values.push(s);
            return Ok(());
        }
        let py = obj.py();
        let list = crate::tensor::tolist(py, &t)?;
        return gather(list.bind(py), depth, g);
    }
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("new(): invalid data type 'str'"));
    }
    let seq = obj.cast::<PySequence>().map_err(|_| {
        PyTypeError::new_err(format!(
            "Could not infer dtype of {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let len = seq.len()?;
    if depth == g.shape.len() {
        if !g.values.is_empty() {
            return Err(PyValueError::new_err(format!(
                "expected a number at dim {depth} but got a sequence"
            )));
        }
        g.shape.push(len);
    } else if g.shape[depth] != len {
        return Err(PyValueError::new_err(format!(
            "expected sequence of length {} at dim {depth} (got {len})",
            g.shape[depth]
        )));
    }
    for i in 0..len {
        gather(&seq.get_item(i)?, depth + 1, g)?;
    }
    Ok(())
}

/// Builds a tensor from nested sequences / numbers, inferring the dtype as torch does.
pub fn tensor_from_data(data: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    if let Ok(t) = data.cast::<PyTensor>() {
        let t = t.borrow().inner.clone();
        return t.copy_to_new(dtype.unwrap_or(t.dtype())).py();
    }
    if let Ok(arr) = data.cast::<PyUntypedArray>() {
        let t = tensor_from_ndarray(arr).or_else(|_| {
            let np = data.py().import("numpy")?;
            let fixed = np.call_method1("ascontiguousarray", (data,))?;
            tensor_from_ndarray(fixed.cast::<PyUntypedArray>()?)
        })?;
        return t.copy_to_new(dtype.unwrap_or(t.dtype())).py();
    }
    let mut g = Gathered {
        shape: Vec::new(),
        values: Vec::new(),
        widest: default_float(),
    };
    gather(data, 0, &mut g)?;
    if g.values.is_empty() {
        g.widest = default_float();
    }
    let target = dtype.unwrap_or(g.widest);
    let built = if target.is_floating_point() || g.widest.is_floating_point() {
        Tensor::from_vec(
            g.values.iter().map(|s| s.to_f64()).collect::<Vec<f64>>(),
            &g.shape,
        )
    } else if g.widest == DType::Bool {
        Tensor::from_vec(
            g.values
                .iter()
                .map(|s| s.to_i64() != 0)
                .collect::<Vec<bool>>(),
            &g.shape,
        )
    } else {
        Tensor::from_vec(
            g.values.iter().map(|s| s.to_i64()).collect::<Vec<i64>>(),
            &g.shape,
        )
    };
    built.and_then(|t| t.to_dtype(target)).py()
}

#[pyfunction]
#[pyo3(signature = (data, *, dtype=None, device=None, requires_grad=false, pin_memory=false))]
fn tensor(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = pin_memory;
        let opts = factory_options(dtype, device, requires_grad)?;
        wrap(
            py,
            tensor_from_data(data, opts.dtype)?
                .to_device(opts.device)
                .py()?,
        )
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

/// `as_tensor`: shares memory with a tensor or ndarray when dtype and device already match.
#[pyfunction]
#[pyo3(signature = (data, dtype=None, device=None))]
fn as_tensor(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let opts = factory_options(dtype, device, false)?;
    let given_device = device.is_some_and(|d| !d.is_none());
    if let Ok(t) = data.cast::<PyTensor>() {
        let inner = t.borrow().inner.clone();
        let target = if given_device {
            opts.device
        } else {
            inner.device()
        };
        if opts.dtype.is_none_or(|d| d == inner.dtype()) && target == inner.device() {
            return Ok(t.clone().into_any().unbind());
        }
        let converted = inner
            .to_dtype(opts.dtype.unwrap_or(inner.dtype()))
            .and_then(|c| c.to_device(target))
            .py()?;
        return Ok(wrap(py, converted)?.into_any());
    }
    if let Ok(arr) = data.cast::<PyUntypedArray>() {
        if let Ok(t) = tensor_from_ndarray(arr) {
            let t = t
                .to_dtype(opts.dtype.unwrap_or(t.dtype()))
                .and_then(|c| c.to_device(opts.device))
                .py()?;
            return Ok(wrap(py, t)?.into_any());
        }
    }
    let t = tensor_from_data(data, opts.dtype)?
        .to_device(opts.device)
        .py()?;
    Ok(wrap(py, t)?.into_any())
}

fn shape_from(
    args: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    op: &str,
) -> PyResult<Vec<usize>> {
    let raw = match size {
        Some(s) => s.extract::<Vec<i64>>()?,
        None => extract_shape_args(args)?,
    };
    raw.iter()
        .map(|&s| {
            usize::try_from(s).map_err(|_| {
                pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "{op}(): Trying to create tensor with negative dimension {s}: {raw:?}"
                ))
            })
        })
        .collect()
}

fn filled(
    py: Python<'_>,
    shape: &[usize],
    value: Scalar,
    dtype: DType,
    device: Device,
) -> PyResult<Py<PyTensor>> {
    wrap(py, Tensor::full(shape, value, dtype, device).py()?)
}

macro_rules! fill_factory {
    ($name:ident, $value:expr) => {
        #[pyfunction]
        #[pyo3(signature = (*dims, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
        #[allow(clippy::too_many_arguments)]
        fn $name(
            py: Python<'_>,
            dims: &Bound<'_, PyTuple>,
            size: Option<&Bound<'_, PyAny>>,
            out: Option<&Bound<'_, PyAny>>,
            dtype: Option<&Bound<'_, PyAny>>,
            layout: Option<&Bound<'_, PyAny>>,
            device: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            pin_memory: bool,
        ) -> PyResult<Py<PyTensor>> {
            let result = (|| -> PyResult<Py<PyTensor>> {
            let _ = (layout, pin_memory);
            let shape = shape_from(dims, size, stringify!($name))?;
            let opts = factory_options(dtype, device, requires_grad)?;
            let t = filled(py, &shape, $value, opts.dtype.unwrap_or_else(default_float), opts.device)?;
            crate::tensor::finish_out(py, t, out)
        })();
            crate::autograd::with_requires_grad(py, result, requires_grad)
        }
    };
}
fill_factory!(zeros, Scalar::Int(0));
fill_factory!(ones, Scalar::Int(1));
fill_factory!(empty, Scalar::Int(0));

#[pyfunction]
#[pyo3(signature = (size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
fn full(
    py: Python<'_>,
    size: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = (layout, pin_memory);
        let shape = shape_from(&PyTuple::empty(py), Some(size), "full")?;
        let value = scalar_arg(fill_value, "full")?;
        let opts = factory_options(dtype, device, requires_grad)?;
        let dt = opts.dtype.unwrap_or_else(|| kind_of(value));
        let t = filled(py, &shape, value, dt, opts.device)?;
        crate::tensor::finish_out(py, t, out)
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

/// A number argument (a Python number or a one-element tensor).
pub fn scalar_arg(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Scalar> {
    if let Some(s) = extract_scalar(obj) {
        return Ok(s);
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        return t.borrow().inner.item().py();
    }
    Err(PyTypeError::new_err(format!(
        "{op}(): expected a number, got {}",
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    )))
}

macro_rules! like_factory {
    ($name:ident, $value:expr) => {
        #[pyfunction]
        #[pyo3(signature = (input, *, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
        fn $name(
            py: Python<'_>,
            input: PyRef<'_, PyTensor>,
            dtype: Option<&Bound<'_, PyAny>>,
            layout: Option<&Bound<'_, PyAny>>,
            device: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            memory_format: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Py<PyTensor>> {
            let result = (|| -> PyResult<Py<PyTensor>> {
            let _ = (layout, memory_format);
            let opts = factory_options(dtype, device, requires_grad)?;
            let dev = if device.is_some_and(|d| !d.is_none()) { opts.device } else { input.inner.device() };
            filled(py, input.inner.shape(), $value, opts.dtype.unwrap_or(input.inner.dtype()), dev)
        })();
            crate::autograd::with_requires_grad(py, result, requires_grad)
        }
    };
}
like_factory!(zeros_like, Scalar::Int(0));
like_factory!(ones_like, Scalar::Int(1));
like_factory!(empty_like, Scalar::Int(0));

#[pyfunction]
#[pyo3(signature = (input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
#[allow(clippy::too_many_arguments)]
fn full_like(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    memory_format: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = (layout, memory_format);
        let value = scalar_arg(fill_value, "full_like")?;
        let opts = factory_options(dtype, device, requires_grad)?;
        let dev = if device.is_some_and(|d| !d.is_none()) {
            opts.device
        } else {
            input.inner.device()
        };
        filled(
            py,
            input.inner.shape(),
            value,
            opts.dtype.unwrap_or(input.inner.dtype()),
            dev,
        )
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(as_tensor, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    m.add_function(wrap_pyfunction!(empty, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(zeros_like, m)?)?;
    m.add_function(wrap_pyfunction!(ones_like, m)?)?;
    m.add_function(wrap_pyfunction!(empty_like, m)?)?;
    m.add_function(wrap_pyfunction!(full_like, m)?)?;
    Ok(())
}
