//! Bindings of the unary family: every op as a Tensor method with `out=`, its in-place `name_`
//! form, plus `clamp`, `where` and `lerp`. Module functions are the methods, re-exported by
//! `ferrotorch/_ops_unary.py`; aliases (`arcsin`, `clip` ...) are made there too.
//!
//! Differentiable ops go through `autograd::functions::unary` (which records the graph when an
//! input requires grad); `out=` keeps the raw kernels and refuses inputs that require grad, as
//! torch does; in-place forms go through `autograd::inplace`.

use crate::errors::IntoPyResult;
use crate::tensor::{finish_out, tensor_or_scalar, wrap, PyTensor};
use ferrotorch_core::autograd::functions::{convert as fc, unary as fu};
use ferrotorch_core::autograd::{inplace, is_grad_enabled, needs_grad, record1};
use ferrotorch_core::dtype::scalar_type_name;
use ferrotorch_core::ops::unary_ternary::type_meta_name;
use ferrotorch_core::ops::{unary as u, unary_misc as m, unary_ternary as t};
use ferrotorch_core::{DType, Error as CoreError, Result as CoreResult, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use std::sync::Arc;

/// torch's refusal to write a result into a tensor of a narrower kind. `dst_name` spells the
/// destination dtype: torch says `Long` for most ops but `long int` (a TypeMeta) for clamp_.
fn check_cast_named(
    result: DType,
    dst: DType,
    dst_name: fn(DType) -> &'static str,
) -> CoreResult<()> {
    if ferrotorch_core::dtype::can_cast(result, dst) {
        return Ok(());
    }
    Err(CoreError::runtime(format!(
        "result type {} can't be cast to the desired output type {}",
        scalar_type_name(result),
        dst_name(dst)
    )))
}

fn out_tensor(o: &Bound<'_, PyAny>) -> Option<Tensor> {
    o.cast::<PyTensor>().ok().map(|t| t.borrow().inner.clone())
}

/// torch's refusal of `out=` when autograd would have to record: an input (or `out` itself)
/// requires grad while grad mode is on.
pub(crate) fn check_out(
    op: &str,
    inputs: &[&Tensor],
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let Some(o) = out.filter(|o| !o.is_none()) else {
        return Ok(());
    };
    if !is_grad_enabled() {
        return Ok(());
    }
    let out_requires = out_tensor(o).is_some_and(|t| t.requires_grad());
    if out_requires || inputs.iter().any(|t| t.requires_grad()) {
        return Err(PyRuntimeError::new_err(format!(
            "{op}(): functions with out=... arguments don't support automatic differentiation, \
             but one of the arguments requires grad."
        )));
    }
    Ok(())
}

/// Runs the raw op `f` for a method with `out=`: it writes straight into `out` when it can
/// (same shape and dtype), else its result is copied into `out` (converted or resized as
/// torch does). Callers check [`check_out`] first.
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
    check_cast_named(r.dtype(), dst.dtype(), scalar_type_name).py()?;
    finish_out(py, wrap(py, r)?, Some(o.as_any()))
}

/// A method with `out=`: the differentiable `diff` without `out`, the raw kernel `raw` with it
/// (refused when an input requires grad).
fn run_op(
    py: Python<'_>,
    op: &str,
    inputs: &[&Tensor],
    out: Option<&Bound<'_, PyAny>>,
    raw: impl FnOnce(Option<&Tensor>) -> CoreResult<Tensor>,
    diff: impl FnOnce() -> CoreResult<Tensor>,
) -> PyResult<Py<PyTensor>> {
    if out.is_some_and(|o| !o.is_none()) {
        check_out(op, inputs, out)?;
        return run_out(py, out, raw);
    }
    wrap(py, diff().py()?)
}

/// `slf.op_(...)`: without a graph to record, `raw` writes into `slf` directly when the result
/// has its dtype and shape, else the result is cast into it when torch allows (`can_cast`).
/// With one, `diff` computes the result from a copy of the old value and `autograd::inplace`
/// writes it back and moves the history. `others` are the op's other tensor operands.
fn run_inplace(
    slf: &Bound<'_, PyTensor>,
    others: &[&Tensor],
    dst_name: fn(DType) -> &'static str,
    raw: impl FnOnce(&Tensor, Option<&Tensor>) -> CoreResult<Tensor>,
    diff: impl FnOnce(&Tensor) -> CoreResult<Tensor>,
) -> PyResult<Py<PyTensor>> {
    let dst = slf.borrow().inner.clone();
    let mut all = vec![&dst];
    all.extend_from_slice(others);
    if needs_grad(&all) {
        fc::check_writable(&dst).py()?;
    }
    inplace(
        &dst,
        others,
        || {
            let r = raw(&dst, Some(&dst))?;
            if !Arc::ptr_eq(&r.0, &dst.0) {
                check_cast_named(r.dtype(), dst.dtype(), dst_name)?;
                if r.shape() != dst.shape() {
                    return Err(CoreError::runtime(format!(
                        "output with shape {:?} doesn't match the broadcast shape {:?}",
                        dst.shape(),
                        r.shape()
                    )));
                }
                dst.copy_(&r)?;
            }
            Ok(())
        },
        |old| {
            let r = diff(old)?;
            check_cast_named(r.dtype(), dst.dtype(), dst_name)?;
            Ok(r)
        },
    )
    .py()?;
    Ok(slf.clone().unbind())
}

