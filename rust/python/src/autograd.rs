//! The Python face of autograd: `requires_grad`, `.grad`, `grad_fn`, `backward()`, hooks,
//! grad mode, `autograd.grad`, and the node behind custom `autograd.Function`s. Backward runs
//! with the GIL released; Python hooks and Functions take it back for their own call only.

use crate::errors::{from_py, IntoPyResult};
use crate::tensor::{wrap, PyTensor};
use ferrotorch_core::autograd::{self, api, BackwardArgs, Grads, Node};
use ferrotorch_core::Tensor;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple};
use std::sync::Arc;

/// Applies a factory's `requires_grad=True` to the tensor it made.
pub fn with_requires_grad<T>(py: Python<'_>, made: PyResult<Py<T>>, flag: bool) -> PyResult<Py<T>> {
    let made = made?;
    if flag {
        let t = made
            .bind(py)
            .as_any()
            .cast::<PyTensor>()?
            .borrow()
            .inner
            .clone();
        t.set_requires_grad(true).py()?;
    }
    Ok(made)
}

/// torch's refusal of `out=` when the result would need a graph.
pub fn check_out(op: &str, inputs: &[&Tensor]) -> PyResult<()> {
    if autograd::needs_grad(inputs) {
        return Err(PyRuntimeError::new_err(format!(
            "{op}(): functions with out=... arguments don't support automatic differentiation, \
             but one of the arguments requires grad."
        )));
    }
    Ok(())
}

