//! Per-tensor autograd state (`requires_grad`, `.grad`, `grad_fn`, hooks) and the `Tensor`
//! methods that read and change it.
//!
//! The state is allocated on first use, so tensors that never meet autograd pay one empty
//! `OnceLock` check per op input and nothing else.

use super::node::{Edge, Node, NodeKind};
use crate::bail;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorImpl};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// A gradient hook: sees the gradient, may return a replacement.
pub type TensorHook = Arc<dyn Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync>;
/// Runs after a leaf's `.grad` was updated, with the leaf.
pub type PostAccumulateHook = Arc<dyn Fn(&Tensor) -> Result<()> + Send + Sync>;

static NEXT_HOOK_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_hook_id() -> u64 {
    NEXT_HOOK_ID.fetch_add(1, Ordering::Relaxed)
}

#[derive(Default)]
pub struct AutogradMeta {
    /// True for leaves that require grad and for every tensor with a `grad_fn`.
    requires_grad: AtomicBool,
    state: Mutex<MetaState>,
}

#[derive(Default)]
pub(crate) struct MetaState {
    pub grad: Option<Tensor>,
    pub grad_fn: Option<Arc<Node>>,
    pub output_nr: usize,
    /// A leaf's `AccumulateGrad`, shared by every edge into the leaf while any graph holds it.
    pub accumulator: Weak<Node>,
    pub hooks: Vec<(u64, super::meta::TensorHook)>,
    pub post_hooks: Vec<(u64, PostAccumulateHook)>,
    pub retains_grad: bool,
    /// For a view: the storage version its `grad_fn` was computed at. After an in-place change
    /// of the base (another version), the view's `grad_fn` is rebuilt from the base's.
    pub view_version: Option<u64>,
}

impl AutogradMeta {
    pub(crate) fn lock(&self) -> MutexGuard<'_, MetaState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Tensor {
    pub(crate) fn meta(&self) -> Option<&AutogradMeta> {
        self.0.autograd.get().map(|b| &**b)
    }

    pub(crate) fn meta_or_init(&self) -> &AutogradMeta {
        self.0.autograd.get_or_init(Default::default)
    }

    /// `Tensor.requires_grad`: a leaf that asked for gradients, a result of a recorded op, or a
    /// view of a tensor that requires grad.
    pub fn requires_grad(&self) -> bool {
        if let Some(m) = self.meta() {
            if m.requires_grad.load(Ordering::Relaxed) {
                return true;
            }
        }
        match &self.0.view_base {
            Some(base) => base.requires_grad(),
            None => false,
        }
    }

    /// `Tensor.requires_grad_(flag)` / `requires_grad = flag`.
    pub fn set_requires_grad(&self, flag: bool) -> Result<()> {
        if flag && !self.dtype().is_floating_point() {
            bail!(
                Runtime,
                "only Tensors of floating point and complex dtype can require gradients"
            );
        }
        if !self.is_leaf() {
            if flag {
                return Ok(());
            }
            bail!(
                Runtime,
                "you can only change requires_grad flags of leaf variables. If you want to use a \
                 computed variable in a subgraph that doesn't require differentiation use \
                 var_no_grad = var.detach()."
            );
        }
        if !flag && self.meta().is_none() {
            return Ok(());
        }
        self.meta_or_init()
            .requires_grad
            .store(flag, Ordering::Relaxed);
        Ok(())
    }

