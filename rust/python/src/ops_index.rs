//! Indexing: `Tensor.__getitem__`/`__setitem__` (index tuples parsed here, applied in core)
//! and the index ops (`gather`, `scatter*`, `index_*`, `masked_*`, `take*`, `nonzero`,
//! `bincount`, `searchsorted`, `bucketize`, `one_hot`).

use crate::autograd::check_out;
use crate::creation::{scalar_arg, tensor_from_data};
use crate::errors::IntoPyResult;
use crate::numpy_interop::tensor_from_ndarray;
use crate::tensor::{extract_scalar, finish_out, wrap, PyTensor};
use ferrotorch_core::autograd::functions::index::{self as fi, index};
use ferrotorch_core::autograd::functions::{
    index_gather as ig, index_mask as im, index_scatter as sc,
};
use ferrotorch_core::ops::index::IndexItem;
use ferrotorch_core::ops::index_gather::Reduce;
use ferrotorch_core::ops::{index_mask as raw_mask, index_search as is};
use ferrotorch_core::{DType, Scalar, Tensor};
use numpy::PyUntypedArray;
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyInt, PyList, PySlice, PyTuple};

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// A slice bound: `None`, or an integer clamped into i64 (Python ints may be larger).
fn slice_bound(obj: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if obj.is_none() {
        return Ok(None);
    }
    match obj.extract::<i64>() {
        Ok(v) => Ok(Some(v)),
        Err(_) if obj.is_instance_of::<PyInt>() => {
            Ok(Some(if obj.gt(0)? { i64::MAX } else { i64::MIN }))
        }
        Err(_) => match obj.extract::<PyRef<'_, PyTensor>>() {
            Ok(t) => Ok(Some(t.inner.item().py()?.to_i64())),
            Err(_) => Err(PyTypeError::new_err(
                "slice indices must be integers or None or have an __index__ method",
            )),
        },
    }
}

