//! Graph nodes (`grad_fn`s), the edges between them, and the tensors they save for backward.
//!
//! A node is one recorded op. It owns a backward rule (a closure over plain data: shapes,
//! scalars, flags) and the tensors the rule needs, kept apart as [`Saved`] entries so that they
//! can be freed once backward has used them (unless `retain_graph`) while the rule itself stays.
//! A node that saved nothing can therefore run again, as in torch.

use super::meta::TensorHook;
use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// Where a gradient goes: input `input_nr` of `node` (for a leaf, its `AccumulateGrad`).
#[derive(Clone)]
pub struct Edge {
    pub node: Arc<Node>,
    pub input_nr: usize,
}

/// What a gradient flowing along an edge must look like: the forward input's shape, dtype and
/// device. The engine sums a broadcast gradient back to `shape` and casts it to `dtype`, so
/// backward rules never un-broadcast themselves.
#[derive(Clone, Debug)]
pub struct InputMeta {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub device: Device,
}

impl InputMeta {
    pub fn of(t: &Tensor) -> InputMeta {
        InputMeta {
            shape: t.shape().to_vec(),
            dtype: t.dtype(),
            device: t.device(),
        }
    }
}

/// The result of a backward rule: one optional gradient per forward input.
pub type Grads = Vec<Option<Tensor>>;

/// A backward rule: output gradients in, input gradients out.
pub type Rule = dyn Fn(&BackwardArgs) -> Result<Grads> + Send + Sync;

/// What a node does when backward reaches it.
pub enum NodeKind {
    /// A recorded op with its rule.
    Function(Box<Rule>),
    /// The sink of a leaf tensor: adds the incoming gradient into `leaf.grad`.
    AccumulateGrad(Tensor),
}

/// A tensor kept for backward, with the version its storage had when saved: if an in-place op
/// changed it since, backward fails instead of computing a wrong gradient.
pub struct Saved {
    tensor: Tensor,
    version: u64,
    /// `Some(n)` when this is output `n` of the node itself. Then `tensor` is a detached alias
    /// (holding the node from its own output would be a cycle) and the node is re-attached when
    /// the value is unpacked, so double backward still sees where it came from.
    output_nr: Option<usize>,
    /// For a saved output: the node and output number it came from, for the version error
    /// message (a saved input names its `grad_fn` at the time of the error, as torch does).
    origin: Option<(&'static str, usize)>,
}

/// What an op saves: one of its inputs, or one of its own outputs (by index).
pub enum Save {
    Tensor(Tensor),
    Output(usize),
}

impl Saved {
    pub(crate) fn input(t: &Tensor) -> Saved {
        Saved {
            tensor: t.clone(),
            version: t.storage().version(),
            output_nr: None,
            origin: None,
        }
    }
    pub(crate) fn output(t: &Tensor, output_nr: usize, name: &'static str) -> Saved {
        Saved {
            tensor: t.detach(),
            version: t.storage().version(),
            output_nr: Some(output_nr),
            origin: Some((name, output_nr)),
        }
    }
}

/// Everything a rule gets when backward runs it.
pub struct BackwardArgs<'a> {
    /// One entry per forward output; `None` where no gradient reached that output.
    pub grads: &'a [Option<Tensor>],
    /// `needs[i]`: whether input `i` wants a gradient (a rule may skip the others).
    pub needs: &'a [bool],
    pub node: &'a Arc<Node>,
}

impl BackwardArgs<'_> {
    /// The gradient of output `i`, zeros when none arrived.
    pub fn grad(&self, i: usize) -> Result<Tensor> {
        match self.grads.get(i).and_then(|g| g.clone()) {
            Some(g) => Ok(g),
            None => {
                let m = self.node.outputs.get(i).ok_or_else(|| {
                    Error::runtime(format!("{}: no output {i}", self.node.name()))
                })?;
                Tensor::zeros(&m.shape, m.dtype, m.device)
            }
        }
    }
    pub fn needs(&self, i: usize) -> bool {
        self.needs.get(i).copied().unwrap_or(false)
    }
    /// Saved tensor `i`, checked against in-place changes since it was saved.
    pub fn saved(&self, i: usize) -> Result<Tensor> {
        self.node.unpack(i)
    }
}

static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// A node of the backward graph (`Tensor.grad_fn`).
pub struct Node {
    name: &'static str,
    /// Creation order: the engine runs later nodes first, as torch does, which frees memory of
    /// the most recent activations first.
    pub seq: u64,
    pub kind: NodeKind,
    /// One entry per forward input; `None` for inputs that do not require grad.
    pub next: Vec<Option<Edge>>,
    pub inputs: Vec<InputMeta>,
    pub outputs: Vec<InputMeta>,
    saved: Mutex<SavedState>,
    /// Hooks on this node's outputs (`Tensor.register_hook` on a non-leaf), by output number.
    pub(crate) pre_hooks: Mutex<Vec<(u64, usize, TensorHook)>>,
    /// Non-leaf outputs that asked for `retain_grad()`.
    pub(crate) retained: Mutex<Vec<(usize, Weak<crate::tensor::TensorImpl>)>>,
    /// Called when the saved state is freed (custom Python Functions free theirs there).
    on_release: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
}

