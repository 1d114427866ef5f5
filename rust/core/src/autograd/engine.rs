//! The backward engine: runs the graph from the roots to the leaves in dependency order,
//! summing gradients where paths meet, accumulating into leaves' `.grad` (backward) or
//! capturing them for the caller (`autograd.grad`), and freeing saved tensors as it goes.

use super::grad_mode::{is_anomaly_enabled, GradModeGuard};
use super::node::{Edge, InputMeta, Node, NodeKind};
use super::{functions, is_grad_enabled};
use crate::error::{Error, Result};
use crate::layout::broadcast_shapes;
use crate::ops;
use crate::tensor::Tensor;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

/// Shapes a gradient like the forward input it belongs to: sums broadcast dimensions away and
/// casts to the input's dtype. Anything else is a wrong gradient and an error.
pub fn shape_like(name: &str, index: usize, grad: Tensor, meta: &InputMeta) -> Result<Tensor> {
    let mut grad = grad;
    if grad.shape() != meta.shape.as_slice() {
        let expandable = broadcast_shapes(&meta.shape, grad.shape(), name)
            .map(|s| s.as_slice() == grad.shape())
            .unwrap_or(false);
        if !expandable {
            return Err(Error::runtime(format!(
                "Function {name} returned an invalid gradient at index {index} - got {:?} but \
                 expected shape compatible with {:?}",
                grad.shape(),
                meta.shape
            )));
        }
        grad = functions::reduce::sum_to(&grad, &meta.shape)?;
    }
    if grad.dtype() != meta.dtype {
        grad = functions::convert::to_dtype(&grad, meta.dtype)?;
    }
    if grad.device() != meta.device {
        return Err(Error::runtime(format!(
            "Function {name} returned an invalid gradient at index {index} - expected device {} \
             but got {}",
            meta.device,
            grad.device()
        )));
    }
    Ok(grad)
}

/// `a + b` for gradients meeting at one input: recorded when building a graph of the
/// gradients (`create_graph`), plain arithmetic otherwise.
fn sum_grads(a: Tensor, b: Tensor) -> Result<Tensor> {
    if is_grad_enabled() {
        functions::binary::add(&a, &b)
    } else {
        ops::binary::add(&a, &b)
    }
}

/// A gradient we may keep as a leaf's `.grad`: the tensor itself when nobody else can see its
/// memory, a fresh contiguous copy otherwise (a `.grad` that aliased an expanded ones-tensor or
/// a user's tensor would make later in-place updates of it wrong).
fn owned(g: Tensor) -> Result<Tensor> {
    let sole = Arc::strong_count(&g.0) == 1
        && Arc::strong_count(g.storage()) == 1
        && g.view_base().is_none()
        && g.is_contiguous()
        && g.offset() == 0
        && g.numel() * g.dtype().size() == g.storage().nbytes();
    if sole {
        Ok(g.detach())
    } else {
        g.copy_to_new(g.dtype())
    }
}

/// Adds `g` into `leaf.grad`, running the leaf's hooks first and its post-accumulate hooks after.
pub(crate) fn accumulate_grad(leaf: &Tensor, g: Tensor) -> Result<()> {
    let mut g = g;
    let meta = leaf.meta_or_init();
    let hooks: Vec<_> = meta.lock().hooks.iter().map(|(_, h)| h.clone()).collect();
    for h in hooks {
        if let Some(new) = h(&g)? {
            g = new;
        }
    }
    let old = meta.lock().grad.take();
    let new = match old {
        None if is_grad_enabled() => g,
        None => owned(g)?,
        Some(old) if is_grad_enabled() => functions::binary::add(&old, &g)?,
        Some(old) => {
            // In place, as torch does outside create_graph: optimizers hold on to `.grad`.
            ops::binary::binary_into(ops::binary::BinaryOp::Add(ops::binary::ONE), &old, &g, &old)?;
            old
        }
    };
    meta.lock().grad = Some(new);
    let post: Vec<_> = meta
        .lock()
        .post_hooks
        .iter()
        .map(|(_, h)| h.clone())
        .collect();
    for h in post {
        h(leaf)?;
    }
    Ok(())
}

