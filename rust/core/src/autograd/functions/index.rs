//! Indexing reads and writes, gather/scatter, masked ops, and their rules.
//!
//! This file holds `t[items]` (`__getitem__`), `t[items] = v` (`__setitem__`) and `index_put`;
//! the dim-wise ops (`gather`, `scatter*`, `index_*`, `take*`) are in [`super::index_gather`],
//! the mask ops in [`super::index_mask`].
//!
//! Basic indexing (ints, slices, None, Ellipsis) makes views and records through
//! [`record_view`], so in-place writes through them reach the base (`CopySlices`). Advanced
//! indexing (integer tensors, masks, bools) is one `IndexBackward0` node whose rule is an
//! accumulating `index_put` into zeros, and `index_put`'s rule for its values is indexing again:
//! the two are each other's backward, so any order of derivative works.

use super::convert::to_dtype;
use super::reduce::sum_to;
use super::shape::reshape;
use super::when;
use crate::autograd::is_grad_enabled;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{inplace, needs_grad, record1};
use crate::autograd::view::record_view;
use crate::bail;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::index::{self as raw, IndexItem};
use crate::ops::index_gather as raw_gather;
use crate::tensor::Tensor;
use crate::Scalar;
use std::sync::Arc;

/// `zeros_like(g)` (a constant: no history).
pub(crate) fn zeros_like(g: &Tensor) -> Result<Tensor> {
    Tensor::zeros(g.shape(), g.dtype(), g.device())
}

/// One index item as a rule keeps it: tensors are replaced by the number of the saved tensor
/// that holds them, so the rule captures no tensor and the indices are freed after backward.
#[derive(Clone, Debug)]
enum Slot {
    Plain(IndexItem),
    Saved(usize),
}

/// Index items with their tensors moved into `saves` (appended after what `saves` holds).
fn split(items: &[IndexItem], saves: &mut Vec<Save>) -> Vec<Slot> {
    items
        .iter()
        .map(|it| match it {
            IndexItem::Tensor(t) => {
                saves.push(Save::Tensor(t.clone()));
                Slot::Saved(saves.len() - 1)
            }
            other => Slot::Plain(other.clone()),
        })
        .collect()
}

/// The index items back from their slots and the node's saved tensors.
fn rebuild(slots: &[Slot], a: &BackwardArgs) -> Result<Vec<IndexItem>> {
    slots
        .iter()
        .map(|s| match s {
            Slot::Plain(it) => Ok(it.clone()),
            Slot::Saved(k) => a.saved(*k).map(IndexItem::Tensor),
        })
        .collect()
}

/// A 0-d integer tensor index selects, like an int (torch reads its value).
fn is_int_scalar(t: &Tensor) -> bool {
    t.ndim() == 0 && matches!(t.dtype(), DType::I64 | DType::I32)
}

/// True when `items` make a view (no integer tensors, masks or bools).
pub fn is_basic(items: &[IndexItem]) -> bool {
    items.iter().all(|it| match it {
        IndexItem::Bool(_) => false,
        IndexItem::Tensor(t) => is_int_scalar(t),
        _ => true,
    })
}

/// torch's `grad_fn` name for basic indexing: the last view op it applied. A single slice is
/// always a slice; in a tuple, a slice `0:len` with step 1 is skipped (torch's fast path), and
/// an index that changed nothing is an alias (`x[...]`).
fn basic_name(shape: &[usize], items: &[IndexItem]) -> &'static str {
    let consumed = items
        .iter()
        .filter(|it| {
            matches!(
                it,
                IndexItem::Int(_) | IndexItem::Slice(..) | IndexItem::Tensor(_)
            )
        })
        .count();
    let single = items.len() == 1;
    let mut name = "AliasBackward0";
    let mut dim = 0usize;
    for it in items {
        match it {
            IndexItem::Int(_) | IndexItem::Tensor(_) => {
                name = "SelectBackward0";
                dim += 1;
            }
            IndexItem::Slice(start, stop, step) => {
                let len = shape.get(dim).copied().unwrap_or(0) as i64;
                let whole = start.unwrap_or(0) == 0 && *stop == Some(len) && step.unwrap_or(1) == 1;
                if single || !whole {
                    name = "SliceBackward0";
                }
                dim += 1;
            }
            IndexItem::NewAxis => name = "UnsqueezeBackward0",
            IndexItem::Ellipsis => dim += shape.len().saturating_sub(consumed),
            IndexItem::Bool(_) => {}
        }
    }
    name
}

