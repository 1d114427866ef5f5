//! `Generator`, seeding functions, the random factories (`rand`, `randn`, `randint`,
//! `randperm`, `normal`, `*_like`) and the in-place random Tensor methods.

use crate::creation::{factory_options, scalar_arg};
use crate::device::PyDevice;
use crate::errors::IntoPyResult;
use crate::tensor::{extract_shape_args, finish_out, tensor_or_scalar, wrap, PyTensor};
use ferrotorch_core::dtype::default_float;
use ferrotorch_core::random::{dist, GenRef, Generator};
use ferrotorch_core::{DType, Device, Scalar, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::Arc;

/// `ferrotorch.Generator`: a Philox4x32-10 stream (see `ferrotorch_core::random`).
#[pyclass(name = "Generator", module = "ferrotorch", frozen)]
pub struct PyGenerator {
    g: GenRef,
    device: Device,
}

/// A Python int seed as torch accepts it: any value in `[-2^63, 2^64)`, negatives wrapping.
fn seed_arg(seed: &Bound<'_, PyAny>) -> PyResult<u64> {
    if seed.is_instance_of::<pyo3::types::PyFloat>() {
        return Err(PyTypeError::new_err(
            "manual_seed expected an int seed, got float",
        ));
    }
    let v: i128 = seed
        .extract()
        .map_err(|_| PyRuntimeError::new_err("Overflow when unpacking long"))?;
    if v < i64::MIN as i128 || v > u64::MAX as i128 {
        return Err(PyRuntimeError::new_err("Overflow when unpacking long"));
    }
    Ok(v as u64)
}

fn state_tensor(g: &Generator) -> PyResult<Tensor> {
    Tensor::from_vec(g.get_state().to_vec(), &[16]).py()
}

fn set_state_from(g: &Generator, state: &Bound<'_, PyAny>) -> PyResult<()> {
    let t = state
        .cast::<PyTensor>()
        .map_err(|_| PyTypeError::new_err("expected a torch.ByteTensor"))?
        .borrow()
        .inner
        .clone();
    if t.dtype() != DType::U8 {
        return Err(PyTypeError::new_err(format!(
            "expected a torch.ByteTensor, but got {}",
            t.dtype()
        )));
    }
    g.set_state(&t.to_vec::<u8>()).py()
}

#[pymethods]
impl PyGenerator {
    #[new]
    #[pyo3(signature = (device=None))]
    fn new(device: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let device = match device.filter(|d| !d.is_none()) {
            Some(d) => crate::device::extract_device(d)?,
            None => Device::Cpu,
        };
        Ok(PyGenerator {
            g: GenRef::Owned(Arc::new(Generator::default())),
            device,
        })
    }
    fn manual_seed<'py>(
        slf: &Bound<'py, Self>,
        seed: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        slf.get().g.get().manual_seed(seed_arg(seed)?);
        Ok(slf.clone())
    }
    fn seed(&self) -> u64 {
        self.g.get().seed()
    }
    fn initial_seed(&self) -> u64 {
        self.g.get().initial_seed()
    }
    fn get_state(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        wrap(py, state_tensor(self.g.get())?)
    }
    fn set_state<'py>(
        slf: &Bound<'py, Self>,
        new_state: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        set_state_from(slf.get().g.get(), new_state)?;
        Ok(slf.clone())
    }
    /// The stream position in Philox blocks (four 32-bit words each).
    fn get_offset(&self) -> u64 {
        self.g.get().offset()
    }
    fn set_offset<'py>(slf: &Bound<'py, Self>, offset: u64) -> PyResult<Bound<'py, Self>> {
        let g = slf.get().g.get();
        let mut st = g.get_state();
        st[8..].copy_from_slice(&offset.to_le_bytes());
        g.set_state(&st).py()?;
        Ok(slf.clone())
    }
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice::of(self.device)
    }
    fn __repr__(&self) -> String {
        format!("<torch._C.Generator object at {:p}>", self as *const Self)
    }
}

/// The generator a `generator=` keyword names (the default one when absent).
pub fn gen_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<GenRef> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(GenRef::Default),
        Some(o) => o
            .cast::<PyGenerator>()
            .map(|g| g.get().g.clone())
            .map_err(|_| PyTypeError::new_err("generator must be a torch.Generator")),
    }
}