    /// The node that produced this tensor, or None for a leaf.
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        if let Some(base) = &self.0.view_base {
            if base.requires_grad() {
                self.refresh_view_grad_fn(base);
            }
        }
        self.meta()?.lock().grad_fn.clone()
    }

    /// Which output of its `grad_fn` this tensor is.
    pub fn output_nr(&self) -> usize {
        self.meta().map(|m| m.lock().output_nr).unwrap_or(0)
    }

    pub fn is_leaf(&self) -> bool {
        self.grad_fn().is_none()
    }

    /// Rebuilds a view's `grad_fn` from its base after the base changed in place (torch does
    /// the same when it sees the version counter move).
    fn refresh_view_grad_fn(&self, base: &Tensor) {
        let version = self.storage().version();
        let meta = self.meta_or_init();
        {
            let st = meta.lock();
            if st.view_version == Some(version) {
                return;
            }
        }
        let node = super::view::as_strided_node(base, self);
        let mut st = meta.lock();
        st.grad_fn = node;
        st.output_nr = 0;
        st.view_version = Some(version);
        meta.requires_grad.store(true, Ordering::Relaxed);
    }

    /// Makes this (fresh) tensor output `output_nr` of `node`.
    pub(crate) fn set_history(&self, node: Arc<Node>, output_nr: usize) {
        let meta = self.meta_or_init();
        let mut st = meta.lock();
        st.grad_fn = Some(node);
        st.output_nr = output_nr;
        if self.0.view_base.is_some() {
            st.view_version = Some(self.storage().version());
        }
        meta.requires_grad.store(true, Ordering::Relaxed);
    }

    /// A new handle on the same data with `node` as its `grad_fn` (saved outputs, unpacked).
    pub fn with_grad_fn(&self, node: Arc<Node>, output_nr: usize) -> Tensor {
        let t = self.detach();
        t.set_history(node, output_nr);
        t
    }

    /// `(grad_fn name, output_nr)` of a non-leaf, for error messages.
    pub(crate) fn grad_fn_edge_name(&self) -> Option<(&'static str, usize)> {
        let st = self.meta()?.lock();
        st.grad_fn.as_ref().map(|f| (f.name(), st.output_nr))
    }

    /// Where a gradient for this tensor goes: its `grad_fn`, or the `AccumulateGrad` of a leaf
    /// that requires grad; None if it does not require grad.
    pub fn gradient_edge(&self) -> Option<Edge> {
        if let Some(node) = self.grad_fn() {
            return Some(Edge {
                node,
                input_nr: self.output_nr(),
            });
        }
        if !self.requires_grad() {
            return None;
        }
        let meta = self.meta_or_init();
        let mut st = meta.lock();
        let node = match st.accumulator.upgrade() {
            Some(n) => n,
            None => {
                let n = Node::new(
                    "AccumulateGrad",
                    NodeKind::AccumulateGrad(self.clone()),
                    vec![],
                    vec![],
                    vec![super::node::InputMeta::of(self)],
                    vec![],
                );
                st.accumulator = Arc::downgrade(&n);
                n
            }
        };
        Some(Edge { node, input_nr: 0 })
    }

    /// `Tensor.grad`.
    pub fn grad(&self) -> Option<Tensor> {
        self.meta()?.lock().grad.clone()
    }

    /// `Tensor.grad = g`: same shape, dtype and device as the tensor, or None.
    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad {
            if g.dtype() != self.dtype() {
                bail!(
                    Runtime,
                    "attempting to assign a gradient with dtype '{}' to a tensor with dtype \
                     '{}'. Please ensure that the gradient and the tensor have the same dtype",
                    g.dtype(),
                    self.dtype()
                );
            }
            if g.device() != self.device() {
                bail!(
                    Runtime,
                    "attempting to assign a gradient with device type '{}' to a tensor with \
                     device type '{}'. Please ensure that the gradient and the tensor are on the \
                     same device",
                    g.device(),
                    self.device()
                );
            }
            if g.shape() != self.shape() {
                bail!(
                    Runtime,
                    "assigned grad has data of a different size: grad {:?}, tensor {:?}",
                    g.shape(),
                    self.shape()
                );
            }
        }
        if grad.is_none() && self.meta().is_none() {
            return Ok(());
        }
        self.meta_or_init().lock().grad = grad;
        Ok(())
    }

    /// `Tensor.detach()`: the same data (and version counter), outside the graph.
    pub fn detach(&self) -> Tensor {
        Tensor(Arc::new(TensorImpl {
            storage: self.0.storage.clone(),
            layout: self.0.layout.clone(),
            dtype: self.0.dtype,
            wrapped_number: self.0.wrapped_number,
            autograd: Default::default(),
            view_base: None,
        }))
    }

    /// `Tensor.detach_()`.
    pub fn detach_(&self) -> Result<()> {
        if self.0.view_base.is_some() && self.requires_grad() {
            bail!(
                Runtime,
                "Can't detach views in-place. Use detach() instead. If you are using \
                 DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set \
                 as True, gradients are views of DDP buckets, and hence detach_() cannot be \
                 called on these gradients. To fix this error, please refer to the \
                 Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            );
        }
        if let Some(m) = self.meta() {
            let mut st = m.lock();
            st.grad_fn = None;
            st.output_nr = 0;
            m.requires_grad.store(false, Ordering::Relaxed);
        }
        Ok(())
    }

    /// `Tensor.retain_grad()`: a non-leaf keeps its gradient in `.grad` after backward.
    pub fn retain_grad(&self) -> Result<()> {
        if !self.requires_grad() {
            bail!(
                Runtime,
                "can't retain_grad on Tensor that has requires_grad=False"
            );
        }
        let Some(node) = self.grad_fn() else {
            return Ok(()); // leaves keep their gradient anyway
        };
        let meta = self.meta_or_init();
        let mut st = meta.lock();
        if st.retains_grad {
            return Ok(());
        }
        st.retains_grad = true;
        let nr = st.output_nr;
        drop(st);
        node.retained
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((nr, Arc::downgrade(&self.0)));
        Ok(())
    }

    pub fn retains_grad(&self) -> bool {
        self.meta().map(|m| m.lock().retains_grad).unwrap_or(false)
    }

    /// `Tensor.register_hook(fn)`: runs on this tensor's gradient before it is used; returns
    /// a handle id for [`Tensor::remove_hook`].
    pub fn register_hook(&self, hook: TensorHook) -> Result<u64> {
        if !self.requires_grad() {
            bail!(
                Runtime,
                "cannot register a hook on a tensor that doesn't require gradient"
            );
        }
        let id = next_hook_id();
        match self.grad_fn() {
            Some(node) => node
                .pre_hooks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((id, self.output_nr(), hook)),
            None => self.meta_or_init().lock().hooks.push((id, hook)),
        }
        Ok(id)
    }

    /// Removes a hook registered by [`Tensor::register_hook`] (no-op if already gone).
    pub fn remove_hook(&self, id: u64) {
        if let Some(node) = self.grad_fn() {
            node.pre_hooks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(h, _, _)| *h != id);
        }
        if let Some(m) = self.meta() {
            let mut st = m.lock();
            st.hooks.retain(|(h, _)| *h != id);
            st.post_hooks.retain(|(h, _)| *h != id);
        }
    }

    /// `Tensor.register_post_accumulate_grad_hook(fn)` (leaves only).
    pub fn register_post_accumulate_grad_hook(&self, hook: PostAccumulateHook) -> Result<u64> {
        if !self.requires_grad() {
            bail!(
                Runtime,
                "cannot register a hook on a tensor that doesn't require gradient"
            );
        }
        if !self.is_leaf() {
            bail!(
                Runtime,
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            );
        }
        let id = next_hook_id();
        self.meta_or_init().lock().post_hooks.push((id, hook));
        Ok(id)
    }

    /// The root tensor this one is a view of (None if not a view).
    pub fn view_base(&self) -> Option<&Tensor> {
        self.0.view_base.as_ref()
    }

    /// Checks that an in-place op may write into this tensor while recording the graph.
    pub(crate) fn check_inplace(&self) -> Result<()> {
        if !super::is_grad_enabled() {
            return Ok(());
        }
        if let Some(base) = &self.0.view_base {
            if base.requires_grad() && base.is_leaf() {
                return Err(Error::runtime(
                    "a view of a leaf Variable that requires grad is being used in an in-place \
                     operation.",
                ));
            }
        } else if self.requires_grad() && self.is_leaf() {
            return Err(Error::runtime(
                "a leaf Variable that requires grad is being used in an in-place operation.",
            ));
        }
        Ok(())
    }
}