/// A list or nested sequence as an index tensor; an empty list is an empty int64 index.
fn sequence_index(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let t = tensor_from_data(obj, None)?;
    if !t.dtype().is_floating_point() {
        return Ok(t);
    }
    if t.numel() == 0 {
        return t.to_dtype(DType::I64).py();
    }
    // NumPy integer scalars inside a list read as floats above; NumPy itself keeps them ints.
    let arr = obj.py().import("numpy")?.call_method1("asarray", (obj,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if matches!(kind.as_str(), "i" | "u" | "b") {
        if let Ok(a) = arr.cast::<PyUntypedArray>() {
            return tensor_from_ndarray(a);
        }
    }
    Err(PyIndexError::new_err(
        "tensors used as indices must be long, int, byte or bool tensors",
    ))
}

fn parse_item(obj: &Bound<'_, PyAny>) -> PyResult<IndexItem> {
    if obj.is_none() {
        return Ok(IndexItem::NewAxis);
    }
    if obj.is_instance_of::<PyEllipsis>() {
        return Ok(IndexItem::Ellipsis);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(IndexItem::Bool(obj.extract::<bool>()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(i) => Ok(IndexItem::Int(i)),
            Err(_) => Err(PyIndexError::new_err(format!(
                "index {obj} is out of bounds"
            ))),
        };
    }
    if let Ok(s) = obj.cast::<PySlice>() {
        return Ok(IndexItem::Slice(
            slice_bound(&s.getattr("start")?)?,
            slice_bound(&s.getattr("stop")?)?,
            slice_bound(&s.getattr("step")?)?,
        ));
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(IndexItem::Tensor(t.borrow().inner.clone()));
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        return Ok(IndexItem::Tensor(tensor_from_ndarray(arr)?));
    }
    // NumPy bools (`np.True_`) index like Python bools.
    if let Ok(b) = obj.extract::<bool>() {
        return Ok(IndexItem::Bool(b));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return Ok(IndexItem::Tensor(sequence_index(obj)?));
    }
    // NumPy integer scalars and other objects with __index__ (but not floats).
    if obj.hasattr("__index__")? {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(IndexItem::Int(i));
        }
    }
    Err(PyIndexError::new_err(format!(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid \
         indices (got {})",
        type_name(obj)
    )))
}

/// The items of `t[key]`: a tuple is several items, anything else one.
fn parse_key(key: &Bound<'_, PyAny>) -> PyResult<Vec<IndexItem>> {
    match key.cast::<PyTuple>() {
        Ok(tup) => tup.iter().map(|o| parse_item(&o)).collect(),
        Err(_) => Ok(vec![parse_item(key)?]),
    }
}

/// The `value=` of fills and the `src` of scatter: a tensor (which may carry a gradient) or a
/// number.
enum Value {
    Tensor(Tensor),
    Number(Scalar),
}

/// A number or a 0-d tensor argument (`value=` of fills).
fn value_arg(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Value> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.borrow().inner.clone();
        if t.ndim() != 0 {
            return Err(PyRuntimeError::new_err(format!(
                "{op} only supports a 0-dimensional value tensor, but got tensor with {} \
                 dimension(s).",
                t.ndim()
            )));
        }
        return Ok(Value::Tensor(t));
    }
    scalar_arg(obj, op).map(Value::Number)
}

/// `src` of scatter: a tensor, or a number given positionally or as `value=`.
fn scatter_src(
    src: Option<&Bound<'_, PyAny>>,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Value> {
    let obj = match (src, value) {
        (Some(s), None) | (None, Some(s)) => s,
        (Some(_), Some(_)) => {
            return Err(PyTypeError::new_err("scatter(): got both src and value"))
        }
        (None, None) => {
            return Err(PyTypeError::new_err(
                "scatter(): missing required argument 'src' or 'value'",
            ))
        }
    };
    if let Ok(s) = obj.cast::<PyTensor>() {
        return Ok(Value::Tensor(s.borrow().inner.clone()));
    }
    match extract_scalar(obj) {
        Some(v) => Ok(Value::Number(v)),
        None => Err(PyTypeError::new_err(format!(
            "scatter(): argument 'src' must be Tensor or Number, not {}",
            type_name(obj)
        ))),
    }
}

fn tensor_arg(obj: &Bound<'_, PyAny>, op: &str, name: &str) -> PyResult<Tensor> {
    match obj.cast::<PyTensor>() {
        Ok(t) => Ok(t.borrow().inner.clone()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{op}(): argument '{name}' must be Tensor, not {}",
            type_name(obj)
        ))),
    }
}

/// Checks an in-place op may write a result of `from` into self.
fn check_inplace(t: &Tensor, from: DType, op: &str) -> PyResult<()> {
    if ferrotorch_core::dtype::can_cast(from, t.dtype()) {
        Ok(())
    } else {
        Err(PyRuntimeError::new_err(format!(
            "{op}: result type {} can't be cast to the desired output type {}",
            from.name(),
            t.dtype().name()
        )))
    }
}

type Out<'a, 'py> = Option<&'a Bound<'py, PyAny>>;

