//! Views and their rules. Every view records through `record_impl(.., views = true)`, so its
//! output stays a view of the input's base and in-place writes through it rebase the base's
//! history. Ops whose gradient is itself a view or a reduction (reshape, permute, transpose,
//! expand, squeeze ...) get a direct rule that allocates nothing; ops that select a region
//! (select, slice, diagonal, unfold, as_strided) scatter the gradient into zeros at that region,
//! which [`crate::autograd::view`] and [`super::shape_copy`] provide.

use super::shape_copy::{cat, scatter_region, stack};
use crate::autograd::node::{BackwardArgs, Grads};
use crate::autograd::record::{needs_grad, record_impl};
use crate::autograd::view::region_of;
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::ops::shape as raw;
use crate::tensor::Tensor;
use std::sync::Arc;

/// Records `out` (a view of `x`) with a rule of its own.
fn view_node<F>(name: &'static str, x: &Tensor, out: Tensor, rule: F) -> Tensor
where
    F: Fn(&BackwardArgs) -> Result<Grads> + Send + Sync + 'static,
{
    record_impl(name, &[x], vec![out], vec![], rule, true)
        .pop()
        .expect("one output in, one out")
}

/// Records `out`, the view of `x` at `region` of `x`'s contiguous buffer: the gradient is
/// scattered back into that region.
fn region_node(name: &'static str, x: &Tensor, out: Tensor, region: Layout) -> Tensor {
    let shape = x.shape().to_vec();
    view_node(name, x, out, move |a: &BackwardArgs| {
        Ok(vec![Some(scatter_region(&a.grad(0)?, &shape, &region)?)])
    })
}

/// [`region_node`] with the region found by replaying `view_op` on `x`'s shape alone.
fn replayed(
    name: &'static str,
    x: &Tensor,
    out: Tensor,
    view_op: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let region = region_of(x.shape(), x.dtype(), view_op)?;
    Ok(region_node(name, x, out, region))
}

fn dims_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// Records a result that has `x`'s elements in a new shape: its gradient is `g` reshaped back.
fn reshaped(name: &'static str, x: &Tensor, out: Tensor) -> Tensor {
    if !needs_grad(&[x]) {
        return out;
    }
    let dims = dims_i64(x.shape());
    view_node(name, x, out, move |a: &BackwardArgs| {
        Ok(vec![Some(reshape(&a.grad(0)?, &dims)?)])
    })
}

/// A reshape result: `ViewBackward0` when it views `x`, else `UnsafeViewBackward0` (torch's
/// `_unsafe_view` of a contiguous copy).
fn record_reshape(x: &Tensor, out: Tensor) -> Tensor {
    let name = if out.shares_storage(x) {
        "ViewBackward0"
    } else {
        "UnsafeViewBackward0"
    };
    reshaped(name, x, out)
}

/// `reshape(shape)`: a view when the strides allow, else a copy.
pub fn reshape(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let out = raw::reshape(x, shape)?;
    Ok(record_reshape(x, out))
}

/// `view(shape)`.
pub fn view(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let out = raw::view(x, shape)?;
    Ok(reshaped("ViewBackward0", x, out))
}

/// `expand(shape)` with sizes given as `usize` (no -1); `x` itself when already that shape.
pub fn expand_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if x.shape() == shape {
        return Ok(x.clone());
    }
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    expand(x, &dims)
}

/// An expanded view: the engine sums the output-shaped gradient back to `x`'s shape.
fn expanded(x: &Tensor, out: Tensor) -> Tensor {
    view_node("ExpandBackward0", x, out, |a: &BackwardArgs| {
        Ok(vec![Some(a.grad(0)?)])
    })
}

/// `expand(shape)`.
pub fn expand(x: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let out = raw::expand(x, shape)?;
    Ok(expanded(x, out))
}

/// `broadcast_to(shape)` on a resolved shape (`ExpandBackward0`, as torch's is an expand).
pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let out = raw::broadcast_to(x, shape)?;
    Ok(expanded(x, out))
}

/// `broadcast_tensors(*tensors)`: inputs already of the common shape come back as they are.
pub fn broadcast_tensors(ts: &[Tensor]) -> Result<Vec<Tensor>> {
    let shapes: Vec<Vec<usize>> = ts.iter().map(|t| t.shape().to_vec()).collect();
    let shape = raw::broadcast_shapes_all(&shapes, "broadcast_tensors")?;
    ts.iter()
        .map(|t| {
            if t.shape() == shape.as_slice() {
                Ok(t.clone())
            } else {
                broadcast_to(t, &shape)
            }
        })
        .collect()
}

/// `permute(dims)`; the rule applies the inverse permutation.
pub fn permute(x: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let out = raw::permute(x, dims)?;
    Ok(permuted("PermuteBackward0", x, out, dims))
}