/// `t[items]`: a recorded view for basic indexing, `IndexBackward0` for advanced indexing.
pub fn index(t: &Tensor, items: &[IndexItem]) -> Result<Tensor> {
    let mut out = raw::index(t, items)?;
    // `x[...]` hands back `t` itself: give the caller its own handle (own autograd state).
    if Arc::ptr_eq(&out.0, &t.0) {
        out = t.alias();
    }
    if !needs_grad(&[t]) {
        return Ok(out);
    }
    if is_basic(items) {
        let name = basic_name(t.shape(), items);
        let replay = items.to_vec();
        return record_view(name, t, out, move |p| raw::index(p, &replay));
    }
    let mut saves = Vec::new();
    let slots = split(items, &mut saves);
    let shape = t.shape().to_vec();
    Ok(record1(
        "IndexBackward0",
        &[t],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let items = rebuild(&slots, a)?;
            let z = Tensor::zeros(&shape, g.dtype(), g.device())?;
            Ok(vec![Some(index_put_items(&z, &items, &g, true)?)])
        },
    ))
}

/// The gradient of a value written at an index, shaped for the value: the indexed gradient,
/// with the leading size-1 dims torch lets a value have beyond the indexed shape put back
/// (`x[0] = ones(1, 3)`); broadcast dims are summed by the engine.
fn fit(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.ndim() >= shape.len() {
        return Ok(g.clone());
    }
    let extra = shape.len() - g.ndim();
    let inner = sum_to(g, &shape[extra..])?;
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    reshape(&inner, &dims)
}

/// Out-of-place `t[items] = values` (`+=` with `accumulate`): `IndexPutBackward0`.
/// `values` is converted to `t`'s dtype (recorded) and broadcast to the indexed shape.
pub fn index_put_items(
    t: &Tensor,
    items: &[IndexItem],
    values: &Tensor,
    accumulate: bool,
) -> Result<Tensor> {
    let values = to_dtype(values, t.dtype())?;
    let out = t.copy_to_new(t.dtype())?;
    raw::index_put_items(&out, items, &values, accumulate)?;
    if !needs_grad(&[t, &values]) {
        return Ok(out);
    }
    let mut saves = Vec::new();
    let slots = split(items, &mut saves);
    let vshape = values.shape().to_vec();
    Ok(record1(
        "IndexPutBackward0",
        &[t, &values],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let items = rebuild(&slots, a)?;
            let gs = when(a.needs(0), || {
                if accumulate {
                    Ok(g.clone())
                } else {
                    let zero = Tensor::scalar(Scalar::Float(0.0), g.dtype())?;
                    index_put_items(&g, &items, &zero, false)
                }
            })?;
            let gv = when(a.needs(1), || fit(&index(&g, &items)?, &vshape))?;
            Ok(vec![gs, gv])
        },
    ))
}

/// The items of `index_put(indices, ...)`: `None` is a full slice, and a 0-d integer index is
/// an advanced index (index_put never makes views).
fn put_items_of(indices: &[Option<Tensor>]) -> Result<Vec<IndexItem>> {
    indices
        .iter()
        .map(|ix| match ix {
            None => Ok(IndexItem::Slice(None, None, None)),
            Some(ix) if is_int_scalar(ix) => ix
                .view_with(Layout::contiguous(&[1]))
                .map(IndexItem::Tensor),
            Some(ix) => {
                if !matches!(
                    ix.dtype(),
                    DType::I64 | DType::I32 | DType::Bool | DType::U8
                ) {
                    bail!(
                        Index,
                        "tensors used as indices must be long, int, byte or bool tensors"
                    );
                }
                Ok(IndexItem::Tensor(ix.clone()))
            }
        })
        .collect()
}

