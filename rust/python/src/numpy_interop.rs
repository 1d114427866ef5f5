//! Zero-copy exchange with NumPy: `from_numpy` wraps an ndarray's memory, `Tensor.numpy()`
//! returns an ndarray over the tensor's memory (kept alive through the array's base object).

use crate::errors::IntoPyResult;
use crate::tensor::{wrap, PyTensor};
use ferrotorch_core::layout::Layout;
use ferrotorch_core::storage::CpuBuffer;
use ferrotorch_core::{DType, Device, Tensor};
use numpy::npyffi::{self, npy_intp, NpyTypes, PY_ARRAY_API};
use numpy::prelude::*;
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;

const NPY_BOOL: i32 = 0;
const NPY_BYTE: i32 = 1;
const NPY_UBYTE: i32 = 2;
const NPY_SHORT: i32 = 3;
const NPY_INT: i32 = 5;
const NPY_LONG: i32 = 7;
const NPY_LONGLONG: i32 = 9;
const NPY_FLOAT: i32 = 11;
const NPY_DOUBLE: i32 = 12;
const NPY_HALF: i32 = 23;

fn dtype_from_typenum(num: i32) -> Option<DType> {
    Some(match num {
        NPY_BOOL => DType::Bool,
        NPY_BYTE => DType::I8,
        NPY_UBYTE => DType::U8,
        NPY_SHORT => DType::I16,
        NPY_INT => DType::I32,
        NPY_LONG | NPY_LONGLONG => DType::I64,
        NPY_FLOAT => DType::F32,
        NPY_DOUBLE => DType::F64,
        NPY_HALF => DType::F16,
        _ => return None,
    })
}

fn typenum_of(d: DType) -> Option<i32> {
    Some(match d {
        DType::Bool => NPY_BOOL,
        DType::I8 => NPY_BYTE,
        DType::U8 => NPY_UBYTE,
        DType::I16 => NPY_SHORT,
        DType::I32 => NPY_INT,
        DType::I64 => NPY_LONG,
        DType::F32 => NPY_FLOAT,
        DType::F64 => NPY_DOUBLE,
        DType::F16 => NPY_HALF,
        DType::BF16 => return None,
    })
}

/// Views an ndarray's memory as a tensor (no copy). The tensor keeps the array alive.
pub fn tensor_from_ndarray(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Tensor> {
    let descr = arr.dtype();
    let dtype = dtype_from_typenum(descr.num()).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "can't convert np.ndarray of type {}. The only supported types are: float64, \
             float32, float16, int64, int32, int16, int8, uint8, and bool.",
            descr.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })?;
    if !descr.is_native_byteorder().unwrap_or(true) {
        return Err(PyValueError::new_err("given numpy array has byte order different from the native byte order. Conversion between byte orders is currently not supported."));
    }
    let item = dtype.size() as isize;
    let mut strides = Vec::with_capacity(arr.ndim());
    for &s in arr.strides() {
        if s < 0 {
            return Err(PyValueError::new_err(
                "At least one stride in the given numpy array is negative, and tensors with \
                 negative strides are not currently supported. (You can probably work around \
                 this by making a copy of your array  with array.copy().) ",
            ));
        }
        if s % item != 0 {
            return Err(PyValueError::new_err(
                "given numpy array strides not a multiple of the element byte size. Copy the numpy array to reallocate the memory.",
            ));
        }
        strides.push(s / item);
    }
    let shape: Vec<usize> = arr.shape().to_vec();
    let layout = Layout {
        shape,
        strides,
        offset: 0,
    };
    let (_, end) = layout.storage_span();
    // SAFETY: ndarray guarantees data..data+span is valid while the array lives; the buffer
    // holds a reference to the array.
    unsafe {
        let data = (*arr.as_array_ptr()).fields.data as *mut u8;
        let owner: Py<PyAny> = arr.clone().into_any().unbind();
        let buffer = CpuBuffer::foreign(data, end * item as usize, Box::new(owner));
        Tensor::from_foreign(buffer, layout, dtype).py()
    }
}