/// Records a permuted view (`dims` already validated by the forward op).
fn permuted(name: &'static str, x: &Tensor, out: Tensor, dims: &[i64]) -> Tensor {
    if !needs_grad(&[x]) {
        return out;
    }
    let n = dims.len();
    let mut inverse = vec![0i64; n];
    for (i, &d) in dims.iter().enumerate() {
        // In range: the forward op accepted these dims.
        let d = if d < 0 { d + n as i64 } else { d } as usize;
        inverse[d] = i as i64;
    }
    view_node(name, x, out, move |a: &BackwardArgs| {
        Ok(vec![Some(permute(&a.grad(0)?, &inverse)?)])
    })
}

/// `transpose(dim0, dim1)` (also `swapaxes`, `swapdims`, `mT`).
pub fn transpose(x: &Tensor, dim0: i64, dim1: i64) -> Result<Tensor> {
    transpose_named("TransposeBackward0", x, dim0, dim1)
}

fn transpose_named(name: &'static str, x: &Tensor, dim0: i64, dim1: i64) -> Result<Tensor> {
    let out = raw::transpose(x, dim0, dim1)?;
    Ok(view_node(name, x, out, move |a: &BackwardArgs| {
        Ok(vec![Some(transpose(&a.grad(0)?, dim0, dim1)?)])
    }))
}

fn check_t(x: &Tensor, op: &str) -> Result<i64> {
    let n = x.ndim();
    if n > 2 {
        crate::bail!(
            Runtime,
            "{op}() expects a tensor with <= 2 dimensions, but self is {n}D"
        );
    }
    Ok(if n == 2 { 1 } else { 0 })
}

/// `t()`: the transpose of a matrix; 0-d and 1-d tensors are returned as views of themselves.
pub fn t(x: &Tensor) -> Result<Tensor> {
    let d1 = check_t(x, "t")?;
    let out = raw::transpose(x, 0, d1)?;
    Ok(view_node("TBackward0", x, out, |a: &BackwardArgs| {
        Ok(vec![Some(t(&a.grad(0)?)?)])
    }))
}

/// `x.T`: all dims reversed (a permute; 0-d tensors give an alias).
pub fn numpy_t(x: &Tensor) -> Result<Tensor> {
    if x.ndim() == 0 {
        return alias(x);
    }
    let dims: Vec<i64> = (0..x.ndim() as i64).rev().collect();
    permute(x, &dims)
}

/// `alias()`: a new view of all of `x`.
pub fn alias(x: &Tensor) -> Result<Tensor> {
    let out = x.view_with(x.layout().clone())?;
    Ok(view_node("AliasBackward0", x, out, |a: &BackwardArgs| {
        Ok(vec![Some(a.grad(0)?)])
    }))
}

/// `squeeze()` (no dims: `SqueezeBackward0`) or `squeeze(dims)` with a tuple
/// (`SqueezeBackward2`).
pub fn squeeze(x: &Tensor, dims: Option<&[i64]>) -> Result<Tensor> {
    let out = raw::squeeze(x, dims)?;
    let name = if dims.is_some() {
        "SqueezeBackward2"
    } else {
        "SqueezeBackward0"
    };
    Ok(reshaped(name, x, out))
}

/// `squeeze(dim)` with one int dim (`SqueezeBackward1`).
pub fn squeeze_dim(x: &Tensor, dim: i64) -> Result<Tensor> {
    let out = raw::squeeze(x, Some(&[dim]))?;
    Ok(reshaped("SqueezeBackward1", x, out))
}

/// `unsqueeze(dim)`.
pub fn unsqueeze(x: &Tensor, dim: i64) -> Result<Tensor> {
    let out = raw::unsqueeze(x, dim)?;
    Ok(reshaped("UnsqueezeBackward0", x, out))
}

/// `flatten(start_dim, end_dim)`: a reshape; `x` itself when the range is one dim, as in torch.
pub fn flatten(x: &Tensor, start_dim: i64, end_dim: i64) -> Result<Tensor> {
    let out = raw::flatten(x, start_dim, end_dim)?;
    if Arc::ptr_eq(&out.0, &x.0) {
        return Ok(out);
    }
    Ok(record_reshape(x, out))
}

/// `unflatten(dim, sizes)`: always a view (one dim split in several).
pub fn unflatten(x: &Tensor, dim: i64, sizes: &[i64]) -> Result<Tensor> {
    let out = raw::unflatten(x, dim, sizes)?;
    Ok(record_reshape(x, out))
}