/// `torch.index_put(t, indices, values, accumulate)`.
pub fn index_put(
    t: &Tensor,
    indices: &[Option<Tensor>],
    values: &Tensor,
    accumulate: bool,
) -> Result<Tensor> {
    if values.dtype() != t.dtype() {
        bail!(
            Runtime,
            "Index put requires the source and destination dtypes match, got {} for the \
             destination and {} for the source.",
            t.dtype().name(),
            values.dtype().name()
        );
    }
    index_put_items(t, &put_items_of(indices)?, values, accumulate)
}

/// `t.index_put_(indices, values, accumulate)`.
pub fn index_put_(
    t: &Tensor,
    indices: &[Option<Tensor>],
    values: &Tensor,
    accumulate: bool,
) -> Result<()> {
    inplace(
        t,
        &[values],
        || raw_gather::index_put_(t, indices, values, accumulate),
        |old| index_put(old, indices, values, accumulate),
    )
}

/// `old.copy_(value)` out of place: `value` broadcast and converted to `old`'s shape and dtype.
/// The overwritten `old` gets a zero gradient (`CopyBackwards`, as torch names it).
fn copy_into(old: &Tensor, value: &Tensor) -> Result<Tensor> {
    let out = Tensor::empty(old.shape(), old.dtype(), old.device())?;
    raw::index_put_items(&out, &[], value, false)?;
    let vshape = value.shape().to_vec();
    Ok(record1(
        "CopyBackwards",
        &[old, value],
        out,
        vec![],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            Ok(vec![
                when(a.needs(0), || zeros_like(&g))?,
                when(a.needs(1), || fit(&g, &vshape))?,
            ])
        },
    ))
}

/// `old.fill_(value)` out of place: a constant whose gradient to `old` is zero.
fn fill_like(old: &Tensor, value: Scalar) -> Result<Tensor> {
    let out = Tensor::full(old.shape(), value, old.dtype(), old.device())?;
    Ok(record1(
        "FillBackward0",
        &[old],
        out,
        vec![],
        |a: &BackwardArgs| Ok(vec![Some(zeros_like(&a.grad(0)?)?)]),
    ))
}

/// `t[items] = value` for a tensor `value`, in place. Basic items write through a view (the
/// base's history becomes `CopySlices`); advanced items are `index_put_` (`IndexPutBackward0`).
pub fn set_item(t: &Tensor, items: &[IndexItem], value: &Tensor) -> Result<()> {
    let raw_put = || raw::index_put_items(t, items, value, false);
    if !(is_grad_enabled() && (t.requires_grad() || value.requires_grad())) {
        return raw_put();
    }
    if is_basic(items) {
        let view = index(t, items)?;
        return inplace(&view, &[value], raw_put, |old| copy_into(old, value));
    }
    inplace(t, &[value], raw_put, |old| {
        index_put_items(old, items, value, false)
    })
}

/// `t[items] = value` for a number `value`, in place.
pub fn set_item_scalar(t: &Tensor, items: &[IndexItem], value: Scalar) -> Result<()> {
    let raw_fill = || raw::index_fill_items(t, items, value);
    if !(is_grad_enabled() && t.requires_grad()) {
        return raw_fill();
    }
    if is_basic(items) {
        let view = index(t, items)?;
        return inplace(&view, &[], raw_fill, |old| fill_like(old, value));
    }
    inplace(t, &[], raw_fill, |old| {
        let v = Tensor::scalar(value, old.dtype())?;
        index_put_items(old, items, &v, false)
    })
}
