//! Views and shape ops: Tensor methods plus `cat`/`stack`/`broadcast_tensors` functions.
//! Argument forms follow torch: sizes as varargs or one sequence, dims as int or tuple.

use crate::errors::IntoPyResult;
use crate::tensor::{extract_shape_args, finish_out, wrap, PyTensor};
use ferrotorch_core::autograd::functions::convert as fconv;
use ferrotorch_core::autograd::functions::shape as fs;
use ferrotorch_core::autograd::functions::shape_copy as fc;
use ferrotorch_core::ops::shape as sh;
use ferrotorch_core::ops::shape_copy as sc;
use ferrotorch_core::Tensor;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyTuple};

/// An int or a sequence of ints (`dims=` of squeeze/flip/roll, `source=` of movedim ...).
fn int_or_list(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<i64>> {
    if obj.is_instance_of::<PyInt>() {
        return Ok(vec![obj.extract::<i64>()?]);
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = &t.borrow().inner;
        return Ok(t.to_vec::<i64>());
    }
    obj.extract::<Vec<i64>>()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be an int or a tuple of ints")))
}

/// A sizes/dims argument given as varargs or through its keyword (`reshape(shape=...)`).
fn sizes_arg(
    args: &Bound<'_, PyTuple>,
    kw: Option<&Bound<'_, PyAny>>,
    op: &str,
    name: &str,
) -> PyResult<Vec<i64>> {
    match kw {
        None => extract_shape_args(args),
        Some(_) if !args.is_empty() => Err(PyTypeError::new_err(format!(
            "{op}() got multiple values for argument '{name}'"
        ))),
        Some(k) => int_or_list(k, name),
    }
}

/// Core tensors as a Python tuple of Tensors.
fn tuple_of(py: Python<'_>, ts: Vec<Tensor>) -> PyResult<Py<PyTuple>> {
    let items = ts
        .into_iter()
        .map(|t| wrap(py, t))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyTuple::new(py, items)?.unbind())
}