fn tensors(list: &[PyRef<'_, PyTensor>]) -> Vec<Tensor> {
    list.iter().map(|t| t.inner.clone()).collect()
}

fn maybe_tensors(list: &[Option<PyRef<'_, PyTensor>>]) -> Vec<Option<Tensor>> {
    list.iter()
        .map(|t| t.as_ref().map(|t| t.inner.clone()))
        .collect()
}

fn wrap_all(py: Python<'_>, ts: Vec<Option<Tensor>>) -> PyResult<Vec<Option<Py<PyTensor>>>> {
    ts.into_iter()
        .map(|t| t.map(|t| wrap(py, t)).transpose())
        .collect()
}

/// A Python callable as a gradient hook: `hook(grad)` may return a replacement or None.
fn py_hook(hook: Py<PyAny>) -> autograd::TensorHook {
    Arc::new(move |g: &Tensor| {
        Python::attach(|py| -> PyResult<Option<Tensor>> {
            let r = hook.call1(py, (wrap(py, g.clone())?,))?;
            if r.is_none(py) {
                return Ok(None);
            }
            Ok(Some(r.bind(py).cast::<PyTensor>()?.borrow().inner.clone()))
        })
        .map_err(from_py)
    })
}

/// The handle `register_hook` returns; `remove()` unregisters the hook.
#[pyclass(name = "RemovableHandle", module = "ferrotorch.utils.hooks")]
pub struct RemovableHandle {
    tensor: Tensor,
    id: u64,
}

#[pymethods]
impl RemovableHandle {
    fn remove(&self) {
        self.tensor.remove_hook(self.id);
    }
    #[getter]
    fn id(&self) -> u64 {
        self.id
    }
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    fn __exit__(&self, _a: Py<PyAny>, _b: Py<PyAny>, _c: Py<PyAny>) {
        self.remove();
    }
}

/// A node of the backward graph, as `Tensor.grad_fn` shows it.
#[pyclass(name = "Node", module = "ferrotorch.autograd.graph", frozen, weakref)]
pub struct PyNode {
    pub inner: Arc<Node>,
}

/// Live Python objects of graph nodes, keyed by node address, so that a node always shows as
/// the same object (`a.grad_fn is b.grad_fn` for two outputs of one op, as in torch). A live
/// entry keeps its node alive, so an address found here cannot belong to a different node.
static NODE_OBJECTS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn node_object(py: Python<'_>, inner: Arc<Node>) -> PyResult<Py<PyNode>> {
    let cache = NODE_OBJECTS
        .get_or_try_init(py, || -> PyResult<_> {
            Ok(py
                .import("weakref")?
                .getattr("WeakValueDictionary")?
                .call0()?
                .unbind())
        })?
        .bind(py);
    let key = Arc::as_ptr(&inner) as usize;
    if let Ok(found) = cache.get_item(key) {
        return Ok(found.cast_into::<PyNode>()?.unbind());
    }
    let obj = Py::new(py, PyNode { inner })?;
    cache.set_item(key, &obj)?;
    Ok(obj)
}

#[pymethods]
impl PyNode {
    /// The node's name; torch gives its C++ accumulator node its namespaced name.
    fn name(&self) -> &'static str {
        match self.inner.variable() {
            Some(_) => "torch::autograd::AccumulateGrad",
            None => self.inner.name(),
        }
    }
    /// `((next_node or None, input_nr), ...)`, one pair per forward input.
    #[getter]
    fn next_functions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = self
            .inner
            .next
            .iter()
            .map(|e| -> PyResult<Bound<'py, PyTuple>> {
                match e {
                    Some(e) => {
                        let n = node_object(py, e.node.clone())?;
                        PyTuple::new(
                            py,
                            [
                                n.into_any(),
                                e.input_nr.into_pyobject(py)?.into_any().unbind(),
                            ],
                        )
                    }
                    None => PyTuple::new(
                        py,
                        [py.None(), 0usize.into_pyobject(py)?.into_any().unbind()],
                    ),
                }
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }
    /// The leaf an `AccumulateGrad` node accumulates into.
    #[getter]
    fn variable(&self, py: Python<'_>) -> PyResult<Option<Py<PyTensor>>> {
        self.inner
            .variable()
            .map(|t| wrap(py, t.clone()))
            .transpose()
    }
    fn __repr__(&self) -> String {
        format!(
            "<{} object at {:#x}>",
            self.inner.name(),
            Arc::as_ptr(&self.inner) as usize
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyNode>()
            .is_ok_and(|o| Arc::ptr_eq(&o.get().inner, &self.inner))
    }
    fn __hash__(&self) -> isize {
        Arc::as_ptr(&self.inner) as isize
    }
}

#[pymethods]
impl PyTensor {
    #[getter(requires_grad)]
    fn get_requires_grad(&self) -> bool {
        self.inner.requires_grad()
    }
    #[setter(requires_grad)]
    fn put_requires_grad(&self, flag: bool) -> PyResult<()> {
        self.inner.set_requires_grad(flag).py()
    }
    #[pyo3(signature = (requires_grad=true))]
    fn requires_grad_<'py>(
        slf: &Bound<'py, Self>,
        requires_grad: bool,
    ) -> PyResult<Bound<'py, Self>> {
        slf.borrow().inner.set_requires_grad(requires_grad).py()?;
        Ok(slf.clone())
    }
    #[getter]
    fn is_leaf(&self) -> bool {
        self.inner.is_leaf()
    }
    #[getter(grad)]
    fn get_grad(&self, py: Python<'_>) -> PyResult<Option<Py<PyTensor>>> {
        self.inner.grad().map(|g| wrap(py, g)).transpose()
    }
    #[setter(grad)]
    fn put_grad(&self, grad: Option<PyRef<'_, PyTensor>>) -> PyResult<()> {
        self.inner.set_grad(grad.map(|g| g.inner.clone())).py()
    }
    #[getter]
    fn grad_fn(&self, py: Python<'_>) -> PyResult<Option<Py<PyNode>>> {
        self.inner
            .grad_fn()
            .map(|inner| node_object(py, inner))
            .transpose()
    }
    fn retain_grad(&self) -> PyResult<()> {
        self.inner.retain_grad().py()
    }
    #[getter]
    fn retains_grad(&self) -> bool {
        self.inner.retains_grad()
    }
    #[getter]
    fn output_nr(&self) -> usize {
        self.inner.output_nr()
    }
    /// The same data, outside the graph (shares memory and the version counter).
    fn detach(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        wrap(py, self.inner.detach())
    }
    fn detach_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        slf.borrow().inner.detach_().py()?;
        Ok(slf.clone())
    }
    #[getter(data)]
    fn get_data(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        wrap(py, self.inner.detach())
    }
    /// `t.data = other`: `t` now views `other`'s memory; it keeps `requires_grad` (a leaf stays a
    /// leaf) and drops a `.grad` that no longer fits.
    #[setter(data)]
    fn put_data(slf: &Bound<'_, Self>, other: PyRef<'_, PyTensor>) -> PyResult<()> {
        let old = slf.borrow().inner.clone();
        let new = other.inner.detach();
        if old.requires_grad() && old.is_leaf() && new.dtype().is_floating_point() {
            new.set_requires_grad(true).py()?;
            if let Some(g) = old.grad() {
                if g.shape() == new.shape()
                    && g.dtype() == new.dtype()
                    && g.device() == new.device()
                {
                    new.set_grad(Some(g)).py()?;
                }
            }
        }
        slf.borrow_mut().inner = new;
        Ok(())
    }
    #[getter]
    fn _version(&self) -> u64 {
        self.inner.storage().version()
    }
    #[getter]
    fn _base(&self, py: Python<'_>) -> PyResult<Option<Py<PyTensor>>> {
        self.inner
            .view_base()
            .map(|b| wrap(py, b.clone()))
            .transpose()
    }
    #[pyo3(signature = (gradient=None, retain_graph=None, create_graph=false, inputs=None))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<PyRef<'_, PyTensor>>,
        retain_graph: Option<bool>,
        create_graph: bool,
        inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let inputs = tensor_list(inputs)?;
        let root = [self.inner.clone()];
        let grads = [gradient.map(|g| g.inner.clone())];
        py.detach(|| api::backward(&root, &grads, retain_graph, create_graph, inputs.as_deref()))
            .py()
    }
    fn register_hook(&self, hook: Py<PyAny>) -> PyResult<RemovableHandle> {
        let id = self.inner.register_hook(py_hook(hook)).py()?;
        Ok(RemovableHandle {
            tensor: self.inner.clone(),
            id,
        })
    }
    fn register_post_accumulate_grad_hook(
        slf: &Bound<'_, Self>,
        hook: Py<PyAny>,
    ) -> PyResult<RemovableHandle> {
        let this: Py<PyAny> = slf.clone().into_any().unbind();
        let f: autograd::PostAccumulateHook = Arc::new(move |_leaf: &Tensor| {
            Python::attach(|py| hook.call1(py, (this.clone_ref(py),)).map(|_| ())).map_err(from_py)
        });
        let t = slf.borrow().inner.clone();
        let id = t.register_post_accumulate_grad_hook(f).py()?;
        Ok(RemovableHandle { tensor: t, id })
    }
}