/// Stores the gradient of a non-leaf that called `retain_grad()`.
fn retain(t: &Tensor, g: &Tensor) -> Result<()> {
    let meta = t.meta_or_init();
    let old = meta.lock().grad.take();
    let new = match old {
        None => g.detach().copy_to_new(g.dtype())?,
        Some(old) => ops::binary::add(&old, &g.detach())?,
    };
    meta.lock().grad = Some(new);
    Ok(())
}

fn check_nan(node: &Node, grads: &[Option<Tensor>]) -> Result<()> {
    for (i, g) in grads.iter().enumerate() {
        if let Some(g) = g {
            if g.dtype().is_floating_point() && g.to_vec::<f64>().iter().any(|v| v.is_nan()) {
                return Err(Error::runtime(format!(
                    "Function '{}' returned nan values in its {i}th output.",
                    node.name()
                )));
            }
        }
    }
    Ok(())
}

/// The discovered graph: every node reachable from the roots, and how many edges point at it.
struct Graph {
    nodes: Vec<Arc<Node>>,
    index: HashMap<*const Node, usize>,
    deps: Vec<usize>,
}

impl Graph {
    fn discover(roots: &[Edge]) -> Graph {
        let mut g = Graph {
            nodes: Vec::new(),
            index: HashMap::new(),
            deps: Vec::new(),
        };
        let mut stack = Vec::new();
        for r in roots {
            if let (i, true) = g.intern(&r.node) {
                stack.push(i);
            }
        }
        while let Some(i) = stack.pop() {
            let node = g.nodes[i].clone();
            for e in node.next.iter().flatten() {
                let (j, new) = g.intern(&e.node);
                g.deps[j] += 1;
                if new {
                    stack.push(j);
                }
            }
        }
        g
    }

    fn intern(&mut self, n: &Arc<Node>) -> (usize, bool) {
        let key = Arc::as_ptr(n);
        if let Some(&i) = self.index.get(&key) {
            return (i, false);
        }
        let i = self.nodes.len();
        self.nodes.push(n.clone());
        self.index.insert(key, i);
        self.deps.push(0);
        (i, true)
    }

    /// `exec[i]`: whether node `i` leads to a target, so must run to compute the targets.
    fn needed(&self, targets: &[bool]) -> Vec<bool> {
        // Children are settled before parents by walking a topological order backwards.
        let mut deps = self.deps.clone();
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut ready: Vec<usize> = (0..self.nodes.len()).filter(|&i| deps[i] == 0).collect();
        while let Some(i) = ready.pop() {
            order.push(i);
            for e in self.nodes[i].next.iter().flatten() {
                let j = self.index[&Arc::as_ptr(&e.node)];
                deps[j] -= 1;
                if deps[j] == 0 {
                    ready.push(j);
                }
            }
        }
        let mut exec = vec![false; self.nodes.len()];
        for &i in order.iter().rev() {
            exec[i] = self.nodes[i].next.iter().flatten().any(|e| {
                let j = self.index[&Arc::as_ptr(&e.node)];
                targets[j] || exec[j]
            });
        }
        exec
    }
}

