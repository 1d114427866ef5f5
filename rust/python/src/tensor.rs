//! The `Tensor` pyclass and the conversions every op binding shares.

use crate::device::PyDevice;
use crate::dtype::{dtype_object, PyDType};
use crate::errors::IntoPyResult;
use ferrotorch_core::{Scalar, Tensor};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyTuple};
use pyo3::BoundObject;

/// `ferrotorch.Tensor`. Python subclasses it (`nn.Parameter`); ops return this class itself, so
/// no Python constructor runs on the hot path. No per-instance `__dict__`: it would make every
/// tensor a GC-tracked object and let the cyclic collector run during op-heavy loops (Python
/// subclasses still get a `__dict__` of their own). `inner` is replaced, never mutated in place, by
/// operations that rebind a tensor to new memory (`out=` resizing, `.data = ...`).
#[pyclass(name = "Tensor", module = "ferrotorch", subclass, weakref)]
pub struct PyTensor {
    pub inner: Tensor,
}

impl PyTensor {
    pub fn t(&self) -> &Tensor {
        &self.inner
    }
}

/// Wraps a core tensor as a new Python `Tensor`.
pub fn wrap(py: Python<'_>, t: Tensor) -> PyResult<Py<PyTensor>> {
    Py::new(py, PyTensor { inner: t })
}

/// A Python number as a core scalar, or None if `obj` is not a number. bool is checked before
/// int because `bool` subclasses `int` in Python.
pub fn extract_scalar(obj: &Bound<'_, PyAny>) -> Option<Scalar> {
    if obj.is_instance_of::<PyBool>() {
        return obj.extract::<bool>().ok().map(Scalar::Bool);
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().ok().map(Scalar::Int);
    }
    if obj.is_instance_of::<PyFloat>() {
        return obj.extract::<f64>().ok().map(Scalar::Float);
    }
    // NumPy scalars (and 0-d arrays) say what they are through their dtype's kind.
    if let Ok(kind) = obj
        .getattr("dtype")
        .and_then(|d| d.getattr("kind"))
        .and_then(|k| k.extract::<String>())
    {
        return match kind.as_str() {
            "b" => obj.extract::<bool>().ok().map(Scalar::Bool),
            "i" | "u" => obj
                .call_method0("__int__")
                .and_then(|i| i.extract::<i64>())
                .ok()
                .map(Scalar::Int),
            "f" => obj.extract::<f64>().ok().map(Scalar::Float),
            _ => None,
        };
    }
    // Other number-likes: integers implement __index__, reals __float__.
    if obj.hasattr("__index__").unwrap_or(false) {
        return obj.extract::<i64>().ok().map(Scalar::Int);
    }
    obj.extract::<f64>().ok().map(Scalar::Float)
}

/// An op operand that may be a Tensor or a Python number (a wrapped 0-d tensor).
pub fn tensor_or_scalar(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.borrow().inner.clone());
    }
    if let Some(s) = extract_scalar(obj) {
        return Tensor::wrapped_scalar(s).py();
    }
    Err(PyTypeError::new_err(format!(
        "{op}(): argument 'other' must be Tensor or Number, not {}",
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    )))
}

/// Like [`tensor_or_scalar`] but returns `None` instead of raising, for binary dunder methods
/// that must return `NotImplemented` on unknown types.
pub fn maybe_operand(obj: &Bound<'_, PyAny>) -> Option<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Some(t.borrow().inner.clone());
    }
    extract_scalar(obj).and_then(|s| Tensor::wrapped_scalar(s).ok())
}

/// A size argument given as varargs (`view(2, 3)`), a tuple/list (`view((2, 3))`) or a `Size`.
pub fn extract_shape_args(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    if args.len() == 1 {
        let first = args.get_item(0)?;
        if !first.is_instance_of::<PyInt>() {
            return first.extract::<Vec<i64>>().map_err(|_| {
                PyTypeError::new_err("size must be a tuple of ints or ints given as arguments")
            });
        }
    }
    args.extract::<Vec<i64>>().map_err(|_| {
        PyTypeError::new_err("size must be a tuple of ints or ints given as arguments")
    })
}