/// A sequence of Tensors (`cat`, `stack`, `broadcast_tensors`).
fn tensor_list(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Vec<Tensor>> {
    if obj.cast::<PyTensor>().is_ok() {
        return Err(PyTypeError::new_err(format!(
            "{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"
        )));
    }
    let mut out = Vec::new();
    for (i, item) in obj.try_iter()?.enumerate() {
        let item = item?;
        let t = item.cast::<PyTensor>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{op}(): argument 'tensors' must be tuple of Tensors, but found element of type {} \
                 at pos {i}",
                item.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        out.push(t.borrow().inner.clone());
    }
    Ok(out)
}

static T_WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
const T_DEPRECATION: &std::ffi::CStr = c"The use of `x.T` on tensors of dimension other than 2 to reverse their \
    shape is deprecated and it will throw an error in a future release. Consider `x.mT` to transpose \
    batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions \
    of a tensor.";

fn rw(py: Python<'_>, r: ferrotorch_core::Result<Tensor>) -> PyResult<Py<PyTensor>> {
    wrap(py, r.py()?)
}

#[pymethods]
impl PyTensor {
    /// `view(*shape)`: same storage, new shape (one -1 is inferred).
    #[pyo3(signature = (*shape_args, size=None))]
    fn view(
        &self,
        py: Python<'_>,
        shape_args: &Bound<'_, PyTuple>,
        size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        if shape_args.len() == 1 {
            if let Ok(d) = shape_args.get_item(0)?.cast::<crate::dtype::PyDType>() {
                return rw(py, sh::view_dtype(&self.inner, d.get().d));
            }
        }
        rw(
            py,
            fs::view(&self.inner, &sizes_arg(shape_args, size, "view", "size")?),
        )
    }
    fn view_as(&self, py: Python<'_>, other: PyRef<'_, PyTensor>) -> PyResult<Py<PyTensor>> {
        let s: Vec<i64> = other.inner.shape().iter().map(|&v| v as i64).collect();
        rw(py, fs::view(&self.inner, &s))
    }
    /// `reshape(*shape)`: a view when possible, else a copy.
    #[pyo3(signature = (*shape_args, shape=None))]
    fn reshape(
        &self,
        py: Python<'_>,
        shape_args: &Bound<'_, PyTuple>,
        shape: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            fs::reshape(
                &self.inner,
                &sizes_arg(shape_args, shape, "reshape", "shape")?,
            ),
        )
    }
    fn reshape_as(&self, py: Python<'_>, other: PyRef<'_, PyTensor>) -> PyResult<Py<PyTensor>> {
        let s: Vec<i64> = other.inner.shape().iter().map(|&v| v as i64).collect();
        rw(py, fs::reshape(&self.inner, &s))
    }
    /// `permute(*dims)`.
    #[pyo3(signature = (*dims_args, dims=None))]
    fn permute(
        &self,
        py: Python<'_>,
        dims_args: &Bound<'_, PyTuple>,
        dims: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            fs::permute(&self.inner, &sizes_arg(dims_args, dims, "permute", "dims")?),
        )
    }
    fn transpose(&self, py: Python<'_>, dim0: i64, dim1: i64) -> PyResult<Py<PyTensor>> {
        rw(py, fs::transpose(&self.inner, dim0, dim1))
    }
    fn swapaxes(&self, py: Python<'_>, axis0: i64, axis1: i64) -> PyResult<Py<PyTensor>> {
        rw(py, fs::transpose(&self.inner, axis0, axis1))
    }
    fn swapdims(&self, py: Python<'_>, dim0: i64, dim1: i64) -> PyResult<Py<PyTensor>> {
        rw(py, fs::transpose(&self.inner, dim0, dim1))
    }
    /// `t()`: transpose of a matrix; 0-d and 1-d tensors come back as they are.
    #[pyo3(name = "t")]
    fn transposed(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        rw(py, fs::t(&self.inner))
    }
    /// `T`: all dims reversed.
    #[getter(T)]
    fn big_t(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        let n = self.inner.ndim();
        if n != 2 && n != 0 && !T_WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            // torch warns once per process (TORCH_WARN_ONCE).
            let ty = py.get_type::<pyo3::exceptions::PyUserWarning>();
            PyErr::warn(py, &ty, T_DEPRECATION, 1)?;
        }
        rw(py, fs::numpy_t(&self.inner))
    }
    /// `mT`: the last two dims swapped.
    #[getter(mT)]
    fn m_t(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        let n = self.inner.ndim();
        if n < 2 {
            return Err(PyRuntimeError::new_err(format!(
                "tensor.mT is only supported on matrices or batches of matrices. Got {n}-D tensor."
            )));
        }
        rw(py, fs::transpose(&self.inner, -2, -1))
    }
    /// `mH`: conjugate transpose of the last two dims (real dtypes: `mT`).
    #[getter(mH)]
    fn m_h(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        let n = self.inner.ndim();
        if n < 2 {
            return Err(PyRuntimeError::new_err(format!(
                "tensor.mH is only supported on matrices or batches of matrices. Got {n}-D tensor."
            )));
        }
        rw(py, fs::transpose(&self.inner, -2, -1))
    }
    /// `H`: conjugate transpose of a matrix (a 0-d tensor is returned itself).
    #[getter(H)]
    fn big_h(slf: &Bound<'_, Self>) -> PyResult<Py<PyTensor>> {
        let t = slf.borrow().inner.clone();
        let n = t.ndim();
        if n != 2 && n != 0 {
            return Err(PyRuntimeError::new_err(format!(
                "tensor.H is only supported on matrices (2-D tensors). Got {n}-D tensor."
            )));
        }
        if n == 0 {
            return Ok(slf.clone().unbind());
        }
        rw(slf.py(), fs::transpose(&t, -2, -1))
    }
    /// `expand(*sizes)`: broadcast view; -1 keeps a dim.
    #[pyo3(signature = (*sizes_args, size=None))]
    fn expand(
        &self,
        py: Python<'_>,
        sizes_args: &Bound<'_, PyTuple>,
        size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            fs::expand(&self.inner, &sizes_arg(sizes_args, size, "expand", "size")?),
        )
    }
    fn expand_as(&self, py: Python<'_>, other: PyRef<'_, PyTensor>) -> PyResult<Py<PyTensor>> {
        rw(py, fs::broadcast_to(&self.inner, other.inner.shape()))
    }
    fn broadcast_to(&self, py: Python<'_>, size: Vec<i64>) -> PyResult<Py<PyTensor>> {
        rw(py, fs::expand(&self.inner, &size))
    }
    /// `squeeze(dim=None)`: dim may be an int or a tuple.
    #[pyo3(signature = (dim=None))]
    fn squeeze(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            match squeeze_dims(dim)? {
                (None, _) => fs::squeeze(&self.inner, None),
                (Some(d), true) => fs::squeeze_dim(&self.inner, d[0]),
                (Some(d), false) => fs::squeeze(&self.inner, Some(&d)),
            },
        )
    }
    fn unsqueeze(&self, py: Python<'_>, dim: i64) -> PyResult<Py<PyTensor>> {
        rw(py, fs::unsqueeze(&self.inner, dim))
    }
    #[pyo3(signature = (start_dim=0, end_dim=-1))]
    fn flatten(&self, py: Python<'_>, start_dim: i64, end_dim: i64) -> PyResult<Py<PyTensor>> {
        rw(py, fs::flatten(&self.inner, start_dim, end_dim))
    }
    fn unflatten(&self, py: Python<'_>, dim: i64, sizes: Vec<i64>) -> PyResult<Py<PyTensor>> {
        rw(py, fs::unflatten(&self.inner, dim, &sizes))
    }
    fn narrow(&self, py: Python<'_>, dim: i64, start: i64, length: i64) -> PyResult<Py<PyTensor>> {
        rw(py, fs::narrow(&self.inner, dim, start, length))
    }
    fn select(&self, py: Python<'_>, dim: i64, index: i64) -> PyResult<Py<PyTensor>> {
        rw(py, fs::select(&self.inner, dim, index))
    }
    fn unfold(
        &self,
        py: Python<'_>,
        dimension: i64,
        size: i64,
        step: i64,
    ) -> PyResult<Py<PyTensor>> {
        rw(py, fs::unfold(&self.inner, dimension, size, step))
    }
    #[pyo3(signature = (chunks, dim=0))]
    fn chunk(&self, py: Python<'_>, chunks: i64, dim: i64) -> PyResult<Py<PyTuple>> {
        tuple_of(py, fs::chunk(&self.inner, chunks, dim).py()?)
    }
    /// `split(split_size_or_sections, dim=0)`.
    #[pyo3(signature = (split_size, dim=0))]
    fn split(
        &self,
        py: Python<'_>,
        split_size: &Bound<'_, PyAny>,
        dim: i64,
    ) -> PyResult<Py<PyTuple>> {
        let parts = if split_size.is_instance_of::<PyInt>() {
            fs::split(&self.inner, split_size.extract()?, dim)
        } else {
            fs::split_with_sizes(&self.inner, &int_or_list(split_size, "split_size")?, dim)
        };
        tuple_of(py, parts.py()?)
    }
    #[pyo3(signature = (split_sizes, dim=0))]
    fn split_with_sizes(
        &self,
        py: Python<'_>,
        split_sizes: Vec<i64>,
        dim: i64,
    ) -> PyResult<Py<PyTuple>> {
        tuple_of(
            py,
            fs::split_with_sizes(&self.inner, &split_sizes, dim).py()?,
        )
    }
    /// `tensor_split(indices_or_sections, dim=0)`; also `sections=` / `indices=` keywords.
    #[pyo3(signature = (indices_or_sections=None, dim=0, *, sections=None, indices=None))]
    fn tensor_split(
        &self,
        py: Python<'_>,
        indices_or_sections: Option<&Bound<'_, PyAny>>,
        dim: i64,
        sections: Option<i64>,
        indices: Option<Vec<i64>>,
    ) -> PyResult<Py<PyTuple>> {
        let parts = match (indices_or_sections, sections, indices) {
            (_, Some(s), _) => fs::tensor_split_sections(&self.inner, s, dim),
            (_, _, Some(i)) => fs::tensor_split_indices(&self.inner, &i, dim),
            (Some(obj), _, _) => {
                let as_int = if obj.is_instance_of::<PyInt>() {
                    Some(obj.extract::<i64>()?)
                } else if let Ok(t) = obj.cast::<PyTensor>() {
                    let t = &t.borrow().inner;
                    if t.dtype().is_floating_point() || t.dtype() == ferrotorch_core::DType::Bool {
                        return Err(PyRuntimeError::new_err(format!(
                            "tensor_split expected tensor_indices_or_sections to have integer \
                             dtype, but got {}",
                            t.dtype()
                        )));
                    }
                    if t.ndim() > 1 {
                        return Err(PyRuntimeError::new_err(format!(
                            "tensor_split expected tensor_indices_or_sections to be a zero-dimensional \
                             or one-dimensional tensor, but got a tensor with {} dims",
                            t.ndim()
                        )));
                    }
                    (t.ndim() == 0).then(|| t.to_vec::<i64>()[0])
                } else {
                    None
                };
                match as_int {
                    Some(s) => fs::tensor_split_sections(&self.inner, s, dim),
                    None => {
                        fs::tensor_split_indices(&self.inner, &int_or_list(obj, "indices")?, dim)
                    }
                }
            }
            _ => {
                return Err(PyTypeError::new_err(
                    "tensor_split() missing argument 'indices_or_sections'",
                ))
            }
        };
        tuple_of(py, parts.py()?)
    }
    #[pyo3(signature = (dim=0))]
    fn unbind(&self, py: Python<'_>, dim: i64) -> PyResult<Py<PyTuple>> {
        tuple_of(py, fs::unbind(&self.inner, dim).py()?)
    }
    fn movedim(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyTensor>> {
        let (s, d) = (
            int_or_list(source, "source")?,
            int_or_list(destination, "destination")?,
        );
        rw(py, fs::movedim(&self.inner, &s, &d))
    }
    fn moveaxis(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyTensor>> {
        self.movedim(py, source, destination)
    }
    #[pyo3(signature = (offset=0, dim1=0, dim2=1))]
    fn diagonal(
        &self,
        py: Python<'_>,
        offset: i64,
        dim1: i64,
        dim2: i64,
    ) -> PyResult<Py<PyTensor>> {
        rw(py, fs::diagonal(&self.inner, offset, dim1, dim2))
    }
    #[pyo3(signature = (size, stride, storage_offset=None))]
    fn as_strided(
        &self,
        py: Python<'_>,
        size: Vec<i64>,
        stride: Vec<i64>,
        storage_offset: Option<i64>,
    ) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            fs::as_strided(&self.inner, &size, &stride, storage_offset),
        )
    }
    /// `contiguous()`: self when already contiguous, else a contiguous copy.
    #[pyo3(signature = (memory_format=None))]
    fn contiguous(
        slf: &Bound<'_, Self>,
        memory_format: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let _ = memory_format;
        let t = slf.borrow().inner.clone();
        if t.is_contiguous() {
            return Ok(slf.clone().unbind());
        }
        rw(slf.py(), fconv::contiguous(&t))
    }
    /// `flip(*dims)`.
    #[pyo3(signature = (*dims_args, dims=None))]
    fn flip(
        &self,
        py: Python<'_>,
        dims_args: &Bound<'_, PyTuple>,
        dims: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            fc::flip(&self.inner, &sizes_arg(dims_args, dims, "flip", "dims")?),
        )
    }
    fn fliplr(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        if self.inner.ndim() < 2 {
            return Err(PyRuntimeError::new_err("Input must be >= 2-d."));
        }
        rw(py, fc::flip(&self.inner, &[1]))
    }
    fn flipud(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        if self.inner.ndim() < 1 {
            return Err(PyRuntimeError::new_err("Input must be >= 1-d."));
        }
        rw(py, fc::flip(&self.inner, &[0]))
    }
    /// `rot90(k=1, dims=(0, 1))`: rotation by 90 degrees `k` times in the plane of `dims`.
    #[pyo3(signature = (k=1, dims=None))]
    fn rot90(
        &self,
        py: Python<'_>,
        k: i64,
        dims: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let dims = match dims.filter(|d| !d.is_none()) {
            Some(d) => int_or_list(d, "dims")?,
            None => vec![0, 1],
        };
        rw(py, fc::rot90(&self.inner, k, &dims))
    }
    /// `roll(shifts, dims=None)`.
    #[pyo3(signature = (shifts, dims=None))]
    fn roll(
        &self,
        py: Python<'_>,
        shifts: &Bound<'_, PyAny>,
        dims: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let s = int_or_list(shifts, "shifts")?;
        let d = match dims.filter(|d| !d.is_none()) {
            Some(d) => int_or_list(d, "dims")?,
            None => Vec::new(),
        };
        rw(py, fc::roll(&self.inner, &s, &d))
    }
    /// `repeat(*sizes)`.
    #[pyo3(signature = (*sizes_args, repeats=None))]
    fn repeat(
        &self,
        py: Python<'_>,
        sizes_args: &Bound<'_, PyTuple>,
        repeats: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            fc::repeat(
                &self.inner,
                &sizes_arg(sizes_args, repeats, "repeat", "repeats")?,
            ),
        )
    }
    /// `tile(*dims)`.
    #[pyo3(signature = (*dims_args, dims=None))]
    fn tile(
        &self,
        py: Python<'_>,
        dims_args: &Bound<'_, PyTuple>,
        dims: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        rw(
            py,
            fc::tile(&self.inner, &sizes_arg(dims_args, dims, "tile", "dims")?),
        )
    }
    /// `repeat_interleave(repeats, dim=None, *, output_size=None)`; int or tensor repeats.
    #[pyo3(signature = (repeats=None, dim=None, *, output_size=None))]
    fn repeat_interleave(
        &self,
        py: Python<'_>,
        repeats: Option<&Bound<'_, PyAny>>,
        dim: Option<i64>,
        output_size: Option<i64>,
    ) -> PyResult<Py<PyTensor>> {
        let Some(repeats) = repeats.filter(|r| !r.is_none()) else {
            // torch.repeat_interleave(repeats_tensor): the tensor itself is the repeats.
            return rw(py, sc::repeat_interleave_indices(&self.inner, output_size));
        };
        if let Ok(r) = repeats.cast::<PyTensor>() {
            let r = r.borrow().inner.clone();
            return rw(
                py,
                fc::repeat_interleave(&self.inner, sc::Repeats::Each(&r), dim, output_size),
            );
        }
        let r: i64 = repeats.extract().map_err(|_| {
            PyTypeError::new_err("repeat_interleave(): argument 'repeats' must be Tensor or int")
        })?;
        rw(
            py,
            fc::repeat_interleave(&self.inner, sc::Repeats::Same(r), dim, output_size),
        )
    }
    #[pyo3(signature = (diagonal=0, *, out=None))]
    fn tril(
        &self,
        py: Python<'_>,
        diagonal: i64,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("tril", &[&self.inner], out)?;
        finish_out(py, rw(py, fc::tril(&self.inner, diagonal))?, out)
    }
    #[pyo3(signature = (diagonal=0, *, out=None))]
    fn triu(
        &self,
        py: Python<'_>,
        diagonal: i64,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("triu", &[&self.inner], out)?;
        finish_out(py, rw(py, fc::triu(&self.inner, diagonal))?, out)
    }
    #[pyo3(signature = (diagonal=0))]
    fn tril_<'py>(slf: &Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        fc::tril_(&slf.borrow().inner, diagonal).py()?;
        Ok(slf.clone())
    }
    #[pyo3(signature = (diagonal=0))]
    fn triu_<'py>(slf: &Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        fc::triu_(&slf.borrow().inner, diagonal).py()?;
        Ok(slf.clone())
    }
}

