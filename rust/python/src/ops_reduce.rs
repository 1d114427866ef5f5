//! Reductions, scans and sorting as Tensor methods (module functions are these methods).
//! Ops with two results return the `ferrotorch.return_types` named tuples, as torch does.

use crate::dtype::extract_dtype;
use crate::errors::IntoPyResult;
use crate::tensor::{finish_out, wrap, write_into, PyTensor};
use ferrotorch_core::autograd::functions::{
    binary as fb, reduce as r, reduce_scan as scan, reduce_select as s, reduce_stat as st,
};
use ferrotorch_core::ops::binary::BinaryOp;
use ferrotorch_core::ops::reduce as raw;
use ferrotorch_core::{DType, Tensor};
use pyo3::exceptions::{PyNotImplementedError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyTuple};

/// A `dim` argument: None, an int (or NumPy integer), or a tuple/list of ints.
fn dims_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<i64>>> {
    let Some(o) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if o.is_instance_of::<PyInt>() || o.hasattr("__index__")? && !o.hasattr("__len__")? {
        return Ok(Some(vec![o.extract()?]));
    }
    o.extract::<Vec<i64>>().map(Some).map_err(|_| {
        PyTypeError::new_err(format!(
            "dim must be an int or a tuple of ints, not {}",
            o.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })
}

/// A single `dim` argument (int), or None.
fn dim_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<i64>> {
    let Some(o) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    o.extract::<i64>()
        .map(Some)
        .map_err(|_| PyTypeError::new_err("dim must be an int"))
}

fn dtype_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DType>> {
    match obj {
        Some(d) if !d.is_none() => Ok(Some(extract_dtype(d)?)),
        _ => Ok(None),
    }
}

/// A `return_types.<name>` named tuple of two tensors, written into `out=(a, b)` if given.
fn ret2(
    py: Python<'_>,
    name: &str,
    (a, b): (Tensor, Tensor),
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let (a, b) = match out.filter(|o| !o.is_none()) {
        None => (wrap(py, a)?.into_any(), wrap(py, b)?.into_any()),
        Some(o) => {
            let (oa, ob): (Bound<'_, PyTensor>, Bound<'_, PyTensor>) =
                o.extract().map_err(|_| {
                    PyTypeError::new_err(format!("{name}(): out= must be a tuple of two Tensors"))
                })?;
            write_into(&mut oa.borrow_mut(), &a, name)?;
            write_into(&mut ob.borrow_mut(), &b, name)?;
            (oa.into_any().unbind(), ob.into_any().unbind())
        }
    };
    let cls = py.import("ferrotorch.return_types")?.getattr(name)?;
    Ok(cls.call1((PyTuple::new(py, [a, b])?,))?.unbind())
}

/// torch refuses `out=` when the result would need a graph.
fn check_out(op: &str, inputs: &[&Tensor], out: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    if out.is_none_or(|o| o.is_none()) {
        return Ok(());
    }
    crate::autograd::check_out(op, inputs)
}

fn one(
    py: Python<'_>,
    t: ferrotorch_core::Result<Tensor>,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    finish_out(py, wrap(py, t.py()?)?, out)
}

/// The correction of var/std from `unbiased` / `correction` (torch's default: 1).
fn correction_of(unbiased: Option<bool>, correction: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
    if let Some(c) = correction.filter(|c| !c.is_none()) {
        if unbiased.is_some() {
            return Err(PyRuntimeError::new_err(
                "Cannot specify both unbiased and correction",
            ));
        }
        return c.extract::<f64>();
    }
    Ok(if unbiased.unwrap_or(true) { 1.0 } else { 0.0 })
}

/// var/std's legacy positional form `x.var(False)`: a bool first argument is `unbiased`.
fn var_args<'py>(
    dim: Option<&Bound<'py, PyAny>>,
    unbiased: Option<bool>,
    correction: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Option<Vec<i64>>, f64)> {
    if let Some(d) = dim.filter(|d| d.is_instance_of::<PyBool>()) {
        return Ok((None, correction_of(Some(d.extract()?), correction)?));
    }
    Ok((dims_arg(dim)?, correction_of(unbiased, correction)?))
}

/// The `p` of `norm`: a number, inf, or 'fro' (2-norm); 'nuc' is not supported.
fn norm_ord(p: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
    let Some(p) = p.filter(|p| !p.is_none()) else {
        return Ok(2.0);
    };
    if let Ok(sv) = p.cast::<PyString>() {
        return match sv.to_str()? {
            "fro" => Ok(2.0),
            "nuc" => Err(PyNotImplementedError::new_err(
                "norm(p='nuc') is not supported by ferrotorch yet",
            )),
            other => Err(PyRuntimeError::new_err(format!(
                "norm(): invalid norm type {other}"
            ))),
        };
    }
    p.extract::<f64>()
        .map_err(|_| PyTypeError::new_err("norm(): p must be a number or 'fro'"))
}

fn unique_result(
    py: Python<'_>,
    (v, inv, cnt): (Tensor, Tensor, Tensor),
    return_inverse: bool,
    return_counts: bool,
) -> PyResult<Py<PyAny>> {
    if !return_inverse && !return_counts {
        return Ok(wrap(py, v)?.into_any());
    }
    let mut items = vec![wrap(py, v)?.into_any()];
    if return_inverse {
        items.push(wrap(py, inv)?.into_any());
    }
    if return_counts {
        items.push(wrap(py, cnt)?.into_any());
    }
    Ok(PyTuple::new(py, items)?.into_any().unbind())
}

fn no_dim_unique(dim: Option<&Bound<'_, PyAny>>, op: &str) -> PyResult<()> {
    if dim.is_some_and(|d| !d.is_none()) {
        return Err(PyNotImplementedError::new_err(format!(
            "{op}(dim=...) is not supported by ferrotorch yet"
        )));
    }
    Ok(())
}

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None, out=None))]
    fn sum(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("sum", &[&self.inner], out)?;
        let dims = dims_arg(dim)?;
        one(
            py,
            r::sum(&self.inner, dims.as_deref(), keepdim, dtype_arg(dtype)?),
            out,
        )
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None, out=None))]
    fn nansum(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("nansum", &[&self.inner], out)?;
        let dims = dims_arg(dim)?;
        one(
            py,
            r::nansum(&self.inner, dims.as_deref(), keepdim, dtype_arg(dtype)?),
            out,
        )
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None, out=None))]
    fn mean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("mean", &[&self.inner], out)?;
        let dims = dims_arg(dim)?;
        one(
            py,
            r::mean(&self.inner, dims.as_deref(), keepdim, dtype_arg(dtype)?),
            out,
        )
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None, out=None))]
    fn nanmean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("nanmean", &[&self.inner], out)?;
        let dims = dims_arg(dim)?;
        one(
            py,
            r::nanmean(&self.inner, dims.as_deref(), keepdim, dtype_arg(dtype)?),
            out,
        )
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, dtype=None, out=None))]
    fn prod(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("prod", &[&self.inner], out)?;
        let d = dim_arg(dim)?.map(|d| vec![d]);
        one(
            py,
            r::prod(&self.inner, d.as_deref(), keepdim, dtype_arg(dtype)?),
            out,
        )
    }

    /// `max()`, `max(dim, keepdim)` -> (values, indices), or `max(other)` elementwise.
    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn max(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        extreme::<true>(py, &self.inner, dim, keepdim, out)
    }

    /// `min()`, `min(dim, keepdim)` -> (values, indices), or `min(other)` elementwise.
    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn min(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        extreme::<false>(py, &self.inner, dim, keepdim, out)
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn amax(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("amax", &[&self.inner], out)?;
        let dims = dims_arg(dim)?.unwrap_or_default();
        one(py, s::amax_amin::<true>(&self.inner, &dims, keepdim), out)
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn amin(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("amin", &[&self.inner], out)?;
        let dims = dims_arg(dim)?.unwrap_or_default();
        one(py, s::amax_amin::<false>(&self.inner, &dims, keepdim), out)
    }

    #[pyo3(signature = (*, dim=None, keepdim=false, out=None))]
    fn aminmax(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("aminmax", &[&self.inner], out)?;
        ret2(
            py,
            "aminmax",
            s::aminmax(&self.inner, dim_arg(dim)?, keepdim).py()?,
            out,
        )
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn argmax(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        one(
            py,
            raw::argmax_argmin::<true>(&self.inner, dim_arg(dim)?, keepdim),
            out,
        )
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn argmin(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        one(
            py,
            raw::argmax_argmin::<false>(&self.inner, dim_arg(dim)?, keepdim),
            out,
        )
    }

    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None, out=None))]
    fn var(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("var", &[&self.inner], out)?;
        let (dims, c) = var_args(dim, unbiased, correction)?;
        one(py, st::var(&self.inner, dims.as_deref(), c, keepdim), out)
    }

    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None, out=None))]
    fn std(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("std", &[&self.inner], out)?;
        let (dims, c) = var_args(dim, unbiased, correction)?;
        one(py, st::std(&self.inner, dims.as_deref(), c, keepdim), out)
    }

    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn var_mean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Py<PyTensor>, Py<PyTensor>)> {
        let (dims, c) = var_args(dim, unbiased, correction)?;
        let (v, m) = st::var_mean(&self.inner, dims.as_deref(), c, keepdim, false).py()?;
        Ok((wrap(py, v)?, wrap(py, m)?))
    }

    #[pyo3(signature = (dim=None, unbiased=None, keepdim=false, *, correction=None))]
    fn std_mean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Py<PyTensor>, Py<PyTensor>)> {
        let (dims, c) = var_args(dim, unbiased, correction)?;
        let (v, m) = st::var_mean(&self.inner, dims.as_deref(), c, keepdim, true).py()?;
        Ok((wrap(py, v)?, wrap(py, m)?))
    }

    #[pyo3(signature = (p=None, dim=None, keepdim=false, dtype=None, *, out=None))]
    fn norm(
        &self,
        py: Python<'_>,
        p: Option<&Bound<'_, PyAny>>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("norm", &[&self.inner], out)?;
        let ord = norm_ord(p)?;
        let dims = dims_arg(dim)?;
        let res = st::vector_norm(
            &self.inner,
            ord,
            dims.as_deref(),
            keepdim,
            dtype_arg(dtype)?,
        )
        .map_err(|mut e| {
            e.message = e.message.replace("linalg.vector_norm", "norm");
            e
        });
        one(py, res, out)
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn logsumexp(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("logsumexp", &[&self.inner], out)?;
        let dims = dims_arg(dim)?;
        one(py, r::logsumexp(&self.inner, dims.as_deref(), keepdim), out)
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn all(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let dims = dims_arg(dim)?;
        one(
            py,
            raw::all_any::<true>(&self.inner, dims.as_deref(), keepdim),
            out,
        )
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn any(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let dims = dims_arg(dim)?;
        one(
            py,
            raw::all_any::<false>(&self.inner, dims.as_deref(), keepdim),
            out,
        )
    }

    #[pyo3(signature = (dim=None))]
    fn count_nonzero(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let dims = dims_arg(dim)?;
        one(py, raw::count_nonzero(&self.inner, dims.as_deref()), None)
    }

    #[pyo3(signature = (dim, *, dtype=None, out=None))]
    fn cumsum(
        &self,
        py: Python<'_>,
        dim: i64,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("cumsum", &[&self.inner], out)?;
        one(py, scan::cumsum(&self.inner, dim, dtype_arg(dtype)?), out)
    }

    #[pyo3(signature = (dim, *, dtype=None, out=None))]
    fn cumprod(
        &self,
        py: Python<'_>,
        dim: i64,
        dtype: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("cumprod", &[&self.inner], out)?;
        one(py, scan::cumprod(&self.inner, dim, dtype_arg(dtype)?), out)
    }

    /// In-place `cumsum`.
    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumsum_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        dtype: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let x = slf.borrow().inner.clone();
        scan::cumsum_cumprod_::<true>(&x, dim, dtype_arg(dtype)?).py()?;
        Ok(slf.clone())
    }

    /// In-place `cumprod`.
    #[pyo3(signature = (dim, *, dtype=None))]
    fn cumprod_<'py>(
        slf: &Bound<'py, Self>,
        dim: i64,
        dtype: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let x = slf.borrow().inner.clone();
        scan::cumsum_cumprod_::<false>(&x, dim, dtype_arg(dtype)?).py()?;
        Ok(slf.clone())
    }

    /// `log(cumsum(exp(x), dim))`, computed without overflow.
    #[pyo3(signature = (dim, *, out=None))]
    fn logcumsumexp(
        &self,
        py: Python<'_>,
        dim: i64,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        check_out("logcumsumexp", &[&self.inner], out)?;
        one(py, scan::logcumsumexp(&self.inner, dim), out)
    }

    #[pyo3(signature = (dim, *, out=None))]
    fn cummax(
        &self,
        py: Python<'_>,
        dim: i64,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("cummax", &[&self.inner], out)?;
        ret2(
            py,
            "cummax",
            scan::cummax_cummin::<true>(&self.inner, dim).py()?,
            out,
        )
    }

    #[pyo3(signature = (dim, *, out=None))]
    fn cummin(
        &self,
        py: Python<'_>,
        dim: i64,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("cummin", &[&self.inner], out)?;
        ret2(
            py,
            "cummin",
            scan::cummax_cummin::<false>(&self.inner, dim).py()?,
            out,
        )
    }

    /// `median()` (lower median of all values) or `median(dim, keepdim)` -> (values, indices).
    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn median(
        &self,
        py: Python<'_>,
        dim: Option<i64>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("median", &[&self.inner], out)?;
        match dim {
            None => Ok(one(py, s::median_all(&self.inner, false), out)?.into_any()),
            Some(d) => ret2(
                py,
                "median",
                s::median_dim(&self.inner, d, keepdim, false).py()?,
                out,
            ),
        }
    }

    #[pyo3(signature = (dim=None, keepdim=false, *, out=None))]
    fn nanmedian(
        &self,
        py: Python<'_>,
        dim: Option<i64>,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("nanmedian", &[&self.inner], out)?;
        match dim {
            None => Ok(one(py, s::median_all(&self.inner, true), out)?.into_any()),
            Some(d) => ret2(
                py,
                "nanmedian",
                s::median_dim(&self.inner, d, keepdim, true).py()?,
                out,
            ),
        }
    }

    #[pyo3(signature = (dim=-1, keepdim=false, *, out=None))]
    fn mode(
        &self,
        py: Python<'_>,
        dim: i64,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("mode", &[&self.inner], out)?;
        ret2(py, "mode", s::mode(&self.inner, dim, keepdim).py()?, out)
    }

    #[pyo3(signature = (dim=-1, descending=false, stable=None, *, out=None))]
    fn sort(
        &self,
        py: Python<'_>,
        dim: i64,
        descending: bool,
        stable: Option<bool>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("sort", &[&self.inner], out)?;
        // Every sort here is stable; passing `stable` selects torch's `sort.stable` overload,
        // which only shows in the node's name.
        let r = s::sort(&self.inner, dim, descending, stable.is_some()).py()?;
        ret2(py, "sort", r, out)
    }

    #[pyo3(signature = (dim=-1, descending=false, stable=false))]
    fn argsort(
        &self,
        py: Python<'_>,
        dim: i64,
        descending: bool,
        stable: bool,
    ) -> PyResult<Py<PyTensor>> {
        let _ = stable;
        one(py, s::argsort(&self.inner, dim, descending), None)
    }

    fn msort(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        one(py, s::msort(&self.inner), None)
    }

    #[pyo3(signature = (k, dim=-1, largest=true, sorted=true, *, out=None))]
    fn topk(
        &self,
        py: Python<'_>,
        k: i64,
        dim: i64,
        largest: bool,
        sorted: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("topk", &[&self.inner], out)?;
        // Results are always sorted, which `sorted=False` allows.
        let _ = sorted;
        ret2(py, "topk", s::topk(&self.inner, k, dim, largest).py()?, out)
    }

    #[pyo3(signature = (k, dim=-1, keepdim=false, *, out=None))]
    fn kthvalue(
        &self,
        py: Python<'_>,
        k: i64,
        dim: i64,
        keepdim: bool,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_out("kthvalue", &[&self.inner], out)?;
        ret2(
            py,
            "kthvalue",
            s::kthvalue(&self.inner, k, dim, keepdim).py()?,
            out,
        )
    }

    #[pyo3(signature = (sorted=true, return_inverse=false, return_counts=false, dim=None))]
    fn unique(
        &self,
        py: Python<'_>,
        sorted: bool,
        return_inverse: bool,
        return_counts: bool,
        dim: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = sorted;
        no_dim_unique(dim, "unique")?;
        unique_result(
            py,
            s::unique(&self.inner).py()?,
            return_inverse,
            return_counts,
        )
    }

    #[pyo3(signature = (return_inverse=false, return_counts=false, dim=None))]
    fn unique_consecutive(
        &self,
        py: Python<'_>,
        return_inverse: bool,
        return_counts: bool,
        dim: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        no_dim_unique(dim, "unique_consecutive")?;
        unique_result(
            py,
            s::unique_consecutive(&self.inner).py()?,
            return_inverse,
            return_counts,
        )
    }
}

