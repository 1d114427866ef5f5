//! Bindings of the unary family: every op as a Tensor method with `out=`, its in-place `name_`
//! form, plus `clamp`, `where` and `lerp`. Module functions are the methods, re-exported by
//! `ferrotorch/_ops_unary.py`; aliases (`arcsin`, `clip` ...) are made there too.

use crate::errors::IntoPyResult;
use crate::tensor::{finish_out, tensor_or_scalar, wrap, PyTensor};
use ferrotorch_core::dtype::scalar_type_name;
use ferrotorch_core::ops::unary_ternary::type_meta_name;
use ferrotorch_core::ops::{unary as u, unary_misc as m, unary_ternary as t};
use ferrotorch_core::{DType, Result as CoreResult, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use std::sync::Arc;

/// torch's refusal to write a result into a tensor of a narrower kind. `dst_name` spells the
/// destination dtype: torch says `Long` for most ops but `long int` (a TypeMeta) for clamp_.
fn check_cast_named(
    result: DType,
    dst: DType,
    dst_name: fn(DType) -> &'static str,
) -> PyResult<()> {
    if ferrotorch_core::dtype::can_cast(result, dst) {
        return Ok(());
    }
    Err(PyRuntimeError::new_err(format!(
        "result type {} can't be cast to the desired output type {}",
        scalar_type_name(result),
        dst_name(dst)
    )))
}

fn check_cast(result: DType, dst: DType) -> PyResult<()> {
    check_cast_named(result, dst, scalar_type_name)
}

/// Runs `f` for a method with `out=`: the op writes straight into `out` when it can (same
/// shape and dtype), else its result is copied into `out` (converted or resized as torch does).
fn run_out(
    py: Python<'_>,
    out: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce(Option<&Tensor>) -> CoreResult<Tensor>,
) -> PyResult<Py<PyTensor>> {
    let Some(o) = out.filter(|o| !o.is_none()) else {
        return wrap(py, f(None).py()?);
    };
    let o = o.cast::<PyTensor>().map_err(|_| {
        PyTypeError::new_err(format!(
            "argument 'out' must be Tensor, not {}",
            o.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let dst = o.borrow().inner.clone();
    let r = f(Some(&dst)).py()?;
    if Arc::ptr_eq(&r.0, &dst.0) {
        return Ok(o.clone().unbind());
    }
    check_cast(r.dtype(), dst.dtype())?;
    finish_out(py, wrap(py, r)?, Some(o.as_any()))
}

/// Runs `f` in place on `slf`: the op writes into `slf` directly when the result has its dtype
/// and shape; otherwise the result is cast into it when torch allows (`can_cast`).
fn run_inplace(
    slf: &Bound<'_, PyTensor>,
    f: impl FnOnce(&Tensor, Option<&Tensor>) -> CoreResult<Tensor>,
) -> PyResult<Py<PyTensor>> {
    run_inplace_named(slf, scalar_type_name, f)
}

/// [`run_inplace`] with the dtype spelling of the cast error chosen by the caller.
fn run_inplace_named(
    slf: &Bound<'_, PyTensor>,
    dst_name: fn(DType) -> &'static str,
    f: impl FnOnce(&Tensor, Option<&Tensor>) -> CoreResult<Tensor>,
) -> PyResult<Py<PyTensor>> {
    let dst = slf.borrow().inner.clone();
    let r = f(&dst, Some(&dst)).py()?;
    if !Arc::ptr_eq(&r.0, &dst.0) {
        check_cast_named(r.dtype(), dst.dtype(), dst_name)?;
        if r.shape() != dst.shape() {
            return Err(PyRuntimeError::new_err(format!(
                "output with shape {:?} doesn't match the broadcast shape {:?}",
                dst.shape(),
                r.shape()
            )));
        }
        dst.copy_(&r).py()?;
    }
    Ok(slf.clone().unbind())
}

/// `name(*, out=None)` and, when a second name is given, the in-place `name_()`.
macro_rules! py_unary {
    ($($name:ident $(/ $name_:ident)? => $core:path;)*) => {$(
        #[pymethods]
        impl PyTensor {
            #[doc = concat!("Elementwise `", stringify!($name), "` of the tensor; the module function \
                `torch.", stringify!($name), "(input, *, out=None)` is this method.")]
            #[pyo3(signature = (*, out=None))]
            fn $name(&self, py: Python<'_>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyTensor>> {
                run_out(py, out, |dst| $core(&self.inner, dst))
            }
            $(
            #[doc = concat!("In-place `", stringify!($name), "`; returns the tensor.")]
            fn $name_(slf: &Bound<'_, Self>) -> PyResult<Py<PyTensor>> {
                run_inplace(slf, |x, dst| $core(x, dst))
            }
            )?
        }
    )*};
}

py_unary! {
    exp / exp_ => u::exp;
    exp2 / exp2_ => u::exp2;
    log / log_ => u::log;
    log2 / log2_ => u::log2;
    log10 / log10_ => u::log10;
    log1p / log1p_ => u::log1p;
    expm1 / expm1_ => u::expm1;
    sqrt / sqrt_ => u::sqrt;
    rsqrt / rsqrt_ => u::rsqrt;
    sin / sin_ => u::sin;
    cos / cos_ => u::cos;
    tan / tan_ => u::tan;
    asin / asin_ => u::asin;
    acos / acos_ => u::acos;
    atan / atan_ => u::atan;
    sinh / sinh_ => u::sinh;
    cosh / cosh_ => u::cosh;
    tanh / tanh_ => u::tanh;
    asinh / asinh_ => u::asinh;
    acosh / acosh_ => u::acosh;
    atanh / atanh_ => u::atanh;
    sigmoid / sigmoid_ => u::sigmoid;
    erf / erf_ => u::erf;
    erfc / erfc_ => u::erfc;
    erfinv / erfinv_ => u::erfinv;
    reciprocal / reciprocal_ => u::reciprocal;
    floor / floor_ => u::floor;
    ceil / ceil_ => u::ceil;
    trunc / trunc_ => u::trunc;
    frac / frac_ => u::frac;
    abs / abs_ => m::abs;
    neg / neg_ => m::neg;
    sign / sign_ => m::sign;
    sgn / sgn_ => m::sign;
    square / square_ => m::square;
    relu / relu_ => m::relu;
    logical_not / logical_not_ => m::logical_not;
    bitwise_not / bitwise_not_ => m::bitwise_not;
    isnan => m::isnan;
    isinf => m::isinf;
    isfinite => m::isfinite;
    isposinf => m::isposinf;
    isneginf => m::isneginf;
    isreal => m::isreal;
}

/// A clamp bound: None, a tensor, or a number (a wrapped scalar).
fn bound(obj: Option<&Bound<'_, PyAny>>, op: &str) -> PyResult<Option<Tensor>> {
    match obj {
        Some(o) if !o.is_none() => tensor_or_scalar(o, op).map(Some),
        _ => Ok(None),
    }
}

#[pymethods]
impl PyTensor {
    /// Rounds half to even; with `decimals`, to that many decimal places (negative: tens ...).
    #[pyo3(signature = (*, decimals=0, out=None))]
    fn round(
        &self,
        py: Python<'_>,
        decimals: i64,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        run_out(py, out, |dst| u::round_decimals(&self.inner, decimals, dst))
    }
    #[pyo3(signature = (*, decimals=0))]
    fn round_(slf: &Bound<'_, Self>, decimals: i64) -> PyResult<Py<PyTensor>> {
        run_inplace(slf, |x, dst| u::round_decimals(x, decimals, dst))
    }

    /// Clamps into `[min, max]`; bounds are numbers or tensors (broadcast, type-promoted).
    #[pyo3(signature = (min=None, max=None, *, out=None))]
    fn clamp(
        &self,
        py: Python<'_>,
        min: Option<&Bound<'_, PyAny>>,
        max: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let (lo, hi) = (bound(min, "clamp")?, bound(max, "clamp")?);
        run_out(py, out, |dst| {
            t::clamp(&self.inner, lo.as_ref(), hi.as_ref(), dst)
        })
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_(
        slf: &Bound<'_, Self>,
        min: Option<&Bound<'_, PyAny>>,
        max: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let (lo, hi) = (bound(min, "clamp_")?, bound(max, "clamp_")?);
        run_inplace_named(slf, type_meta_name, |x, dst| {
            t::clamp(x, lo.as_ref(), hi.as_ref(), dst)
        })
    }
    /// `clamp(min=min)`.
    #[pyo3(signature = (min, *, out=None))]
    fn clamp_min(
        &self,
        py: Python<'_>,
        min: &Bound<'_, PyAny>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let lo = tensor_or_scalar(min, "clamp_min")?;
        run_out(py, out, |dst| t::clamp(&self.inner, Some(&lo), None, dst))
    }
    fn clamp_min_(slf: &Bound<'_, Self>, min: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let lo = tensor_or_scalar(min, "clamp_min_")?;
        run_inplace_named(slf, type_meta_name, |x, dst| {
            t::clamp(x, Some(&lo), None, dst)
        })
    }
    /// `clamp(max=max)`.
    #[pyo3(signature = (max, *, out=None))]
    fn clamp_max(
        &self,
        py: Python<'_>,
        max: &Bound<'_, PyAny>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let hi = tensor_or_scalar(max, "clamp_max")?;
        run_out(py, out, |dst| t::clamp(&self.inner, None, Some(&hi), dst))
    }
    fn clamp_max_(slf: &Bound<'_, Self>, max: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let hi = tensor_or_scalar(max, "clamp_max_")?;
        run_inplace_named(slf, type_meta_name, |x, dst| {
            t::clamp(x, None, Some(&hi), dst)
        })
    }

    /// Replaces NaN with `nan` and infinities with `posinf`/`neginf` (default: the dtype's
    /// largest/smallest finite values).
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None, *, out=None))]
    fn nan_to_num(
        &self,
        py: Python<'_>,
        nan: Option<f64>,
        posinf: Option<f64>,
        neginf: Option<f64>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        run_out(py, out, |dst| {
            m::nan_to_num(&self.inner, nan.unwrap_or(0.0), posinf, neginf, dst)
        })
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num_(
        slf: &Bound<'_, Self>,
        nan: Option<f64>,
        posinf: Option<f64>,
        neginf: Option<f64>,
    ) -> PyResult<Py<PyTensor>> {
        run_inplace(slf, |x, dst| {
            m::nan_to_num(x, nan.unwrap_or(0.0), posinf, neginf, dst)
        })
    }

    /// Linear interpolation `input + weight * (end - input)`; `weight` is a number or tensor.
    #[pyo3(signature = (end, weight, *, out=None))]
    fn lerp(
        &self,
        py: Python<'_>,
        end: &Bound<'_, PyAny>,
        weight: &Bound<'_, PyAny>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let (e, w) = (
            tensor_or_scalar(end, "lerp")?,
            tensor_or_scalar(weight, "lerp")?,
        );
        run_out(py, out, |dst| t::lerp(&self.inner, &e, &w, dst))
    }
    fn lerp_(
        slf: &Bound<'_, Self>,
        end: &Bound<'_, PyAny>,
        weight: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyTensor>> {
        let (e, w) = (
            tensor_or_scalar(end, "lerp_")?,
            tensor_or_scalar(weight, "lerp_")?,
        );
        run_inplace(slf, |x, dst| t::lerp(x, &e, &w, dst))
    }
}

/// `torch.where(condition, input, other)`; the Python layer adds the one-argument form.
#[pyfunction]
#[pyo3(name = "_where", signature = (condition, input, other, *, out=None))]
fn where_(
    py: Python<'_>,
    condition: PyRef<'_, PyTensor>,
    input: &Bound<'_, PyAny>,
    other: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let (a, b) = (
        tensor_or_scalar(input, "where")?,
        tensor_or_scalar(other, "where")?,
    );
    let c = condition.inner.clone();
    run_out(py, out, |dst| t::where_(&c, &a, &b, dst))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(where_, m)?)
}