/// `None`, a Tensor, or a sequence of Tensors, as a list.
fn tensor_list(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<Tensor>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(Some(vec![t.borrow().inner.clone()]));
    }
    let list: Vec<PyRef<'_, PyTensor>> = obj.extract()?;
    Ok(Some(tensors(&list)))
}

/// Enters (a dtype) or leaves (`None`) the autocast region of CPU or CUDA tensors.
#[pyfunction]
#[pyo3(signature = (cuda, dtype=None))]
fn _set_autocast_region(cuda: bool, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let dtype = dtype.map(crate::dtype::extract_dtype).transpose()?;
    autograd::autocast::set_region(cuda, dtype);
    Ok(())
}

/// The dtype of the active autocast region of CPU or CUDA tensors, or `None`.
#[pyfunction]
fn _autocast_region(py: Python<'_>, cuda: bool) -> Option<Py<crate::dtype::PyDType>> {
    autograd::autocast::region(cuda).map(|d| crate::dtype::dtype_object(py, d))
}

#[pyfunction]
fn _set_grad_enabled(on: bool) {
    autograd::set_grad_enabled(on);
}
#[pyfunction]
fn is_grad_enabled() -> bool {
    autograd::is_grad_enabled()
}
#[pyfunction]
fn _set_inference_mode(on: bool) {
    autograd::set_inference_mode(on);
}
#[pyfunction]
fn is_inference_mode_enabled() -> bool {
    autograd::is_inference_mode_enabled()
}
#[pyfunction]
fn _set_anomaly_enabled(on: bool) {
    autograd::set_anomaly_enabled(on);
}
#[pyfunction]
fn is_anomaly_enabled() -> bool {
    autograd::is_anomaly_enabled()
}

/// `autograd.backward(tensors, grad_tensors, retain_graph, create_graph, inputs)`.
#[pyfunction]
#[pyo3(signature = (tensors, grad_tensors, retain_graph=None, create_graph=false, inputs=None))]
fn _run_backward(
    py: Python<'_>,
    tensors: Vec<PyRef<'_, PyTensor>>,
    grad_tensors: Vec<Option<PyRef<'_, PyTensor>>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    inputs: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let inputs = tensor_list(inputs)?;
    let (roots, grads) = (tensors_of(&tensors), maybe_tensors(&grad_tensors));
    py.detach(|| {
        api::backward(
            &roots,
            &grads,
            retain_graph,
            create_graph,
            inputs.as_deref(),
        )
    })
    .py()
}