/// An ndarray viewing `t`'s memory, with `base` (the Python tensor) as its owner.
pub fn ndarray_view<'py>(
    py: Python<'py>,
    t: &Tensor,
    base: Py<PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if t.device() != Device::Cpu {
        return Err(PyTypeError::new_err(format!(
            "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
            t.device()
        )));
    }
    let typenum = typenum_of(t.dtype()).ok_or_else(|| {
        PyTypeError::new_err(format!("Got unsupported ScalarType {}", t.dtype().name()))
    })?;
    let item = t.dtype().size() as npy_intp;
    let mut dims: Vec<npy_intp> = t.shape().iter().map(|&s| s as npy_intp).collect();
    let mut strides: Vec<npy_intp> = t.strides().iter().map(|&s| s as npy_intp * item).collect();
    // SAFETY: standard NumPy C-API calls; the data pointer stays valid because `base` (which owns
    // the storage) becomes the array's base object.
    unsafe {
        let descr = PY_ARRAY_API.PyArray_DescrFromType(py, typenum);
        let subtype = npyffi::get_type_object(py, NpyTypes::PyArray_Type);
        let raw = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            subtype,
            descr,
            dims.len() as i32,
            dims.as_mut_ptr(),
            strides.as_mut_ptr(),
            t.data_ptr_raw() as *mut std::ffi::c_void,
            npyffi::NPY_ARRAY_WRITEABLE,
            std::ptr::null_mut(),
        );
        if raw.is_null() {
            return Err(PyErr::take(py)
                .unwrap_or_else(|| PyRuntimeError::new_err("numpy(): array creation failed")));
        }
        if PY_ARRAY_API.PyArray_SetBaseObject(
            py,
            raw as *mut npyffi::PyArrayObject,
            base.into_ptr(),
        ) < 0
        {
            return Err(PyErr::take(py)
                .unwrap_or_else(|| PyRuntimeError::new_err("numpy(): setting base failed")));
        }
        Ok(Bound::from_owned_ptr(py, raw))
    }
}

#[pyfunction]
fn from_numpy(py: Python<'_>, ndarray: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
    let arr = ndarray.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected np.ndarray (got {})",
            ndarray
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    wrap(py, tensor_from_ndarray(arr)?)
}

#[pymethods]
impl PyTensor {
    /// `Tensor.numpy(force=False)`: shares memory with the tensor.
    #[pyo3(signature = (*, force=false))]
    fn numpy<'py>(slf: &Bound<'py, Self>, force: bool) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let t = slf.borrow().inner.clone();
        if !force && t.requires_grad() {
            return Err(PyRuntimeError::new_err(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() \
                 instead.",
            ));
        }
        let t = if force { t.detach() } else { t };
        if t.is_cuda() && !force {
            return Err(PyTypeError::new_err(format!(
                "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the \
                 tensor to host memory first.",
                t.device()
            )));
        }
        if force && (t.is_cuda() || t.dtype() == DType::BF16) {
            // A host copy (in float32 for bfloat16, which NumPy lacks) owns the array's memory.
            let dtype = if t.dtype() == DType::BF16 {
                DType::F32
            } else {
                t.dtype()
            };
            let host = t
                .to_device(Device::Cpu)
                .and_then(|h| h.to_dtype(dtype))
                .py()?;
            let obj = wrap(py, host.clone())?;
            return ndarray_view(py, &host, obj.into_any());
        }
        ndarray_view(py, &t, slf.clone().into_any().unbind())
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        slf: &Bound<'py, Self>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // As torch: an array of a tensor that requires grad would silently drop its history.
        let arr = Self::numpy(slf, !slf.borrow().inner.requires_grad())?;
        let arr = match dtype {
            Some(d) => arr.call_method1("astype", (d,))?,
            None => arr,
        };
        if copy == Some(true) {
            return arr.call_method0("copy");
        }
        Ok(arr)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(from_numpy, m)?)
}
