//! Recording ops into the graph: the one helper every differentiable function calls, and the
//! in-place protocol (compute out of place from a copy, write back, rebase the history).

use super::node::{BackwardArgs, Grads, InputMeta, Node, NodeKind, Save, Saved};
use super::{is_grad_enabled, no_grad, view};
use crate::bail;
use crate::error::Result;
use crate::tensor::Tensor;
use std::sync::Arc;

/// True when an op on these inputs must record a node.
#[inline]
pub fn needs_grad(inputs: &[&Tensor]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| t.requires_grad())
}

/// Records `outputs = op(inputs)` as node `name` with a backward `rule`, if grad mode is on
/// and an input requires grad; returns the outputs (floating-point ones now carry the node).
///
/// The rule must not capture tensors: tensors it needs go in `saves` and are read back with
/// `args.saved(i)`, which checks them for in-place changes and fails after they were freed.
pub fn record<F>(
    name: &'static str,
    inputs: &[&Tensor],
    outputs: Vec<Tensor>,
    saves: Vec<Save>,
    rule: F,
) -> Vec<Tensor>
where
    F: Fn(&BackwardArgs) -> Result<Grads> + Send + Sync + 'static,
{
    record_impl(name, inputs, outputs, saves, rule, false)
}

/// [`record`] for view ops: outputs that view an input's storage stay views of it (so
/// in-place writes through them reach the input's history); any other output is a new tensor.
pub(crate) fn record_impl<F>(
    name: &'static str,
    inputs: &[&Tensor],
    outputs: Vec<Tensor>,
    saves: Vec<Save>,
    rule: F,
    views: bool,
) -> Vec<Tensor>
where
    F: Fn(&BackwardArgs) -> Result<Grads> + Send + Sync + 'static,
{
    if !needs_grad(inputs) {
        return outputs;
    }
    let root = |t: &Tensor| t.view_base().cloned().unwrap_or_else(|| t.clone());
    let roots: Vec<Tensor> = inputs.iter().map(|t| root(t)).collect();
    // An op that handed back one of its inputs unchanged (reshape to the same shape,
    // contiguous() of a contiguous tensor) leaves the history as it is.
    let outputs: Vec<Tensor> = outputs
        .into_iter()
        .map(|o| {
            if inputs.iter().any(|i| Arc::ptr_eq(&i.0, &o.0)) || o.meta().is_some() {
                return if views { o.alias() } else { o.detach() };
            }
            // A result that views a temporary (a reshape that had to copy) is not a view of
            // any input: it must not rebase that temporary's (empty) history on in-place.
            let views_input = o
                .view_base()
                .is_some_and(|b| roots.iter().any(|r| Arc::ptr_eq(&r.0, &b.0)));
            if o.view_base().is_some() && !(views && views_input) {
                o.detach()
            } else {
                o
            }
        })
        .collect();
    let saved = saves
        .into_iter()
        .map(|s| match s {
            Save::Tensor(t) => Saved::input(&t),
            Save::Output(k) => Saved::output(&outputs[k], k, name),
        })
        .collect();
    let node = Node::new(
        name,
        NodeKind::Function(Box::new(rule)),
        inputs.iter().map(|t| t.gradient_edge()).collect(),
        inputs.iter().map(|t| InputMeta::of(t)).collect(),
        outputs.iter().map(InputMeta::of).collect(),
        saved,
    );
    for (k, o) in outputs.iter().enumerate() {
        if o.dtype().is_floating_point() {
            o.set_history(node.clone(), k);
        }
    }
    outputs
}

/// [`record`] for a single output.
pub fn record1<F>(
    name: &'static str,
    inputs: &[&Tensor],
    output: Tensor,
    saves: Vec<Save>,
    rule: F,
) -> Tensor
where
    F: Fn(&BackwardArgs) -> Result<Grads> + Send + Sync + 'static,
{
    let mut v = record(name, inputs, vec![output], saves, rule);
    v.pop()
        .expect("record returns as many outputs as it was given")
}

/// `target.op_(...)` with autograd. Without a graph to record, `raw` writes in place. With one,
/// `diff` computes the result out of place from a copy of the old value (which carries the
/// target's history), the values are written back, and the target's history moves to the
/// result: for a view, its base's history becomes a `CopySlices` node, as in torch.
pub fn inplace(
    target: &Tensor,
    others: &[&Tensor],
    raw: impl FnOnce() -> Result<()>,
    diff: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<()> {
    if !(is_grad_enabled() && (target.requires_grad() || others.iter().any(|t| t.requires_grad())))
    {
        return raw();
    }
    target.check_inplace()?;
    let old = target.copy_to_new(target.dtype())?;
    if let Some(e) = target.gradient_edge() {
        old.set_history(e.node, e.input_nr);
    }
    let mut out = diff(&old)?;
    if !out.requires_grad() && old.requires_grad() {
        // Overwritten by constants: the old history gets a zero gradient (torch's
        // CopyBackwards), and the tensor stays part of the graph.
        out = record1(
            "CopyBackwards",
            &[&old],
            out.detach(),
            vec![],
            |a: &BackwardArgs| {
                let g = a.grad(0)?;
                Ok(vec![Some(Tensor::zeros(g.shape(), g.dtype(), g.device())?)])
            },
        );
    }
    if out.shape() != target.shape() {
        bail!(
            Runtime,
            "output with shape {:?} doesn't match the broadcast shape {:?}",
            target.shape(),
            out.shape()
        );
    }
    if out.dtype() != target.dtype() {
        out = super::functions::convert::to_dtype(&out, target.dtype())?;
    }
    {
        let _g = no_grad();
        target.copy_(&out)?;
    }
    rebase(target, &out)
}

/// Makes `target` (just overwritten with `out`'s values) take `out`'s place in the graph.
pub(crate) fn rebase(target: &Tensor, out: &Tensor) -> Result<()> {
    let Some(edge) = out.gradient_edge() else {
        return Ok(());
    };
    match target.view_base() {
        None => target.set_history(edge.node, edge.input_nr),
        Some(base) => {
            let node = view::copy_slices(base, target, out)?;
            base.set_history(node, 0);
            target.meta_or_init().lock().view_version = None;
        }
    }
    Ok(())
}