/// `name(*, out=None)` and, when a second name is given, the in-place `name_()`: the raw
/// kernel `$raw` for `out=` and the differentiable `$diff` otherwise.
macro_rules! py_unary {
    ($($name:ident $(/ $name_:ident)? => $raw:path, $diff:path;)*) => {$(
        #[pymethods]
        impl PyTensor {
            #[doc = concat!("Elementwise `", stringify!($name), "` of the tensor; the module function \
                `torch.", stringify!($name), "(input, *, out=None)` is this method.")]
            #[pyo3(signature = (*, out=None))]
            fn $name(&self, py: Python<'_>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyTensor>> {
                let x = &self.inner;
                run_op(py, stringify!($name), &[x], out, |dst| $raw(x, dst), || $diff(x))
            }
            $(
            #[doc = concat!("In-place `", stringify!($name), "`; returns the tensor.")]
            fn $name_(slf: &Bound<'_, Self>) -> PyResult<Py<PyTensor>> {
                run_inplace(slf, &[], scalar_type_name, |x, dst| $raw(x, dst), |old| $diff(old))
            }
            )?
        }
    )*};
}

/// The result `r` of an op with no derivative applied in place to `old`, a float tensor in the
/// graph: converted back to `old`'s dtype and recorded with a node that fails on backward, so
/// no gradient is silently dropped (torch's not-implemented derivative).
fn not_differentiable(op: &'static str, old: &Tensor, r: Tensor) -> CoreResult<Tensor> {
    let r = r.to_dtype(old.dtype())?;
    Ok(record1("NotImplemented", &[old], r, vec![], move |_| {
        Err(CoreError::runtime(format!(
            "the derivative for '{op}' is not implemented."
        )))
    }))
}

/// `name(*, out=None)` (and `name_()`) for ops with bool or integer results: nothing to record.
macro_rules! py_unary_raw {
    ($($name:ident $(/ $name_:ident)? => $raw:path;)*) => {$(
        #[pymethods]
        impl PyTensor {
            #[doc = concat!("Elementwise `", stringify!($name), "` of the tensor; the module function \
                `torch.", stringify!($name), "(input, *, out=None)` is this method.")]
            #[pyo3(signature = (*, out=None))]
            fn $name(&self, py: Python<'_>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyTensor>> {
                run_out(py, out, |dst| $raw(&self.inner, dst))
            }
            $(
            #[doc = concat!("In-place `", stringify!($name), "`; returns the tensor.")]
            fn $name_(slf: &Bound<'_, Self>) -> PyResult<Py<PyTensor>> {
                run_inplace(slf, &[], scalar_type_name, |x, dst| $raw(x, dst), |old| {
                    not_differentiable(concat!(stringify!($name), "_"), old, $raw(old, None)?)
                })
            }
            )?
        }
    )*};
}

py_unary! {
    exp / exp_ => u::exp, fu::exp;
    exp2 / exp2_ => u::exp2, fu::exp2;
    log / log_ => u::log, fu::log;
    log2 / log2_ => u::log2, fu::log2;
    log10 / log10_ => u::log10, fu::log10;
    log1p / log1p_ => u::log1p, fu::log1p;
    expm1 / expm1_ => u::expm1, fu::expm1;
    sqrt / sqrt_ => u::sqrt, fu::sqrt;
    rsqrt / rsqrt_ => u::rsqrt, fu::rsqrt;
    sin / sin_ => u::sin, fu::sin;
    cos / cos_ => u::cos, fu::cos;
    tan / tan_ => u::tan, fu::tan;
    asin / asin_ => u::asin, fu::asin;
    acos / acos_ => u::acos, fu::acos;
    atan / atan_ => u::atan, fu::atan;
    sinh / sinh_ => u::sinh, fu::sinh;
    cosh / cosh_ => u::cosh, fu::cosh;
    tanh / tanh_ => u::tanh, fu::tanh;
    asinh / asinh_ => u::asinh, fu::asinh;
    acosh / acosh_ => u::acosh, fu::acosh;
    atanh / atanh_ => u::atanh, fu::atanh;
    sigmoid / sigmoid_ => u::sigmoid, fu::sigmoid;
    erf / erf_ => u::erf, fu::erf;
    erfc / erfc_ => u::erfc, fu::erfc;
    erfinv / erfinv_ => u::erfinv, fu::erfinv;
    reciprocal / reciprocal_ => u::reciprocal, fu::reciprocal;
    floor / floor_ => u::floor, fu::floor;
    ceil / ceil_ => u::ceil, fu::ceil;
    trunc / trunc_ => u::trunc, fu::trunc;
    frac / frac_ => u::frac, fu::frac;
    abs / abs_ => m::abs, fu::abs;
    neg / neg_ => m::neg, fu::neg;
    sign / sign_ => m::sign, fu::sign;
    sgn / sgn_ => m::sign, fu::sgn;
    square / square_ => m::square, fu::square;
    relu / relu_ => m::relu, fu::relu;
}