fn size_from(
    args: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    op: &str,
) -> PyResult<Vec<usize>> {
    let raw = match size.filter(|s| !s.is_none()) {
        Some(s) => s.extract::<Vec<i64>>().map_err(|_| {
            PyTypeError::new_err(format!("{op}(): argument 'size' must be tuple of ints"))
        })?,
        None => extract_shape_args(args)?,
    };
    raw.iter()
        .map(|&s| {
            usize::try_from(s).map_err(|_| {
                PyRuntimeError::new_err(format!(
                    "{op}(): Trying to create tensor with negative dimension {s}: {raw:?}"
                ))
            })
        })
        .collect()
}

/// Draws into a fresh tensor with `fill` (without holding the GIL), then applies `out=`.
fn fresh(
    py: Python<'_>,
    shape: &[usize],
    dtype: DType,
    device: Device,
    out: Option<&Bound<'_, PyAny>>,
    fill: impl FnOnce(&Tensor) -> ferrotorch_core::Result<()> + Send,
) -> PyResult<Py<PyTensor>> {
    let t = Tensor::empty(shape, dtype, device).py()?;
    py.detach(|| fill(&t)).py()?;
    finish_out(py, wrap(py, t)?, out)
}

fn out_dtype(out: Option<&Bound<'_, PyAny>>) -> Option<DType> {
    out.filter(|o| !o.is_none())
        .and_then(|o| o.cast::<PyTensor>().ok().map(|t| t.borrow().inner.dtype()))
}

macro_rules! float_factory {
    ($name:ident, $fill:expr) => {
        #[pyfunction]
        #[pyo3(signature = (*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false, **kw))]
        #[allow(clippy::too_many_arguments)]
        fn $name(
            py: Python<'_>,
            size: &Bound<'_, PyTuple>,
            generator: Option<&Bound<'_, PyAny>>,
            out: Option<&Bound<'_, PyAny>>,
            dtype: Option<&Bound<'_, PyAny>>,
            layout: Option<&Bound<'_, PyAny>>,
            device: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            pin_memory: bool,
            kw: Option<&Bound<'_, pyo3::types::PyDict>>,
        ) -> PyResult<Py<PyTensor>> {
            let result = (|| -> PyResult<Py<PyTensor>> {
            let _ = (layout, pin_memory);
            let size_kw = kw.map(|k| k.get_item("size")).transpose()?.flatten();
            let shape = size_from(size, size_kw.as_ref(), stringify!($name))?;
            let opts = factory_options(dtype, device, requires_grad)?;
            let g = gen_arg(generator)?;
            let dt = opts.dtype.or_else(|| out_dtype(out)).unwrap_or_else(default_float);
            fresh(py, &shape, dt, opts.device, out, |t| ($fill)(t, g.get()))
        })();
            crate::autograd::with_requires_grad(py, result, requires_grad)
        }
    };
}
float_factory!(rand, |t, g| dist::uniform_(t, 0.0, 1.0, g));
float_factory!(randn, |t, g| dist::normal_(t, 0.0, 1.0, g));

