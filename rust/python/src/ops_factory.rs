//! Range factories: `arange`, `range` (as `_range`; the Python layer adds the deprecation
//! warning), `linspace`, `logspace`, `eye`.

use crate::creation::{factory_options, scalar_arg, FactoryOptions};
use crate::errors::IntoPyResult;
use crate::tensor::{finish_out, wrap, PyTensor};
use ferrotorch_core::ops::factory;
use ferrotorch_core::{DType, Scalar};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// `dtype=` wins; else an `out=` tensor's dtype (torch fills `out` in its own dtype).
fn dtype_or_out(opts: &FactoryOptions, out: Option<&Bound<'_, PyAny>>) -> Option<DType> {
    opts.dtype.or_else(|| {
        out.filter(|o| !o.is_none())
            .and_then(|o| o.cast::<PyTensor>().ok().map(|t| t.borrow().inner.dtype()))
    })
}

#[pyfunction]
#[pyo3(signature = (start=None, end=None, step=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
fn arange(
    py: Python<'_>,
    start: Option<&Bound<'_, PyAny>>,
    end: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = (layout, pin_memory);
        let opts = factory_options(dtype, device, requires_grad)?;
        let num = |o: Option<&Bound<'_, PyAny>>| {
            o.filter(|v| !v.is_none())
                .map(|v| scalar_arg(v, "arange"))
                .transpose()
        };
        let (start, end, step) = (num(start)?, num(end)?, num(step)?);
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(e), None) | (None, Some(e)) => (Scalar::Int(0), e),
            (None, None) => {
                return Err(PyTypeError::new_err(
                    "arange() missing required argument 'end'",
                ))
            }
        };
        let step = step.unwrap_or(Scalar::Int(1));
        let dt = dtype_or_out(&opts, out);
        finish_out(
            py,
            wrap(py, factory::arange(start, end, step, dt, opts.device).py()?)?,
            out,
        )
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end, step=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
fn _range(
    py: Python<'_>,
    start: &Bound<'_, PyAny>,
    end: &Bound<'_, PyAny>,
    step: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = layout;
        let opts = factory_options(dtype, device, requires_grad)?;
        let step = match step.filter(|s| !s.is_none()) {
            Some(s) => scalar_arg(s, "range")?,
            None => Scalar::Int(1),
        };
        let (a, b) = (scalar_arg(start, "range")?, scalar_arg(end, "range")?);
        let t = factory::range(a, b, step, dtype_or_out(&opts, out), opts.device).py()?;
        finish_out(py, wrap(py, t)?, out)
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

/// `steps` as an int (a one-element integer tensor is accepted, as torch does).
fn steps_arg(steps: &Bound<'_, PyAny>) -> PyResult<i64> {
    match scalar_arg(steps, "linspace")? {
        Scalar::Int(i) => Ok(i),
        _ => Err(PyTypeError::new_err(
            "linspace(): argument 'steps' must be int",
        )),
    }
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
fn linspace(
    py: Python<'_>,
    start: &Bound<'_, PyAny>,
    end: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = layout;
        let opts = factory_options(dtype, device, requires_grad)?;
        let (a, b) = (scalar_arg(start, "linspace")?, scalar_arg(end, "linspace")?);
        let t = factory::linspace(
            a,
            b,
            steps_arg(steps)?,
            dtype_or_out(&opts, out),
            opts.device,
        )
        .py()?;
        finish_out(py, wrap(py, t)?, out)
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
fn logspace(
    py: Python<'_>,
    start: &Bound<'_, PyAny>,
    end: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    base: f64,
    out: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = layout;
        let opts = factory_options(dtype, device, requires_grad)?;
        let (a, b) = (scalar_arg(start, "logspace")?, scalar_arg(end, "logspace")?);
        let dt = dtype_or_out(&opts, out);
        let t = factory::logspace(a, b, steps_arg(steps)?, base, dt, opts.device).py()?;
        finish_out(py, wrap(py, t)?, out)
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
fn eye(
    py: Python<'_>,
    n: i64,
    m: Option<i64>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = (layout, pin_memory);
        let opts = factory_options(dtype, device, requires_grad)?;
        let t = factory::eye(n, m, dtype_or_out(&opts, out), opts.device).py()?;
        finish_out(py, wrap(py, t)?, out)
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(_range, m)?)?;
    m.add_function(wrap_pyfunction!(linspace, m)?)?;
    m.add_function(wrap_pyfunction!(logspace, m)?)?;
    m.add_function(wrap_pyfunction!(eye, m)?)?;
    Ok(())
}