#[pymethods]
impl PyTensor {
    /// `self[key]`: ints, slices, None, Ellipsis, bools, integer/bool tensors, lists and NumPy arrays.
    /// Basic indexing returns a view; advanced indexing returns a copy.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        // Fast path: a single int is a select view.
        let items = if key.is_exact_instance_of::<PyInt>() {
            vec![IndexItem::Int(
                key.extract::<i64>()
                    .map_err(|_| PyIndexError::new_err("index out of range"))?,
            )]
        } else {
            parse_key(key)?
        };
        let t = self.inner.clone();
        wrap(py, py.detach(|| index(&t, &items)).py()?)
    }

    /// `self[key] = value`: writes a number or a tensor (broadcast, dtype converted) in place.
    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let items = parse_key(key)?;
        let t = &self.inner;
        if let Ok(v) = value.cast::<PyTensor>() {
            let v = v.borrow().inner.clone();
            return fi::set_item(t, &items, &v).py();
        }
        if let Some(s) = extract_scalar(value) {
            return fi::set_item_scalar(t, &items, s).py();
        }
        if let Ok(arr) = value.cast::<PyUntypedArray>() {
            return fi::set_item(t, &items, &tensor_from_ndarray(arr)?).py();
        }
        Err(PyTypeError::new_err(format!(
            "can't assign a {} to a {} tensor",
            type_name(value),
            t.dtype()
        )))
    }

    /// `index_select(dim, index)`.
    #[pyo3(signature = (dim, index, *, out=None))]
    fn index_select(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        out_guard("index_select", out, &[&self.inner])?;
        finish_out(
            py,
            wrap(py, ig::index_select(&self.inner, dim, &index.inner).py()?)?,
            out,
        )
    }

    /// gather(dim, index) -> Tensor: `out[i][j] = self[index[i][j]][j]` for dim 0.
    #[pyo3(signature = (dim, index, *, sparse_grad=false, out=None))]
    fn gather(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        sparse_grad: bool,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        let _ = sparse_grad;
        out_guard("gather", out, &[&self.inner])?;
        finish_out(
            py,
            wrap(py, ig::gather(&self.inner, dim, &index.inner).py()?)?,
            out,
        )
    }

    /// scatter(dim, index, src, *, reduce=None) -> Tensor: out-of-place `scatter_`.
    #[pyo3(signature = (dim, index, src=None, *, value=None, reduce=None, out=None))]
    #[allow(clippy::too_many_arguments)]
    fn scatter(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        src: Out<'_, '_>,
        value: Out<'_, '_>,
        reduce: Option<&str>,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        let s = scatter_src(src, value)?;
        let r = Reduce::for_scatter(reduce).py()?;
        let (t, i) = (&self.inner, &index.inner);
        let res = match &s {
            Value::Tensor(s) => {
                out_guard("scatter", out, &[t, s])?;
                sc::scatter_reduce(t, dim, i, s, r, true)
            }
            Value::Number(v) => {
                out_guard("scatter", out, &[t])?;
                sc::scatter_value_reduce(t, dim, i, *v, r)
            }
        };
        finish_out(py, wrap(py, res.py()?)?, out)
    }

    /// scatter_(dim, index, src, *, reduce=None) -> Tensor: writes `src` (a tensor or number)
    /// at `index` along `dim`; `reduce` is 'add' or 'multiply'.
    #[pyo3(signature = (dim, index, src=None, *, value=None, reduce=None))]
    fn scatter_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        src: Out<'_, 'py>,
        value: Out<'_, 'py>,
        reduce: Option<&str>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        let r = Reduce::for_scatter(reduce).py()?;
        match scatter_src(src, value)? {
            Value::Tensor(s) => sc::scatter_(&t, dim, &index.inner, &s, r),
            Value::Number(v) => sc::scatter_value_(&t, dim, &index.inner, v, r),
        }
        .py()?;
        Ok(slf.clone())
    }

    /// scatter_add(dim, index, src) -> Tensor: out-of-place `scatter_add_`.
    #[pyo3(signature = (dim, index, src, *, out=None))]
    fn scatter_add(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        src: PyRef<'_, PyTensor>,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        out_guard("scatter_add", out, &[&self.inner, &src.inner])?;
        let r = sc::scatter_add(&self.inner, dim, &index.inner, &src.inner).py()?;
        finish_out(py, wrap(py, r)?, out)
    }

    /// scatter_add_(dim, index, src) -> Tensor: adds `src` at `index` along `dim`.
    fn scatter_add_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        src: PyRef<'_, PyTensor>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        sc::scatter_add_(&t, dim, &index.inner, &src.inner).py()?;
        Ok(slf.clone())
    }

    /// scatter_reduce(dim, index, src, reduce, *, include_self=True) -> Tensor.
    #[pyo3(signature = (dim, index, src, reduce, *, include_self=true, out=None))]
    #[allow(clippy::too_many_arguments)]
    fn scatter_reduce(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        src: PyRef<'_, PyTensor>,
        reduce: &str,
        include_self: bool,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        let r = Reduce::for_scatter_reduce(reduce).py()?;
        out_guard("scatter_reduce", out, &[&self.inner, &src.inner])?;
        let res =
            sc::scatter_reduce(&self.inner, dim, &index.inner, &src.inner, r, include_self).py()?;
        finish_out(py, wrap(py, res)?, out)
    }

    /// scatter_reduce_(dim, index, src, reduce, *, include_self=True) -> Tensor: reduces
    /// ('sum', 'prod', 'mean', 'amax', 'amin') `src` into self at `index` along `dim`.
    #[pyo3(signature = (dim, index, src, reduce, *, include_self=true))]
    fn scatter_reduce_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        src: PyRef<'_, PyTensor>,
        reduce: &str,
        include_self: bool,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        let r = Reduce::for_scatter_reduce(reduce).py()?;
        sc::scatter_reduce_(&t, dim, &index.inner, &src.inner, r, include_self).py()?;
        Ok(slf.clone())
    }

    /// index_add(dim, index, source, *, alpha=1) -> Tensor: out-of-place `index_add_`.
    #[pyo3(signature = (dim, index, source, *, alpha=None, out=None))]
    fn index_add(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
        alpha: Out<'_, '_>,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        let alpha = alpha
            .map(|a| scalar_arg(a, "index_add"))
            .transpose()?
            .unwrap_or(Scalar::Int(1));
        out_guard("index_add", out, &[&self.inner, &source.inner])?;
        let res = ig::index_add(&self.inner, dim, &index.inner, &source.inner, alpha).py()?;
        finish_out(py, wrap(py, res)?, out)
    }

    /// index_add_(dim, index, source, *, alpha=1) -> Tensor: adds `alpha * source` to the
    /// slices of self selected by `index` along `dim`.
    #[pyo3(signature = (dim, index, source, *, alpha=None))]
    fn index_add_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
        alpha: Out<'_, 'py>,
    ) -> PyResult<Bound<'py, Self>> {
        let alpha = alpha
            .map(|a| scalar_arg(a, "index_add_"))
            .transpose()?
            .unwrap_or(Scalar::Int(1));
        let t = slf.borrow().inner.clone();
        ig::index_add_(&t, dim, &index.inner, &source.inner, alpha).py()?;
        Ok(slf.clone())
    }

    /// index_copy(dim, index, source) -> Tensor: out-of-place `index_copy_`.
    fn index_copy(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
    ) -> PyResult<Py<PyTensor>> {
        wrap(
            py,
            ig::index_copy(&self.inner, dim, &index.inner, &source.inner).py()?,
        )
    }

    /// index_copy_(dim, index, source) -> Tensor: copies `source` into the slices selected by `index`.
    fn index_copy_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        ig::index_copy_(&t, dim, &index.inner, &source.inner).py()?;
        Ok(slf.clone())
    }

    /// index_fill(dim, index, value) -> Tensor: out-of-place `index_fill_`.
    fn index_fill(
        &self,
        py: Python<'_>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyTensor>> {
        let (t, i) = (&self.inner, &index.inner);
        let res = match value_arg(value, "index_fill_")? {
            Value::Tensor(v) => ig::index_fill_tensor(t, dim, i, &v),
            Value::Number(v) => ig::index_fill(t, dim, i, v),
        };
        wrap(py, res.py()?)
    }

    /// index_fill_(dim, index, value) -> Tensor: fills the slices selected by `index` with `value`.
    fn index_fill_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        index: PyRef<'_, PyTensor>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        match value_arg(value, "index_fill_")? {
            Value::Tensor(v) => ig::index_fill_tensor_(&t, dim, &index.inner, &v),
            Value::Number(v) => ig::index_fill_(&t, dim, &index.inner, v),
        }
        .py()?;
        Ok(slf.clone())
    }

    /// index_put(indices, values, accumulate=False) -> Tensor: out-of-place `index_put_`.
    #[pyo3(signature = (indices, values, accumulate=false))]
    fn index_put(
        &self,
        py: Python<'_>,
        indices: &Bound<'_, PyAny>,
        values: PyRef<'_, PyTensor>,
        accumulate: bool,
    ) -> PyResult<Py<PyTensor>> {
        let idx = index_list(indices)?;
        wrap(
            py,
            fi::index_put(&self.inner, &idx, &values.inner, accumulate).py()?,
        )
    }

    /// index_put_(indices, values, accumulate=False) -> Tensor: `self[indices] = values`
    /// (or `+=` with `accumulate=True`).
    #[pyo3(signature = (indices, values, accumulate=false))]
    fn index_put_<'py>(
        slf: &Bound<'py, Self>,
        indices: &Bound<'py, PyAny>,
        values: PyRef<'_, PyTensor>,
        accumulate: bool,
    ) -> PyResult<Bound<'py, Self>> {
        let idx = index_list(indices)?;
        let t = slf.borrow().inner.clone();
        fi::index_put_(&t, &idx, &values.inner, accumulate).py()?;
        Ok(slf.clone())
    }

    /// masked_fill(mask, value) -> Tensor: out-of-place `masked_fill_`.
    fn masked_fill(
        &self,
        py: Python<'_>,
        mask: PyRef<'_, PyTensor>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyTensor>> {
        let res = match value_arg(value, "masked_fill_")? {
            Value::Tensor(v) => im::masked_fill_tensor(&self.inner, &mask.inner, &v),
            Value::Number(v) => im::masked_fill(&self.inner, &mask.inner, v),
        };
        wrap(py, res.py()?)
    }

    /// masked_fill_(mask, value) -> Tensor: fills self with `value` where the bool `mask` is True.
    fn masked_fill_<'py>(
        slf: &Bound<'py, Self>,
        mask: PyRef<'_, PyTensor>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        match value_arg(value, "masked_fill_")? {
            Value::Tensor(v) => im::masked_fill_tensor_(&t, &mask.inner, &v),
            Value::Number(v) => im::masked_fill_(&t, &mask.inner, v),
        }
        .py()?;
        Ok(slf.clone())
    }

    /// masked_select(mask) -> Tensor: the 1-D tensor of the elements where `mask` is True.
    #[pyo3(signature = (mask, *, out=None))]
    fn masked_select(
        &self,
        py: Python<'_>,
        mask: PyRef<'_, PyTensor>,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        out_guard("masked_select", out, &[&self.inner])?;
        finish_out(
            py,
            wrap(py, im::masked_select(&self.inner, &mask.inner).py()?)?,
            out,
        )
    }

    /// masked_scatter(mask, source) -> Tensor: out-of-place `masked_scatter_`.
    fn masked_scatter(
        &self,
        py: Python<'_>,
        mask: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
    ) -> PyResult<Py<PyTensor>> {
        wrap(
            py,
            im::masked_scatter(&self.inner, &mask.inner, &source.inner).py()?,
        )
    }

    /// masked_scatter_(mask, source) -> Tensor: copies `source`'s elements, in order, to the
    /// positions where `mask` is True.
    fn masked_scatter_<'py>(
        slf: &Bound<'py, Self>,
        mask: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        check_inplace(&t, source.inner.dtype(), "masked_scatter_")?;
        im::masked_scatter_(&t, &mask.inner, &source.inner).py()?;
        Ok(slf.clone())
    }

    /// take(index) -> Tensor: the elements of self, as if flattened, at `index`.
    #[pyo3(signature = (index, *, out=None))]
    fn take(
        &self,
        py: Python<'_>,
        index: PyRef<'_, PyTensor>,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        out_guard("take", out, &[&self.inner])?;
        finish_out(
            py,
            wrap(py, ig::take(&self.inner, &index.inner).py()?)?,
            out,
        )
    }

    /// take_along_dim(indices, dim=None) -> Tensor: `gather` after broadcasting; flat without `dim`.
    #[pyo3(signature = (indices, dim=None, *, out=None))]
    fn take_along_dim(
        &self,
        py: Python<'_>,
        indices: PyRef<'_, PyTensor>,
        dim: Option<i64>,
        out: Out<'_, '_>,
    ) -> PyResult<Py<PyTensor>> {
        out_guard("take_along_dim", out, &[&self.inner])?;
        finish_out(
            py,
            wrap(
                py,
                ig::take_along_dim(&self.inner, &indices.inner, dim).py()?,
            )?,
            out,
        )
    }

    /// nonzero(*, as_tuple=False) -> Tensor: the `[n, ndim]` coordinates of the non-zero elements
    /// (a tuple of `ndim` 1-D tensors with `as_tuple=True`).
    #[pyo3(signature = (*, as_tuple=false, out=None))]
    fn nonzero(&self, py: Python<'_>, as_tuple: bool, out: Out<'_, '_>) -> PyResult<Py<PyAny>> {
        let nz = raw_mask::nonzero(&self.inner).py()?;
        if !as_tuple {
            return Ok(finish_out(py, wrap(py, nz)?, out)?.into_any());
        }
        // A 0-d input is treated as 1-D: one column of zeros, one row per non-zero value.
        let (nz, cols) = if self.inner.ndim() == 0 {
            (
                Tensor::zeros(&[nz.shape()[0], 1], DType::I64, nz.device()).py()?,
                1,
            )
        } else {
            let c = nz.shape()[1];
            (nz, c)
        };
        let parts = (0..cols)
            .map(|j| {
                let c = ferrotorch_core::ops::shape::select(&nz, 1, j as i64).py()?;
                wrap(py, c.contiguous().py()?)
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, parts)?.into_any().unbind())
    }

    /// argwhere() -> Tensor: `nonzero()`.
    fn argwhere(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        wrap(py, raw_mask::nonzero(&self.inner).py()?)
    }

    /// bincount(weights=None, minlength=0) -> Tensor: counts of each non-negative integer.
    #[pyo3(signature = (weights=None, minlength=0))]
    fn bincount(
        &self,
        py: Python<'_>,
        weights: Option<PyRef<'_, PyTensor>>,
        minlength: i64,
    ) -> PyResult<Py<PyTensor>> {
        let w = weights.as_ref().map(|w| &w.inner);
        wrap(py, ig::bincount(&self.inner, w, minlength).py()?)
    }

    /// put(index, source, accumulate=False) -> Tensor: out-of-place `put_`.
    #[pyo3(signature = (index, source, accumulate=false))]
    fn put(
        &self,
        py: Python<'_>,
        index: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
        accumulate: bool,
    ) -> PyResult<Py<PyTensor>> {
        wrap(
            py,
            ig::put(&self.inner, &index.inner, &source.inner, accumulate).py()?,
        )
    }

    /// put_(index, source, accumulate=False) -> Tensor: writes `source` into self, treated as
    /// flattened, at `index` (adds with `accumulate=True`).
    #[pyo3(signature = (index, source, accumulate=false))]
    fn put_<'py>(
        slf: &Bound<'py, Self>,
        index: PyRef<'_, PyTensor>,
        source: PyRef<'_, PyTensor>,
        accumulate: bool,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        ig::put_(&t, &index.inner, &source.inner, accumulate).py()?;
        Ok(slf.clone())
    }
}