fn tensors_of(list: &[PyRef<'_, PyTensor>]) -> Vec<Tensor> {
    tensors(list)
}

/// `autograd.grad(outputs, inputs, grad_outputs, ...)`: a list with None where unused.
#[pyfunction]
#[pyo3(signature = (outputs, inputs, grad_outputs, retain_graph=None, create_graph=false, allow_unused=false))]
fn _run_grad(
    py: Python<'_>,
    outputs: Vec<PyRef<'_, PyTensor>>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    grad_outputs: Vec<Option<PyRef<'_, PyTensor>>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: bool,
) -> PyResult<Vec<Option<Py<PyTensor>>>> {
    let (outs, ins, gos) = (
        tensors(&outputs),
        tensors(&inputs),
        maybe_tensors(&grad_outputs),
    );
    let got = py
        .detach(|| api::grad(&outs, &ins, &gos, retain_graph, create_graph, allow_unused))
        .py()?;
    wrap_all(py, got)
}

/// Records a custom Function's outputs: `backward(node, *grads)` returns one gradient (or None)
/// per input (`node` is the recorded node, for re-attaching saved outputs to it); `release()`
/// frees the context's saved tensors. Returns the outputs with history.
#[pyfunction]
fn _record_function(
    py: Python<'_>,
    name: &str,
    backward: Py<PyAny>,
    release: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    outputs: Vec<PyRef<'_, PyTensor>>,
    materialize_grads: bool,
) -> PyResult<Vec<Py<PyTensor>>> {
    let ins = tensors(&inputs);
    let outs = tensors(&outputs);
    let rule = move |a: &BackwardArgs| -> ferrotorch_core::Result<Grads> {
        let grads: Vec<Option<Tensor>> = (0..a.grads.len())
            .map(|i| match (&a.grads[i], materialize_grads) {
                (Some(g), _) => Ok(Some(g.clone())),
                (None, true) => a.grad(i).map(Some),
                (None, false) => Ok(None),
            })
            .collect::<ferrotorch_core::Result<_>>()?;
        Python::attach(|py| -> PyResult<Grads> {
            let mut args = vec![node_object(py, a.node.clone())?.into_any()];
            args.extend(
                wrap_all(py, grads)?
                    .into_iter()
                    .map(|g| g.map_or_else(|| py.None(), Py::into_any)),
            );
            let r = backward.call1(py, PyTuple::new(py, args)?)?;
            let items: Vec<Option<PyRef<'_, PyTensor>>> = r
                .bind(py)
                .cast::<PyList>()
                .map_or_else(|_| r.extract(py), |l| l.extract())?;
            Ok(items
                .iter()
                .map(|t| t.as_ref().map(|t| t.inner.clone()))
                .collect())
        })
        .map_err(from_py)
    };
    let refs: Vec<&Tensor> = ins.iter().collect();
    let node_name = ferrotorch_core::autograd::node::intern_name(name);
    let recorded = autograd::record(node_name, &refs, outs, vec![], rule);
    if let Some(node) = recorded.iter().find_map(|t| t.grad_fn()) {
        node.set_on_release(Box::new(move || {
            Python::attach(|py| {
                let _ = release.call0(py);
            })
        }));
    }
    recorded.into_iter().map(|t| wrap(py, t)).collect()
}

/// `t` (detached) as output `output_nr` of `node`: how a custom Function's saved output gets its
/// history back when backward builds a graph.
#[pyfunction]
fn _attach_output(
    py: Python<'_>,
    t: PyRef<'_, PyTensor>,
    node: PyRef<'_, PyNode>,
    output_nr: usize,
) -> PyResult<Py<PyTensor>> {
    wrap(py, t.inner.with_grad_fn(node.inner.clone(), output_nr))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyNode>()?;
    m.add_class::<RemovableHandle>()?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_autocast_region, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_region, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_inference_mode, m)?)?;
    m.add_function(wrap_pyfunction!(is_inference_mode_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(is_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_run_backward, m)?)?;
    m.add_function(wrap_pyfunction!(_run_grad, m)?)?;
    m.add_function(wrap_pyfunction!(_record_function, m)?)?;
    m.add_function(wrap_pyfunction!(_attach_output, m)?)?;
    Ok(())
}