/// `randint(low, high, size)`: the Python layer sorts out the `randint(high, size)` overload.
#[pyfunction]
#[pyo3(signature = (low, high, size, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
fn _randint(
    py: Python<'_>,
    low: i64,
    high: i64,
    size: &Bound<'_, PyAny>,
    generator: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    pin_memory: bool,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = (layout, pin_memory);
        let shape = size_from(&PyTuple::empty(py), Some(size), "randint")?;
        let opts = factory_options(dtype, device, requires_grad)?;
        let g = gen_arg(generator)?;
        let dt = opts.dtype.or_else(|| out_dtype(out)).unwrap_or(DType::I64);
        fresh(py, &shape, dt, opts.device, out, |t| {
            dist::random_(t, low, Some(high), g.get())
        })
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
fn randperm(
    py: Python<'_>,
    n: i64,
    generator: Option<&Bound<'_, PyAny>>,
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
        if n < 0 {
            return Err(PyRuntimeError::new_err(format!(
                "n must be non-negative, got{n}"
            )));
        }
        let g = gen_arg(generator)?;
        let dt = opts.dtype.or_else(|| out_dtype(out)).unwrap_or(DType::I64);
        let t = dist::randperm(n as usize, dt, g.get())
            .and_then(|t| t.to_device(opts.device))
            .py()?;
        finish_out(py, wrap(py, t)?, out)
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

/// `torch.normal`: numbers for both `mean` and `std` need `size`; otherwise tensors broadcast.
#[pyfunction]
#[pyo3(signature = (mean=None, std=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=false, pin_memory=false))]
#[allow(clippy::too_many_arguments)]
fn normal(
    py: Python<'_>,
    mean: Option<&Bound<'_, PyAny>>,
    std: Option<&Bound<'_, PyAny>>,
    size: Option<&Bound<'_, PyAny>>,
    generator: Option<&Bound<'_, PyAny>>,
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
        let g = gen_arg(generator)?;
        let is_tensor =
            |o: Option<&Bound<'_, PyAny>>| o.is_some_and(|o| o.cast::<PyTensor>().is_ok());
        if !is_tensor(mean) && !is_tensor(std) {
            let m = mean
                .map(|m| scalar_arg(m, "normal"))
                .transpose()?
                .map_or(0.0, |s| s.to_f64());
            let s = std
                .map(|s| scalar_arg(s, "normal"))
                .transpose()?
                .map_or(1.0, |s| s.to_f64());
            let Some(size) = size.filter(|s| !s.is_none()) else {
                return Err(PyTypeError::new_err(
                "normal() received an invalid combination of arguments - got (float, float), but \
                 expected one of size= with numbers for mean and std",
            ));
            };
            let shape = size_from(&PyTuple::empty(py), Some(size), "normal")?;
            let dt = opts
                .dtype
                .or_else(|| out_dtype(out))
                .unwrap_or_else(default_float);
            return fresh(py, &shape, dt, opts.device, out, |t| {
                dist::normal_(t, m, s, g.get())
            });
        }
        let m = match mean {
            Some(m) => tensor_or_scalar(m, "normal")?,
            None => Tensor::wrapped_scalar(Scalar::Float(0.0)).py()?,
        };
        let s = match std {
            Some(s) => tensor_or_scalar(s, "normal")?,
            None => Tensor::wrapped_scalar(Scalar::Float(1.0)).py()?,
        };
        let t = dist::normal_tensors(&m, &s, g.get()).py()?;
        finish_out(py, wrap(py, t)?, out)
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

/// The dtype and device of a `*_like` result.
fn like_opts(
    input: &Tensor,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<(DType, Device)> {
    let opts = factory_options(dtype, device, requires_grad)?;
    let dev = if device.is_some_and(|d| !d.is_none()) {
        opts.device
    } else {
        input.device()
    };
    Ok((opts.dtype.unwrap_or(input.dtype()), dev))
}

macro_rules! like_random {
    ($name:ident, $fill:expr) => {
        #[pyfunction]
        #[pyo3(signature = (input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
        #[allow(clippy::too_many_arguments)]
        fn $name(
            py: Python<'_>,
            input: PyRef<'_, PyTensor>,
            generator: Option<&Bound<'_, PyAny>>,
            dtype: Option<&Bound<'_, PyAny>>,
            layout: Option<&Bound<'_, PyAny>>,
            device: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            memory_format: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Py<PyTensor>> {
            let result = (|| -> PyResult<Py<PyTensor>> {
            let _ = (layout, memory_format);
            let (dt, dev) = like_opts(&input.inner, dtype, device, requires_grad)?;
            let g = gen_arg(generator)?;
            fresh(py, input.inner.shape(), dt, dev, None, |t| ($fill)(t, g.get()))
        })();
            crate::autograd::with_requires_grad(py, result, requires_grad)
        }
    };
}
like_random!(rand_like, |t, g| dist::uniform_(t, 0.0, 1.0, g));
like_random!(randn_like, |t, g| dist::normal_(t, 0.0, 1.0, g));

#[pyfunction]
#[pyo3(signature = (input, low, high, *, generator=None, dtype=None, layout=None, device=None, requires_grad=false, memory_format=None))]
#[allow(clippy::too_many_arguments)]
fn _randint_like(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    low: i64,
    high: i64,
    generator: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    layout: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    memory_format: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyTensor>> {
    let result = (|| -> PyResult<Py<PyTensor>> {
        let _ = (layout, memory_format);
        let (dt, dev) = like_opts(&input.inner, dtype, device, requires_grad)?;
        let g = gen_arg(generator)?;
        fresh(py, input.inner.shape(), dt, dev, None, |t| {
            dist::random_(t, low, Some(high), g.get())
        })
    })();
    crate::autograd::with_requires_grad(py, result, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (seed))]
fn manual_seed(seed: &Bound<'_, PyAny>) -> PyResult<()> {
    ferrotorch_core::random::default_generator().manual_seed(seed_arg(seed)?);
    Ok(())
}

#[pyfunction]
fn get_rng_state(py: Python<'_>) -> PyResult<Py<PyTensor>> {
    wrap(
        py,
        state_tensor(ferrotorch_core::random::default_generator())?,
    )
}

#[pyfunction]
fn set_rng_state(new_state: &Bound<'_, PyAny>) -> PyResult<()> {
    set_state_from(ferrotorch_core::random::default_generator(), new_state)
}

/// In-place random methods: each draws into `self` and returns it.
#[pymethods]
impl PyTensor {
    #[pyo3(signature = (from_=0.0, to=1.0, *, generator=None))]
    fn uniform_<'py>(
        slf: &Bound<'py, Self>,
        from_: f64,
        to: f64,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        dist::uniform_(&slf.borrow().inner, from_, to, gen_arg(generator)?.get()).py()?;
        Ok(slf.clone())
    }

    #[pyo3(signature = (mean=0.0, std=1.0, *, generator=None))]
    fn normal_<'py>(
        slf: &Bound<'py, Self>,
        mean: f64,
        std: f64,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        dist::normal_(&slf.borrow().inner, mean, std, gen_arg(generator)?.get()).py()?;
        Ok(slf.clone())
    }

    #[pyo3(signature = (mean=1.0, std=2.0, *, generator=None))]
    fn log_normal_<'py>(
        slf: &Bound<'py, Self>,
        mean: f64,
        std: f64,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        dist::log_normal_(&slf.borrow().inner, mean, std, gen_arg(generator)?.get()).py()?;
        Ok(slf.clone())
    }

    #[pyo3(signature = (lambd=1.0, *, generator=None))]
    fn exponential_<'py>(
        slf: &Bound<'py, Self>,
        lambd: f64,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        dist::exponential_(&slf.borrow().inner, lambd, gen_arg(generator)?.get()).py()?;
        Ok(slf.clone())
    }

    #[pyo3(signature = (median=0.0, sigma=1.0, *, generator=None))]
    fn cauchy_<'py>(
        slf: &Bound<'py, Self>,
        median: f64,
        sigma: f64,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        dist::cauchy_(
            &slf.borrow().inner,
            median,
            sigma,
            gen_arg(generator)?.get(),
        )
        .py()?;
        Ok(slf.clone())
    }

    #[pyo3(signature = (p, *, generator=None))]
    fn geometric_<'py>(
        slf: &Bound<'py, Self>,
        p: f64,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        dist::geometric_(&slf.borrow().inner, p, gen_arg(generator)?.get()).py()?;
        Ok(slf.clone())
    }

    /// `random_()`, `random_(to)`, `random_(from, to)` (`to=None`: up to the dtype's maximum).
    #[pyo3(signature = (*args, to=None, generator=None))]
    fn random_<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'_, PyTuple>,
        to: Option<&Bound<'_, PyAny>>,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let opt = |o: Option<Bound<'_, PyAny>>| -> PyResult<Option<i64>> {
            o.filter(|v| !v.is_none())
                .map(|v| v.extract::<i64>())
                .transpose()
        };
        let to_kw = opt(to.cloned())?;
        let (from, to) = match args.len() {
            0 => (0, to_kw),
            1 if to.is_some() => (opt(Some(args.get_item(0)?))?.unwrap_or(0), to_kw),
            1 => (0, opt(Some(args.get_item(0)?))?),
            2 => (
                opt(Some(args.get_item(0)?))?.unwrap_or(0),
                opt(Some(args.get_item(1)?))?,
            ),
            n => {
                return Err(PyTypeError::new_err(format!(
                    "random_() takes at most 2 arguments ({n} given)"
                )))
            }
        };
        let t = slf.borrow().inner.clone();
        // With no bounds, floats draw integers in [0, 2^mantissa] as torch does.
        dist::random_(&t, from, to, gen_arg(generator)?.get()).py()?;
        Ok(slf.clone())
    }

    #[pyo3(signature = (p=None, *, generator=None))]
    fn bernoulli_<'py>(
        slf: &Bound<'py, Self>,
        p: Option<&Bound<'_, PyAny>>,
        generator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = slf.borrow().inner.clone();
        let g = gen_arg(generator)?;
        match p {
            Some(p) if p.cast::<PyTensor>().is_ok() => {
                let pt = p.cast::<PyTensor>()?.borrow().inner.clone();
                dist::bernoulli_tensor_(&t, &pt, g.get()).py()?;
            }
            Some(p) => {
                dist::bernoulli_scalar_(&t, scalar_arg(p, "bernoulli_")?.to_f64(), g.get()).py()?
            }
            None => dist::bernoulli_scalar_(&t, 0.5, g.get()).py()?,
        }
        Ok(slf.clone())
    }

    /// `bernoulli()`: draws with `self` as probabilities; `bernoulli(p)`: with probability `p`.
    #[pyo3(signature = (p=None, *, generator=None, out=None))]
    fn bernoulli(
        &self,
        py: Python<'_>,
        p: Option<f64>,
        generator: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let g = gen_arg(generator)?;
        let src = &self.inner;
        fresh(
            py,
            src.shape(),
            src.dtype(),
            src.device(),
            out,
            |t| match p {
                Some(p) => dist::bernoulli_scalar_(t, p, g.get()),
                None => dist::bernoulli_tensor_(t, src, g.get()),
            },
        )
    }

    #[pyo3(signature = (num_samples, replacement=false, *, generator=None, out=None))]
    fn multinomial(
        &self,
        py: Python<'_>,
        num_samples: i64,
        replacement: bool,
        generator: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let n = usize::try_from(num_samples)
            .map_err(|_| PyRuntimeError::new_err("cannot sample n_sample <= 0 samples"))?;
        let t = dist::multinomial(&self.inner, n, replacement, gen_arg(generator)?.get()).py()?;
        finish_out(py, wrap(py, t)?, out)
    }
}