/// torch's refusal of `out=` when the result would need a graph (no-op without `out=`).
fn out_guard(op: &str, out: Out<'_, '_>, inputs: &[&Tensor]) -> PyResult<()> {
    match out {
        Some(o) if !o.is_none() => check_out(op, inputs),
        _ => Ok(()),
    }
}

/// The `indices` of index_put: a tuple or list of tensors (or None for a full slice).
fn index_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Option<Tensor>>> {
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| {
            PyTypeError::new_err("index_put(): argument 'indices' must be tuple of Tensors")
        })?
        .collect::<PyResult<_>>()?;
    items
        .iter()
        .map(|o| {
            if o.is_none() {
                Ok(None)
            } else {
                tensor_arg(o, "index_put", "indices").map(Some)
            }
        })
        .collect()
}

/// Resolves `right=` and `side=` of searchsorted.
fn side_arg(right: bool, side: Option<&str>) -> PyResult<bool> {
    match side {
        None => Ok(right),
        Some("left") if right => Err(PyRuntimeError::new_err(
            "torch.searchsorted(): side and right can't be set to opposites, got side of left \
             while right was True",
        )),
        Some("left") => Ok(false),
        Some("right") => Ok(true),
        Some(s) => Err(PyRuntimeError::new_err(format!(
            "torch.searchsorted(): side can only be 'left' or 'right' but got {s}"
        ))),
    }
}

/// searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None) -> Tensor:
/// the indices where `input` would be inserted to keep each row of `sorted_sequence` sorted.
#[pyfunction]
#[pyo3(signature = (sorted_sequence, input, *, out_int32=false, right=false, side=None, out=None, sorter=None))]
#[allow(clippy::too_many_arguments)]
fn searchsorted(
    py: Python<'_>,
    sorted_sequence: PyRef<'_, PyTensor>,
    input: &Bound<'_, PyAny>,
    out_int32: bool,
    right: bool,
    side: Option<&str>,
    out: Out<'_, '_>,
    sorter: Option<PyRef<'_, PyTensor>>,
) -> PyResult<Py<PyTensor>> {
    let right = side_arg(right, side)?;
    let values = match input.cast::<PyTensor>() {
        Ok(t) => t.borrow().inner.clone(),
        Err(_) => {
            if sorted_sequence.inner.ndim() != 1 {
                return Err(PyRuntimeError::new_err(format!(
                    "torch.searchsorted(): input value can be a scalar only when boundaries \
                     tensor dimension is 1, but we got boundaries tensor dim({}) and input value's \
                     dim(0) numel(1)",
                    sorted_sequence.inner.ndim()
                )));
            }
            // torch searches for a number on the sequence's own device.
            let s = scalar_arg(input, "searchsorted")?;
            Tensor::wrapped_scalar(s)
                .and_then(|v| v.to_device(sorted_sequence.inner.device()))
                .py()?
        }
    };
    let seq = match sorter {
        Some(s) => {
            if s.inner.shape() != sorted_sequence.inner.shape() {
                return Err(PyRuntimeError::new_err(
                    "torch.searchsorted(): boundary and sorter must have the same size",
                ));
            }
            ig::take_along_dim(&sorted_sequence.inner, &s.inner, Some(-1)).py()?
        }
        None => sorted_sequence.inner.clone(),
    };
    finish_out(
        py,
        wrap(py, is::searchsorted(&seq, &values, right, out_int32).py()?)?,
        out,
    )
}

