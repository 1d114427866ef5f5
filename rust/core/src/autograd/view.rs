//! Gradients of views. Every view op has the same backward: scatter the view's gradient into
//! zeros shaped like the input, at the positions the view selects. "Positions" is a strided
//! *region* of a contiguous buffer of the input's shape, found by replaying the view op on a
//! data-less contiguous tensor. Scatter and its inverse (gather a region) are each other's
//! backward, so views are differentiable to any order.
//!
//! The same pieces rebase the graph after an in-place op on a view: the base's history becomes
//! `CopySlices` (old base outside the region, the new values inside), and every view of that
//! base rebuilds its `grad_fn` as `AsStridedBackward0` of the base.

use super::node::{BackwardArgs, Grads, InputMeta, Node, NodeKind};
use super::record::record1;
use super::{functions, is_grad_enabled};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::binary::{binary_into, BinaryOp};
use crate::ops::reduce;
use crate::tensor::Tensor;
use std::sync::Arc;

/// The region of a contiguous `shape` buffer that `view_op` selects.
pub fn region_of(
    shape: &[usize],
    dtype: crate::DType,
    view_op: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Layout> {
    Ok(view_op(&Tensor::phantom(shape, dtype))?.layout().clone())
}

/// Dims a region repeats (stride 0, size > 1): their gradients add up.
fn repeated_dims(region: &Layout) -> Vec<i64> {
    (0..region.ndim())
        .filter(|&d| region.strides[d] == 0 && region.shape[d] > 1)
        .map(|d| d as i64)
        .collect()
}

/// `zeros(shape)` with `g` added at `region` (the gradient of a view, as a tensor shaped like
/// the viewed input).
pub fn strided_scatter(g: &Tensor, shape: &[usize], region: &Layout) -> Result<Tensor> {
    let whole = region.offset == 0
        && region.is_contiguous()
        && region.numel() == shape.iter().product::<usize>();
    if whole {
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        return functions::shape::reshape(g, &dims);
    }
    let out = {
        let _g = super::no_grad();
        let out = Tensor::zeros(shape, g.dtype(), g.device())?;
        let mut region = region.clone();
        let repeated = repeated_dims(&region);
        let g = if repeated.is_empty() {
            g.clone()
        } else {
            for &d in &repeated {
                region.shape[d as usize] = 1;
            }
            reduce::sum(g, Some(&repeated), true, None)?
        };
        let dst = out.view_with(region)?;
        binary_into(BinaryOp::Add(crate::ops::binary::ONE), &dst, &g, &dst)?;
        out
    };
    let region = region.clone();
    Ok(record1(
        "StridedScatterBackward0",
        &[g],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(strided_gather(&a.grad(0)?, &region)?)]),
    ))
}

/// The values of `g` at `region` of its contiguous buffer, as a new tensor.
pub fn strided_gather(g: &Tensor, region: &Layout) -> Result<Tensor> {
    let shape = g.shape().to_vec();
    let out = {
        let _g = super::no_grad();
        g.contiguous()?.view_with(region.clone())?.contiguous()?
    };
    let region = region.clone();
    Ok(record1(
        "StridedGatherBackward0",
        &[g],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(strided_scatter(&a.grad(0)?, &shape, &region)?)]),
    ))
}

/// Records a view op: `out` is `view_op(input)` and shares its storage.
pub fn record_view(
    name: &'static str,
    input: &Tensor,
    out: Tensor,
    view_op: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    if !super::needs_grad(&[input]) {
        return Ok(out);
    }
    let shape = input.shape().to_vec();
    let region = region_of(&shape, input.dtype(), view_op)?;
    let mut outs = super::record::record_impl(
        name,
        &[input],
        vec![out],
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(strided_scatter(&a.grad(0)?, &shape, &region)?)]),
        true,
    );
    Ok(outs.pop().expect("one output in, one out"))
}

/// Records a view op with several outputs (split, chunk, unbind): one node; the input's
/// gradient is the sum of each output's scatter.
pub fn record_views(
    name: &'static str,
    input: &Tensor,
    outs: Vec<Tensor>,
    regions: Vec<Layout>,
) -> Vec<Tensor> {
    let shape = input.shape().to_vec();
    super::record::record_impl(
        name,
        &[input],
        outs,
        vec![],
        move |a: &BackwardArgs| {
            let mut total: Option<Tensor> = None;
            for (k, region) in regions.iter().enumerate() {
                let Some(g) = a.grads.get(k).cloned().flatten() else {
                    continue;
                };
                let part = strided_scatter(&g, &shape, region)?;
                total = Some(match total {
                    None => part,
                    Some(t) => functions::binary::add(&t, &part)?,
                });
            }
            Ok(vec![total])
        },
        true,
    )
}

/// Where `view` sits inside `base`'s contiguous buffer, if `base` is laid out contiguously.
fn region_in_base(base: &Tensor, view: &Tensor) -> Option<Layout> {
    if !base.is_contiguous() || view.offset() < base.offset() {
        return None;
    }
    Some(Layout {
        shape: view.shape().to_vec(),
        strides: view.strides().to_vec(),
        offset: view.offset() - base.offset(),
    })
}

fn unsupported(what: &str) -> Error {
    Error::not_implemented(format!(
        "{what}: autograd through an in-place change of a view of a non-contiguous tensor is \
         not supported yet; call .contiguous() on the base first"
    ))
}

/// A node with explicit inputs, for graph surgery (no forward output of its own).
fn make_node<F>(
    name: &'static str,
    inputs: &[&Tensor],
    outputs: Vec<InputMeta>,
    rule: F,
) -> Arc<Node>
where
    F: Fn(&BackwardArgs) -> Result<Grads> + Send + Sync + 'static,
{
    Node::new(
        name,
        NodeKind::Function(Box::new(rule)),
        inputs.iter().map(|t| t.gradient_edge()).collect(),
        inputs.iter().map(|t| InputMeta::of(t)).collect(),
        outputs,
        Vec::new(),
    )
}

/// The `grad_fn` of `view` rebuilt from its base's current history.
pub(crate) fn as_strided_node(base: &Tensor, view: &Tensor) -> Option<Arc<Node>> {
    let shape = base.shape().to_vec();
    let region = region_in_base(base, view);
    Some(make_node(
        "AsStridedBackward0",
        &[base],
        vec![InputMeta::of(view)],
        move |a: &BackwardArgs| {
            let region = region
                .as_ref()
                .ok_or_else(|| unsupported("AsStridedBackward0"))?;
            Ok(vec![Some(strided_scatter(&a.grad(0)?, &shape, region)?)])
        },
    ))
}

/// The new history of `base` after `view` (one of its views) was overwritten with `out`:
/// outside the view the old base flows through, inside it `out` does.
pub(crate) fn copy_slices(base: &Tensor, view: &Tensor, out: &Tensor) -> Result<Arc<Node>> {
    let region = region_in_base(base, view).ok_or_else(|| unsupported("CopySlices"))?;
    let shape = base.shape().to_vec();
    Ok(make_node(
        "CopySlices",
        &[base, out],
        vec![InputMeta::of(base)],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let inside = strided_gather(&g, &region)?;
            let outside = if a.needs(0) {
                let hole = strided_scatter(&inside, &shape, &region)?;
                Some(if is_grad_enabled() {
                    functions::binary::sub(&g, &hole)?
                } else {
                    crate::ops::binary::sub(&g, &hole)?
                })
            } else {
                None
            };
            Ok(vec![outside, Some(inside)])
        },
    ))
}