/// The `dim` argument of `squeeze`: None, one int (`true`), or a tuple of ints.
fn squeeze_dims(dim: Option<&Bound<'_, PyAny>>) -> PyResult<(Option<Vec<i64>>, bool)> {
    match dim.filter(|d| !d.is_none()) {
        None => Ok((None, false)),
        Some(d) => Ok((Some(int_or_list(d, "dim")?), d.is_instance_of::<PyInt>())),
    }
}

/// torch refuses `out=` while recording: an op writing into `out` cannot be differentiated.
fn check_out(op: &str, inputs: &[&Tensor], out: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let Some(out) = out.filter(|o| !o.is_none()) else {
        return Ok(());
    };
    let out = out.cast::<PyTensor>().ok().map(|o| o.borrow().inner.clone());
    let mut all = inputs.to_vec();
    all.extend(out.as_ref());
    if ferrotorch_core::autograd::needs_grad(&all) {
        return Err(PyRuntimeError::new_err(format!(
            "{op}(): functions with out=... arguments don't support automatic differentiation, \
             but one of the arguments requires grad."
        )));
    }
    Ok(())
}

/// Rebinds `slf` to the view `f` makes of it (the in-place view ops `t_`, `squeeze_` ...).
fn rebind<'py>(
    slf: &Bound<'py, PyTensor>,
    f: impl FnOnce(&Tensor) -> ferrotorch_core::Result<Tensor>,
) -> PyResult<Bound<'py, PyTensor>> {
    let new = f(&slf.borrow().inner).py()?;
    slf.borrow_mut().inner = new;
    Ok(slf.clone())
}