/// Runs backward from `roots` (edge, gradient). With `targets` empty, every reachable leaf
/// accumulates its gradient; otherwise nothing accumulates and the gradient arriving at each
/// target edge is returned (None where none arrived).
pub fn run(
    roots: Vec<(Edge, Tensor)>,
    targets: &[Edge],
    retain_graph: bool,
    create_graph: bool,
) -> Result<Vec<Option<Tensor>>> {
    let _mode = GradModeGuard::new(create_graph);
    // Gradients run in the dtypes the forward recorded, whatever region backward is called in.
    let _no_autocast = super::autocast::Suspend::new();
    let root_edges: Vec<Edge> = roots.iter().map(|(e, _)| e.clone()).collect();
    let mut graph = Graph::discover(&root_edges);
    let n = graph.nodes.len();
    let capture = !targets.is_empty();
    let mut is_target = vec![false; n];
    let mut target_at: Vec<(usize, usize, usize)> = Vec::new(); // (node, input_nr, result slot)
    for (k, t) in targets.iter().enumerate() {
        if let Some(&i) = graph.index.get(&Arc::as_ptr(&t.node)) {
            is_target[i] = true;
            target_at.push((i, t.input_nr, k));
        }
    }
    let exec = if capture {
        graph.needed(&is_target)
    } else {
        vec![true; n]
    };
    let mut captured: Vec<Option<Tensor>> = vec![None; targets.len()];
    let mut buffers: Vec<Vec<Option<Tensor>>> = graph
        .nodes
        .iter()
        .map(|node| vec![None; node.outputs.len().max(1)])
        .collect();
    for (edge, grad) in roots {
        let i = graph.index[&Arc::as_ptr(&edge.node)];
        let slot = &mut buffers[i][edge.input_nr];
        *slot = Some(match slot.take() {
            Some(old) => sum_grads(old, grad)?,
            None => grad,
        });
    }
    // Later-created nodes first: their activations are the most recent and usually largest.
    let mut ready: BinaryHeap<(u64, usize)> = (0..n)
        .filter(|&i| graph.deps[i] == 0)
        .map(|i| (graph.nodes[i].seq, i))
        .collect();
    while let Some((_, i)) = ready.pop() {
        let node = graph.nodes[i].clone();
        let mut grads = std::mem::take(&mut buffers[i]);
        run_pre_hooks(&node, &mut grads)?;
        for &(ti, nr, k) in &target_at {
            if ti == i {
                captured[k] = grads.get(nr).cloned().flatten();
            }
        }
        if !exec[i] {
            continue;
        }
        let outputs = match &node.kind {
            NodeKind::AccumulateGrad(leaf) => {
                if let Some(g) = grads.into_iter().next().flatten() {
                    accumulate_grad(leaf, g)?;
                }
                vec![]
            }
            NodeKind::Function(_) => {
                let outputs = if grads.iter().any(|g| g.is_some()) {
                    node.apply(&grads)?
                } else {
                    vec![None; node.next.len()]
                };
                if !retain_graph {
                    node.release();
                }
                if is_anomaly_enabled() {
                    check_nan(&node, &outputs)?;
                }
                outputs
            }
        };
        for (k, e) in node.next.iter().enumerate() {
            let Some(e) = e else { continue };
            let j = graph.index[&Arc::as_ptr(&e.node)];
            if let Some(g) = outputs.get(k).cloned().flatten() {
                let slot = &mut buffers[j][e.input_nr];
                *slot = Some(match slot.take() {
                    Some(old) => sum_grads(old, g)?,
                    None => g,
                });
            }
            graph.deps[j] -= 1;
            if graph.deps[j] == 0 {
                ready.push((graph.nodes[j].seq, j));
            }
        }
    }
    Ok(captured)
}

/// Tensor hooks on a node's outputs, then `retain_grad` stores.
fn run_pre_hooks(node: &Node, grads: &mut [Option<Tensor>]) -> Result<()> {
    let hooks: Vec<_> = node
        .pre_hooks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(_, nr, h)| (*nr, h.clone()))
        .collect();
    for (nr, h) in hooks {
        if let Some(Some(g)) = grads.get(nr) {
            if let Some(new) = h(g)? {
                grads[nr] = Some(new);
            }
        }
    }
    let retained: Vec<_> = node
        .retained
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for (nr, weak) in retained {
        if let (Some(t), Some(Some(g))) = (weak.upgrade(), grads.get(nr)) {
            retain(&Tensor(t), g)?;
        }
    }
    Ok(())
}