/// bucketize(input, boundaries, *, out_int32=False, right=False, out=None) -> Tensor:
/// the bucket of each element of `input` among the 1-D `boundaries`.
#[pyfunction]
#[pyo3(signature = (input, boundaries, *, out_int32=false, right=false, out=None))]
fn bucketize(
    py: Python<'_>,
    input: &Bound<'_, PyAny>,
    boundaries: PyRef<'_, PyTensor>,
    out_int32: bool,
    right: bool,
    out: Out<'_, '_>,
) -> PyResult<Py<PyTensor>> {
    let values = match input.cast::<PyTensor>() {
        Ok(t) => t.borrow().inner.clone(),
        Err(_) => Tensor::wrapped_scalar(scalar_arg(input, "bucketize")?).py()?,
    };
    finish_out(
        py,
        wrap(
            py,
            is::bucketize(&values, &boundaries.inner, right, out_int32).py()?,
        )?,
        out,
    )
}

/// one_hot(tensor, num_classes=-1): see `ferrotorch.nn.functional.one_hot`.
#[pyfunction]
#[pyo3(signature = (tensor, num_classes=-1))]
fn _one_hot(
    py: Python<'_>,
    tensor: PyRef<'_, PyTensor>,
    num_classes: i64,
) -> PyResult<Py<PyTensor>> {
    wrap(py, is::one_hot(&tensor.inner, num_classes).py()?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(searchsorted, m)?)?;
    m.add_function(wrap_pyfunction!(bucketize, m)?)?;
    m.add_function(wrap_pyfunction!(_one_hot, m)?)?;
    Ok(())
}