#[pymethods]
impl PyTensor {
    fn t_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        rebind(slf, fs::inplace::t_)
    }
    fn transpose_<'py>(slf: &Bound<'py, Self>, dim0: i64, dim1: i64) -> PyResult<Bound<'py, Self>> {
        rebind(slf, |t| fs::inplace::transpose_(t, dim0, dim1))
    }
    fn swapaxes_<'py>(
        slf: &Bound<'py, Self>,
        axis0: i64,
        axis1: i64,
    ) -> PyResult<Bound<'py, Self>> {
        rebind(slf, |t| fs::inplace::transpose_(t, axis0, axis1))
    }
    fn swapdims_<'py>(slf: &Bound<'py, Self>, dim0: i64, dim1: i64) -> PyResult<Bound<'py, Self>> {
        rebind(slf, |t| fs::inplace::transpose_(t, dim0, dim1))
    }
    #[pyo3(signature = (dim=None))]
    fn squeeze_<'py>(
        slf: &Bound<'py, Self>,
        dim: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let (dims, one) = squeeze_dims(dim)?;
        rebind(slf, |t| fs::inplace::squeeze_(t, dims.as_deref(), one))
    }
    fn unsqueeze_<'py>(slf: &Bound<'py, Self>, dim: i64) -> PyResult<Bound<'py, Self>> {
        rebind(slf, |t| fs::inplace::unsqueeze_(t, dim))
    }
    #[pyo3(signature = (size, stride, storage_offset=None))]
    fn as_strided_<'py>(
        slf: &Bound<'py, Self>,
        size: Vec<i64>,
        stride: Vec<i64>,
        storage_offset: Option<i64>,
    ) -> PyResult<Bound<'py, Self>> {
        rebind(slf, |t| {
            fs::inplace::as_strided_(t, &size, &stride, storage_offset)
        })
    }
}