struct SavedState {
    values: Vec<Saved>,
    released: bool,
}

impl Node {
    pub(crate) fn new(
        name: &'static str,
        kind: NodeKind,
        next: Vec<Option<Edge>>,
        inputs: Vec<InputMeta>,
        outputs: Vec<InputMeta>,
        saved: Vec<Saved>,
    ) -> Arc<Node> {
        Arc::new(Node {
            name,
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            kind,
            next,
            inputs,
            outputs,
            saved: Mutex::new(SavedState {
                values: saved,
                released: false,
            }),
            pre_hooks: Mutex::new(Vec::new()),
            retained: Mutex::new(Vec::new()),
            on_release: Mutex::new(None),
        })
    }

    /// torch's class name of this node: `AddBackward0`, `AccumulateGrad` ...
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The leaf this node accumulates into, for `AccumulateGrad`.
    pub fn variable(&self) -> Option<&Tensor> {
        match &self.kind {
            NodeKind::AccumulateGrad(t) => Some(t),
            NodeKind::Function(_) => None,
        }
    }

    fn saved_state(&self) -> MutexGuard<'_, SavedState> {
        // A poisoned lock means a rule panicked; the saved list itself is still consistent.
        self.saved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Frees the saved tensors (after backward, unless `retain_graph`).
    pub fn release(&self) {
        {
            let mut s = self.saved_state();
            if !s.values.is_empty() {
                s.values.clear();
                s.released = true;
            }
        }
        let hook = self
            .on_release
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Registers what [`Node::release`] must also free.
    pub fn set_on_release(&self, f: Box<dyn Fn() + Send + Sync>) {
        *self.on_release.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }

    pub(crate) fn unpack(self: &Arc<Self>, i: usize) -> Result<Tensor> {
        let s = self.saved_state();
        if s.released {
            return Err(Error::runtime(
                "Trying to backward through the graph a second time (or directly access saved \
                 tensors after they have already been freed). Saved intermediate values of the \
                 graph are freed when you call .backward() or autograd.grad(). Specify \
                 retain_graph=True if you need to backward through the graph a second time or \
                 if you need to access saved tensors after calling backward.",
            ));
        }
        let saved = s
            .values
            .get(i)
            .ok_or_else(|| Error::runtime(format!("{}: no saved tensor {i}", self.name)))?;
        let now = saved.tensor.storage().version();
        if now != saved.version {
            let t = &saved.tensor;
            let origin = match saved.origin.or_else(|| t.grad_fn_edge_name()) {
                Some((name, nr)) => format!(", which is output {nr} of {name},"),
                None => String::new(),
            };
            // torch's legacy type name: torch.FloatTensor, torch.cuda.LongTensor ...
            let device = match t.device() {
                crate::Device::Cpu => "",
                crate::Device::Cuda(_) => "cuda.",
            };
            return Err(Error::runtime(format!(
                "one of the variables needed for gradient computation has been modified by an \
                 inplace operation: [torch.{device}{}Tensor {:?}]{origin} is at version {now}; \
                 expected version {} instead. Hint: enable anomaly detection to find the \
                 operation that failed to compute its gradient, with \
                 torch.autograd.set_detect_anomaly(True).",
                crate::dtype::scalar_type_name(t.dtype()),
                t.shape(),
                saved.version
            )));
        }
        match saved.output_nr {
            Some(nr) if super::is_grad_enabled() => Ok(saved.tensor.with_grad_fn(self.clone(), nr)),
            _ => Ok(saved.tensor.clone()),
        }
    }

    /// Runs this node's rule on output gradients and shapes the results like the inputs
    /// (summing broadcast dimensions away, casting to the input dtype).
    pub fn apply(self: &Arc<Self>, grads: &[Option<Tensor>]) -> Result<Grads> {
        let NodeKind::Function(rule) = &self.kind else {
            return Ok(vec![]);
        };
        let needs: Vec<bool> = self.next.iter().map(|e| e.is_some()).collect();
        let args = BackwardArgs {
            grads,
            needs: &needs,
            node: self,
        };
        let mut out = rule(&args)?;
        if out.len() != self.next.len() {
            return Err(Error::runtime(format!(
                "function {} returned an incorrect number of gradients (expected {}, got {})",
                self.name,
                self.next.len(),
                out.len()
            )));
        }
        for (i, g) in out.iter_mut().enumerate() {
            if self.next[i].is_none() {
                *g = None;
                continue;
            }
            if let Some(grad) = g.take() {
                *g = Some(super::engine::shape_like(
                    self.name,
                    i,
                    grad,
                    &self.inputs[i],
                )?);
            }
        }
        Ok(out)
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} #{}>", self.name, self.seq)
    }
}

/// A `'static` copy of a node name made at run time (custom Functions are named after their
/// Python class); each distinct name is stored once.
pub fn intern_name(name: &str) -> &'static str {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(leaked);
    leaked
}
