//! `Tensor.backward`, `autograd.backward` and `autograd.grad`: argument checks with torch's
//! messages, then one engine run.

use super::engine::{self, accumulate_grad};
use super::node::Edge;
use crate::bail;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::Scalar;

fn size(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("torch.Size([{}])", dims.join(", "))
}

fn roots(tensors: &[Tensor], grads: &[Option<Tensor>]) -> Result<Vec<(Edge, Tensor)>> {
    if grads.len() != tensors.len() {
        bail!(
            Runtime,
            "got {} tensors and {} gradients",
            tensors.len(),
            grads.len()
        );
    }
    let mut out = Vec::with_capacity(tensors.len());
    for (i, (t, g)) in tensors.iter().zip(grads).enumerate() {
        let edge = t.gradient_edge().ok_or_else(|| {
            Error::runtime(format!(
                "element {i} of tensors does not require grad and does not have a grad_fn"
            ))
        })?;
        let g = match g {
            Some(g) => {
                if g.shape() != t.shape() {
                    bail!(
                        Runtime,
                        "Mismatch in shape: grad_output[{i}] has a shape of {} and output[{i}] \
                         has a shape of {}.",
                        size(g.shape()),
                        size(t.shape())
                    );
                }
                g.clone()
            }
            None => {
                if t.numel() != 1 {
                    bail!(
                        Runtime,
                        "grad can be implicitly created only for scalar outputs"
                    );
                }
                Tensor::full(t.shape(), Scalar::Float(1.0), t.dtype(), t.device())?
            }
        };
        out.push((edge, g));
    }
    Ok(out)
}

fn input_edges(inputs: &[Tensor]) -> Result<Vec<Edge>> {
    inputs
        .iter()
        .map(|t| {
            t.gradient_edge().ok_or_else(|| {
                Error::runtime("One of the differentiated Tensors does not require grad")
            })
        })
        .collect()
}

/// `torch.autograd.backward`: accumulates gradients into the leaves (or only into `inputs`).
pub fn backward(
    tensors: &[Tensor],
    grads: &[Option<Tensor>],
    retain_graph: Option<bool>,
    create_graph: bool,
    inputs: Option<&[Tensor]>,
) -> Result<()> {
    let retain = retain_graph.unwrap_or(create_graph);
    let roots = roots(tensors, grads)?;
    match inputs {
        None => {
            engine::run(roots, &[], retain, create_graph)?;
        }
        Some([]) => bail!(Runtime, "'inputs' argument to backward() cannot be empty."),
        Some(inputs) => {
            let targets = input_edges(inputs)?;
            let got = engine::run(roots, &targets, retain, create_graph)?;
            let _mode = super::GradModeGuard::new(create_graph);
            for (t, g) in inputs.iter().zip(got) {
                if let Some(g) = g {
                    accumulate_grad(t, g)?;
                }
            }
        }
    }
    Ok(())
}

/// `torch.autograd.grad`: the gradients of `outputs` with respect to `inputs`, nothing
/// accumulated anywhere.
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: &[Option<Tensor>],
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: bool,
) -> Result<Vec<Option<Tensor>>> {
    let retain = retain_graph.unwrap_or(create_graph);
    let roots = roots(outputs, grad_outputs)?;
    let targets = input_edges(inputs)?;
    let got = engine::run(roots, &targets, retain, create_graph)?;
    if !allow_unused && got.iter().any(|g| g.is_none()) {
        bail!(
            Runtime,
            "One of the differentiated Tensors appears to not have been used in the graph. Set \
             allow_unused=True if this is the desired behavior."
        );
    }
    Ok(got)
}