py_unary_raw! {
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
        let x = &self.inner;
        run_op(
            py,
            "round",
            &[x],
            out,
            |dst| u::round_decimals(x, decimals, dst),
            || fu::round(x, decimals),
        )
    }
    #[pyo3(signature = (*, decimals=0))]
    fn round_(slf: &Bound<'_, Self>, decimals: i64) -> PyResult<Py<PyTensor>> {
        run_inplace(
            slf,
            &[],
            scalar_type_name,
            |x, dst| u::round_decimals(x, decimals, dst),
            |old| fu::round(old, decimals),
        )
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
        let (lo, hi) = (lo.as_ref(), hi.as_ref());
        let x = &self.inner;
        let inputs: Vec<&Tensor> = std::iter::once(x).chain(lo).chain(hi).collect();
        run_op(
            py,
            "clamp",
            &inputs,
            out,
            |dst| t::clamp(x, lo, hi, dst),
            || fu::clamp(x, lo, hi),
        )
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_(
        slf: &Bound<'_, Self>,
        min: Option<&Bound<'_, PyAny>>,
        max: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let (lo, hi) = (bound(min, "clamp_")?, bound(max, "clamp_")?);
        let (lo, hi) = (lo.as_ref(), hi.as_ref());
        let others: Vec<&Tensor> = lo.into_iter().chain(hi).collect();
        run_inplace(
            slf,
            &others,
            type_meta_name,
            |x, dst| t::clamp(x, lo, hi, dst),
            |old| fu::clamp(old, lo, hi),
        )
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
        let x = &self.inner;
        run_op(
            py,
            "clamp_min",
            &[x, &lo],
            out,
            |dst| t::clamp(x, Some(&lo), None, dst),
            || fu::clamp_min(x, &lo),
        )
    }
    fn clamp_min_(slf: &Bound<'_, Self>, min: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let lo = tensor_or_scalar(min, "clamp_min_")?;
        run_inplace(
            slf,
            &[&lo],
            type_meta_name,
            |x, dst| t::clamp(x, Some(&lo), None, dst),
            |old| fu::clamp_min(old, &lo),
        )
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
        let x = &self.inner;
        run_op(
            py,
            "clamp_max",
            &[x, &hi],
            out,
            |dst| t::clamp(x, None, Some(&hi), dst),
            || fu::clamp_max(x, &hi),
        )
    }
    fn clamp_max_(slf: &Bound<'_, Self>, max: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let hi = tensor_or_scalar(max, "clamp_max_")?;
        run_inplace(
            slf,
            &[&hi],
            type_meta_name,
            |x, dst| t::clamp(x, None, Some(&hi), dst),
            |old| fu::clamp_max(old, &hi),
        )
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
        let (x, nan) = (&self.inner, nan.unwrap_or(0.0));
        run_op(
            py,
            "nan_to_num",
            &[x],
            out,
            |dst| m::nan_to_num(x, nan, posinf, neginf, dst),
            || fu::nan_to_num(x, nan, posinf, neginf),
        )
    }
    #[pyo3(signature = (nan=0.0, posinf=None, neginf=None))]
    fn nan_to_num_(
        slf: &Bound<'_, Self>,
        nan: Option<f64>,
        posinf: Option<f64>,
        neginf: Option<f64>,
    ) -> PyResult<Py<PyTensor>> {
        let nan = nan.unwrap_or(0.0);
        run_inplace(
            slf,
            &[],
            scalar_type_name,
            |x, dst| m::nan_to_num(x, nan, posinf, neginf, dst),
            |old| fu::nan_to_num(old, nan, posinf, neginf),
        )
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
        let x = &self.inner;
        run_op(
            py,
            "lerp",
            &[x, &e, &w],
            out,
            |dst| t::lerp(x, &e, &w, dst),
            || fu::lerp(x, &e, &w),
        )
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
        run_inplace(
            slf,
            &[&e, &w],
            scalar_type_name,
            |x, dst| t::lerp(x, &e, &w, dst),
            |old| fu::lerp(old, &e, &w),
        )
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
    run_op(
        py,
        "where",
        &[&a, &b],
        out,
        |dst| t::where_(&c, &a, &b, dst),
        || fu::where_(&c, &a, &b),
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(where_, m)?)
}