/// `movedim(source, destination)`: a permute.
pub fn movedim(x: &Tensor, src: &[i64], dst: &[i64]) -> Result<Tensor> {
    let out = raw::movedim(x, src, dst)?;
    if x.ndim() == 0 {
        return Ok(out);
    }
    // The forward op validated the dims; rebuild its permutation for the rule.
    let n = x.ndim();
    let s: Vec<usize> = src.iter().map(|&d| wrap_dim(d, n, "movedim")).collect::<Result<_>>()?;
    let mut perm: Vec<Option<usize>> = vec![None; n];
    for (&a, &b) in s.iter().zip(dst) {
        perm[wrap_dim(b, n, "movedim")?] = Some(a);
    }
    let mut rest = (0..n).filter(|d| !s.contains(d));
    let dims: Vec<i64> = perm
        .iter()
        .map(|p| p.or_else(|| rest.next()).unwrap_or(0) as i64)
        .collect();
    Ok(permuted("PermuteBackward0", x, out, &dims))
}

/// Elements `start..stop` by `step` along `dim` (bounds already resolved), `SliceBackward0`.
pub fn slice(x: &Tensor, dim: usize, start: usize, stop: usize, step: usize) -> Result<Tensor> {
    let out = raw::slice(x, dim, start, stop, step)?;
    replayed("SliceBackward0", x, out, |p| {
        raw::slice(p, dim, start, stop, step)
    })
}

/// `narrow(dim, start, length)`: a slice (`SliceBackward0`, as torch records it).
pub fn narrow(x: &Tensor, dim: i64, start: i64, length: i64) -> Result<Tensor> {
    let out = raw::narrow(x, dim, start, length)?;
    replayed("SliceBackward0", x, out, |p| {
        raw::narrow(p, dim, start, length)
    })
}

/// `select(dim, index)`.
pub fn select(x: &Tensor, dim: i64, index: i64) -> Result<Tensor> {
    let out = raw::select(x, dim, index)?;
    replayed("SelectBackward0", x, out, |p| raw::select(p, dim, index))
}

/// `diagonal(offset, dim1, dim2)`.
pub fn diagonal(x: &Tensor, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
    let out = raw::diagonal(x, offset, dim1, dim2)?;
    replayed("DiagonalBackward0", x, out, |p| {
        raw::diagonal(p, offset, dim1, dim2)
    })
}

/// `unfold(dimension, size, step)`: overlapping windows add their gradients up.
pub fn unfold(x: &Tensor, dim: i64, size: i64, step: i64) -> Result<Tensor> {
    let out = raw::unfold(x, dim, size, step)?;
    replayed("UnfoldBackward0", x, out, |p| raw::unfold(p, dim, size, step))
}

/// `as_strided(size, stride, storage_offset)`: a view of the storage itself. The gradient
/// goes through the storage: scattered at the output's places, read back at the input's
/// (averaged where the input itself repeats elements), as torch's `as_strided_backward`.
pub fn as_strided(
    x: &Tensor,
    size: &[i64],
    stride: &[i64],
    offset: Option<i64>,
) -> Result<Tensor> {
    as_strided_named("AsStridedBackward0", x, size, stride, offset)
}

fn as_strided_named(
    name: &'static str,
    x: &Tensor,
    size: &[i64],
    stride: &[i64],
    offset: Option<i64>,
) -> Result<Tensor> {
    let out = raw::as_strided(x, size, stride, offset)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let (input, output) = (x.layout().clone(), out.layout().clone());
    Ok(view_node(name, x, out, move |a: &BackwardArgs| {
        Ok(vec![Some(super::shape_copy::as_strided_backward(
            &a.grad(0)?,
            &input,
            &output,
        )?)])
    }))
}

/// Records several views of `x` as one node whose rule joins their gradients with `join`
/// (missing ones as zeros): `cat` for split/chunk, `stack` for unbind.
fn multi_view(
    name: &'static str,
    x: &Tensor,
    outs: Vec<Tensor>,
    d: usize,
    join: fn(&[Tensor], i64) -> Result<Tensor>,
) -> Vec<Tensor> {
    record_impl(
        name,
        &[x],
        outs,
        vec![],
        move |a: &BackwardArgs| {
            let gs = (0..a.grads.len())
                .map(|k| a.grad(k))
                .collect::<Result<Vec<_>>>()?;
            Ok(vec![Some(join(&gs, d as i64)?)])
        },
        true,
    )
}

fn cat_dim(x: &Tensor, dim: i64, op: &str) -> Result<usize> {
    wrap_dim(dim, x.ndim(), op)
}

/// `split(split_size, dim)`.
pub fn split(x: &Tensor, split_size: i64, dim: i64) -> Result<Vec<Tensor>> {
    let outs = raw::split(x, split_size, dim)?;
    let d = cat_dim(x, dim, "split")?;
    Ok(multi_view("SplitBackward0", x, outs, d, cat))
}