/// max/min in all three of torch's forms.
fn extreme<const MAX: bool>(
    py: Python<'_>,
    x: &Tensor,
    dim: Option<&Bound<'_, PyAny>>,
    keepdim: bool,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let name = if MAX { "max" } else { "min" };
    match dim.filter(|d| !d.is_none()) {
        None => {
            check_out(name, &[x], out)?;
            Ok(one(py, s::max_min_all::<MAX>(x), out)?.into_any())
        }
        Some(o) if o.cast::<PyTensor>().is_ok() => {
            let other = o.cast::<PyTensor>()?.borrow().inner.clone();
            check_out(name, &[x, &other], out)?;
            let op = if MAX {
                BinaryOp::Maximum
            } else {
                BinaryOp::Minimum
            };
            Ok(one(py, fb::binary(op, x, &other), out)?.into_any())
        }
        Some(o) if o.extract::<i64>().is_ok() => {
            check_out(name, &[x], out)?;
            ret2(
                py,
                name,
                s::max_min_dim::<MAX>(x, o.extract()?, keepdim).py()?,
                out,
            )
        }
        Some(o) => {
            Err(PyTypeError::new_err(format!(
            "{name}() received an invalid combination of arguments: dim must be an int or other a \
             Tensor, got {}",
            o.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        )))
        }
    }
}

/// `torch.linalg.vector_norm(x, ord, dim, keepdim, dtype=)`.
#[pyfunction]
#[pyo3(signature = (x, ord=None, dim=None, keepdim=false, *, dtype=None, out=None))]
fn _vector_norm(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    ord: Option<&Bound<'_, PyAny>>,
    dim: Option<&Bound<'_, PyAny>>,
    keepdim: bool,
    dtype: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let ord = match ord.filter(|o| !o.is_none()) {
        None => 2.0,
        Some(o) if o.is_instance_of::<PyFloat>() || o.is_instance_of::<PyInt>() => {
            o.extract::<f64>()?
        }
        Some(o) => o
            .extract::<f64>()
            .map_err(|_| PyTypeError::new_err("linalg.vector_norm: ord must be a number"))?,
    };
    let dims = dims_arg(dim)?;
    check_out("linalg.vector_norm", &[&x.inner], out)?;
    one(
        py,
        st::vector_norm(&x.inner, ord, dims.as_deref(), keepdim, dtype_arg(dtype)?),
        out,
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_vector_norm, m)?)
}