/// One raw Philox4x32-10 block, exposed so tests can pin the known-answer vectors.
#[pyfunction]
fn _philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    ferrotorch_core::random::philox4x32_10(counter, key)
}

/// The default generator as a Python object (`torch.default_generator`).
fn default_generator_object(py: Python<'_>) -> PyResult<Py<PyGenerator>> {
    Py::new(
        py,
        PyGenerator {
            g: GenRef::Default,
            device: Device::Cpu,
        },
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGenerator>()?;
    m.add("default_generator", default_generator_object(m.py())?)?;
    m.add_function(wrap_pyfunction!(rand, m)?)?;
    m.add_function(wrap_pyfunction!(randn, m)?)?;
    m.add_function(wrap_pyfunction!(_randint, m)?)?;
    m.add_function(wrap_pyfunction!(randperm, m)?)?;
    m.add_function(wrap_pyfunction!(normal, m)?)?;
    m.add_function(wrap_pyfunction!(rand_like, m)?)?;
    m.add_function(wrap_pyfunction!(randn_like, m)?)?;
    m.add_function(wrap_pyfunction!(_randint_like, m)?)?;
    m.add_function(wrap_pyfunction!(manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(get_rng_state, m)?)?;
    m.add_function(wrap_pyfunction!(set_rng_state, m)?)?;
    m.add_function(wrap_pyfunction!(_philox4x32_10, m)?)?;
    Ok(())
}