/// The Python value of a core scalar.
pub fn scalar_to_py(py: Python<'_>, s: Scalar) -> PyResult<Py<PyAny>> {
    Ok(match s {
        Scalar::Bool(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
        Scalar::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Scalar::Float(f) => f.into_pyobject(py)?.into_any().unbind(),
    })
}

#[pymethods]
impl PyTensor {
    /// `Tensor(data=None, requires_grad=False)`: a tensor aliasing `data` outside the graph
    /// (shared memory and version counter), or an empty one of the default dtype. It is what
    /// subclasses build on: `nn.Parameter(t)` is `Tensor.__new__(Parameter, t, True)`.
    #[new]
    #[pyo3(signature = (data=None, requires_grad=false))]
    fn py_new(data: Option<PyRef<'_, PyTensor>>, requires_grad: bool) -> PyResult<Self> {
        let inner = match data {
            Some(d) => d.inner.detach(),
            None => Tensor::empty(
                &[0],
                ferrotorch_core::dtype::default_float(),
                ferrotorch_core::Device::Cpu,
            )
            .py()?,
        };
        inner.set_requires_grad(requires_grad).py()?;
        Ok(PyTensor { inner })
    }
    #[getter]
    fn dtype(&self, py: Python<'_>) -> Py<PyDType> {
        dtype_object(py, self.inner.dtype())
    }
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice::of(self.inner.device())
    }
    #[getter]
    fn is_cuda(&self) -> bool {
        matches!(self.inner.device(), ferrotorch_core::Device::Cuda(_))
    }
    #[getter]
    fn is_cpu(&self) -> bool {
        !self.is_cuda()
    }
    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }
    fn dim(&self) -> usize {
        self.inner.ndim()
    }
    fn ndimension(&self) -> usize {
        self.inner.ndim()
    }
    fn numel(&self) -> usize {
        self.inner.numel()
    }
    fn nelement(&self) -> usize {
        self.inner.numel()
    }
    fn element_size(&self) -> usize {
        self.inner.dtype().size()
    }
    #[getter]
    fn itemsize(&self) -> usize {
        self.inner.dtype().size()
    }
    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.numel() * self.inner.dtype().size()
    }
    fn is_floating_point(&self) -> bool {
        self.inner.dtype().is_floating_point()
    }
    fn is_complex(&self) -> bool {
        false
    }
    fn is_contiguous(&self) -> bool {
        self.inner.is_contiguous()
    }
    fn storage_offset(&self) -> usize {
        self.inner.offset()
    }
    fn data_ptr(&self) -> usize {
        self.inner.address()
    }
    #[pyo3(signature = (dim=None))]
    fn stride(&self, py: Python<'_>, dim: Option<i64>) -> PyResult<Py<PyAny>> {
        let strides = self.inner.strides();
        match dim {
            Some(d) => {
                if strides.is_empty() {
                    return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                        "stride(): Dimension specified as {d} but tensor has no dimensions"
                    )));
                }
                let d = ferrotorch_core::layout::wrap_dim(d, strides.len(), "stride").py()?;
                Ok(strides[d].into_pyobject(py)?.into_any().unbind())
            }
            None => Ok(PyTuple::new(py, strides)?.into_any().unbind()),
        }
    }
    /// Raw shape as a tuple; the Python layer wraps it in `ferrotorch.Size`.
    #[getter]
    fn _shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.shape())
    }
    fn item(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        scalar_to_py(py, self.inner.item().py()?)
    }
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }
}

/// Nested Python lists (or a number for 0-d) with the tensor's values.
pub fn tolist(py: Python<'_>, t: &Tensor) -> PyResult<Py<PyAny>> {
    use ferrotorch_core::DType;
    fn build<'py, T: Copy + IntoPyObject<'py>>(
        py: Python<'py>,
        shape: &[usize],
        vals: &[T],
    ) -> PyResult<Bound<'py, PyAny>> {
        if shape.is_empty() {
            return Ok(vals[0]
                .into_pyobject(py)
                .map_err(Into::into)?
                .into_any()
                .into_bound());
        }
        let step = shape[1..].iter().product::<usize>();
        let items = (0..shape[0])
            .map(|i| build(py, &shape[1..], &vals[i * step..(i + 1) * step]))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(pyo3::types::PyList::new(py, items)?.into_any())
    }
    let shape = t.shape();
    let out = match t.dtype() {
        d if d.is_floating_point() => build(py, shape, &t.to_vec::<f64>())?,
        DType::Bool => build(py, shape, &t.to_vec::<bool>())?,
        _ => build(py, shape, &t.to_vec::<i64>())?,
    };
    Ok(out.unbind())
}

/// Implements `out=`: writes `result` into the tensor `out` (converting dtype when torch
/// allows it, rebinding `out` to new memory when the shape differs) and returns `out`.
pub fn finish_out(
    py: Python<'_>,
    result: Py<PyTensor>,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let Some(out) = out.filter(|o| !o.is_none()) else {
        return Ok(result);
    };
    let out = out
        .cast::<PyTensor>()
        .map_err(|_| PyTypeError::new_err("out= must be a Tensor"))?;
    let res = result.bind(py).borrow().inner.clone();
    write_into(&mut out.borrow_mut(), &res, "out")?;
    Ok(out.clone().unbind())
}

/// Writes `value` into `dst` as `out=` does.
pub fn write_into(dst: &mut PyTensor, value: &Tensor, op: &str) -> PyResult<()> {
    let od = dst.inner.dtype();
    if !ferrotorch_core::dtype::can_cast(value.dtype(), od) {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "{op}: result type {} can't be cast to the desired output type {}",
            value.dtype().name(),
            od.name()
        )));
    }
    if dst.inner.shape() == value.shape() {
        dst.inner.copy_(value).py()
    } else {
        // torch resizes `out` in place (on its own device); a rebinding to fresh memory is the
        // equivalent here.
        let fresh = Tensor::empty(value.shape(), od, dst.inner.device()).py()?;
        fresh.copy_(value).py()?;
        dst.inner = fresh;
        Ok(())
    }
}

#[pyfunction]
fn _tolist(py: Python<'_>, t: PyRef<'_, PyTensor>) -> PyResult<Py<PyAny>> {
    tolist(py, &t.inner)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTensor>()?;
    m.add_function(wrap_pyfunction!(_tolist, m)?)
}