/// `split_with_sizes(sizes, dim)` (also `split` with a list).
pub fn split_with_sizes(x: &Tensor, sizes: &[i64], dim: i64) -> Result<Vec<Tensor>> {
    let outs = raw::split_with_sizes(x, sizes, dim)?;
    let d = cat_dim(x, dim, "split_with_sizes")?;
    Ok(multi_view("SplitWithSizesBackward0", x, outs, d, cat))
}

/// `chunk(chunks, dim)`: a split (`SplitWithSizesBackward0` for an empty dim, as torch).
pub fn chunk(x: &Tensor, chunks: i64, dim: i64) -> Result<Vec<Tensor>> {
    let outs = raw::chunk(x, chunks, dim)?;
    let d = cat_dim(x, dim, "chunk")?;
    let name = if x.shape()[d] == 0 {
        "SplitWithSizesBackward0"
    } else {
        "SplitBackward0"
    };
    Ok(multi_view(name, x, outs, d, cat))
}

/// `unbind(dim)`.
pub fn unbind(x: &Tensor, dim: i64) -> Result<Vec<Tensor>> {
    let outs = raw::unbind(x, dim)?;
    let d = cat_dim(x, dim, "unbind")?;
    Ok(multi_view("UnbindBackward0", x, outs, d, stack))
}

/// `tensor_split`: each piece is its own slice of `x` (`SliceBackward0`), as in torch.
fn pieces(
    x: &Tensor,
    outs: Vec<Tensor>,
    split: impl FnOnce(&Tensor) -> Result<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    if !needs_grad(&[x]) {
        return Ok(outs);
    }
    let regions = split(&Tensor::phantom(x.shape(), x.dtype()))?;
    Ok(outs
        .into_iter()
        .zip(regions)
        .map(|(o, r)| region_node("SliceBackward0", x, o, r.layout().clone()))
        .collect())
}

/// `tensor_split(sections, dim)`.
pub fn tensor_split_sections(x: &Tensor, sections: i64, dim: i64) -> Result<Vec<Tensor>> {
    let outs = raw::tensor_split_sections(x, sections, dim)?;
    pieces(x, outs, |p| raw::tensor_split_sections(p, sections, dim))
}

/// `tensor_split(indices, dim)`.
pub fn tensor_split_indices(x: &Tensor, indices: &[i64], dim: i64) -> Result<Vec<Tensor>> {
    let outs = raw::tensor_split_indices(x, indices, dim)?;
    pieces(x, outs, |p| raw::tensor_split_indices(p, indices, dim))
}

/// The in-place view ops (`t_`, `transpose_`, `squeeze_`, `unsqueeze_`, `as_strided_`): the
/// new view that takes `x`'s place, recorded under the in-place op's own node name.
pub mod inplace {
    use super::*;

    fn check(x: &Tensor) -> Result<()> {
        x.check_inplace()
    }

    /// `t_()` (`TBackward1`).
    pub fn t_(x: &Tensor) -> Result<Tensor> {
        check(x)?;
        let d1 = check_t(x, "t_")?;
        transpose_named("TBackward1", x, 0, d1)
    }

    /// `transpose_(dim0, dim1)` (`TransposeBackward1`; also `swapaxes_`, `swapdims_`).
    pub fn transpose_(x: &Tensor, dim0: i64, dim1: i64) -> Result<Tensor> {
        check(x)?;
        transpose_named("TransposeBackward1", x, dim0, dim1)
    }

    /// `squeeze_(dim)`: none (`SqueezeBackward3`), an int (4) or a tuple (5).
    pub fn squeeze_(x: &Tensor, dims: Option<&[i64]>, one_int: bool) -> Result<Tensor> {
        check(x)?;
        let out = raw::squeeze(x, dims)?;
        let name = match (dims, one_int) {
            (None, _) => "SqueezeBackward3",
            (Some(_), true) => "SqueezeBackward4",
            (Some(_), false) => "SqueezeBackward5",
        };
        Ok(reshaped(name, x, out))
    }

    /// `unsqueeze_(dim)` (`UnsqueezeBackward1`).
    pub fn unsqueeze_(x: &Tensor, dim: i64) -> Result<Tensor> {
        check(x)?;
        let out = raw::unsqueeze(x, dim)?;
        Ok(reshaped("UnsqueezeBackward1", x, out))
    }

    /// `as_strided_(size, stride, storage_offset)` (`AsStridedBackward1`).
    pub fn as_strided_(
        x: &Tensor,
        size: &[i64],
        stride: &[i64],
        offset: Option<i64>,
    ) -> Result<Tensor> {
        check(x)?;
        as_strided_named("AsStridedBackward1", x, size, stride, offset)
    }
}