/// `torch.cat(tensors, dim=0, *, out=None)`.
#[pyfunction]
#[pyo3(signature = (tensors, dim=0, *, out=None))]
fn cat(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    dim: i64,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let ts = tensor_list(tensors, "cat")?;
    check_out("cat", &ts.iter().collect::<Vec<_>>(), out)?;
    let r = py.detach(|| fc::cat(&ts, dim)).py()?;
    finish_out(py, wrap(py, r)?, out)
}

/// `torch.stack(tensors, dim=0, *, out=None)`.
#[pyfunction]
#[pyo3(signature = (tensors, dim=0, *, out=None))]
fn stack(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    dim: i64,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let ts = tensor_list(tensors, "stack")?;
    check_out("stack", &ts.iter().collect::<Vec<_>>(), out)?;
    let r = py.detach(|| fc::stack(&ts, dim)).py()?;
    finish_out(py, wrap(py, r)?, out)
}

/// `torch.broadcast_tensors(*tensors)`.
#[pyfunction]
#[pyo3(signature = (*tensors))]
fn broadcast_tensors(py: Python<'_>, tensors: &Bound<'_, PyTuple>) -> PyResult<Py<PyTuple>> {
    let ts = tensor_list(tensors.as_any(), "broadcast_tensors")?;
    tuple_of(py, fs::broadcast_tensors(&ts).py()?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(broadcast_tensors, m)?)?;
    Ok(())
}
