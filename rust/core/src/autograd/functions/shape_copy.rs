//! Shape ops that copy (cat, stack, flip, roll, repeat, repeat_interleave, tril/triu, rot90)
//! and their rules, plus the scatter/gather pair that carries a view's gradient back into the
//! region it selected (overlapping regions included: unfold windows, as_strided).

use super::binary::div;
use super::shape::{flatten, narrow, reshape, select, transpose, unsqueeze};
use crate::autograd::no_grad;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{inplace, needs_grad, record1, record_impl};
use crate::bail;
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::ops::binary::{self as rawbin, BinaryOp, ONE};
use crate::ops::index_gather::{index_add_, index_select};
use crate::ops::index_kernels::for_each_offset;
use crate::ops::shape_copy::{self as raw, Repeats};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

fn dims_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// torch's "legacy" empty input of `cat`, shape `(0,)`, which it skips.
fn is_legacy_empty(shape: &[usize]) -> bool {
    shape == [0]
}

/// `torch.cat(tensors, dim)`: each input's gradient is its slice of the output's.
pub fn cat(ts: &[Tensor], dim: i64) -> Result<Tensor> {
    let out = raw::cat(ts, dim)?;
    let refs: Vec<&Tensor> = ts.iter().collect();
    if !needs_grad(&refs) {
        return Ok(out);
    }
    let d = wrap_dim(dim, out.ndim(), "cat")?;
    let sizes: Vec<Option<usize>> = ts
        .iter()
        .map(|t| (!is_legacy_empty(t.shape())).then(|| t.shape()[d]))
        .collect();
    Ok(record1(
        "CatBackward0",
        &refs,
        out,
        vec![],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let mut start = 0i64;
            sizes
                .iter()
                .enumerate()
                .map(|(i, s)| match s {
                    // torch hands skipped empty inputs an empty gradient.
                    None => Tensor::zeros(&[0], g.dtype(), g.device()).map(Some),
                    Some(n) => {
                        let n = *n as i64;
                        start += n;
                        if a.needs(i) {
                            narrow(&g, d as i64, start - n, n).map(Some)
                        } else {
                            Ok(None)
                        }
                    }
                })
                .collect()
        },
    ))
}

/// `torch.stack(tensors, dim)`: each input's gradient is its index of the new dim.
pub fn stack(ts: &[Tensor], dim: i64) -> Result<Tensor> {
    let out = raw::stack(ts, dim)?;
    let refs: Vec<&Tensor> = ts.iter().collect();
    if !needs_grad(&refs) {
        return Ok(out);
    }
    let d = wrap_dim(dim, out.ndim(), "stack")? as i64;
    let n = ts.len();
    Ok(record1(
        "StackBackward0",
        &refs,
        out,
        vec![],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            (0..n)
                .map(|i| super::when(a.needs(i), || select(&g, d, i as i64)))
                .collect()
        },
    ))
}

/// `flip(dims)`: its own inverse.
pub fn flip(x: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let out = raw::flip(x, dims)?;
    let dims = dims.to_vec();
    Ok(record1(
        "FlipBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(flip(&a.grad(0)?, &dims)?)]),
    ))
}

/// `roll(shifts, dims)`: rolled back by the opposite shifts.
pub fn roll(x: &Tensor, shifts: &[i64], dims: &[i64]) -> Result<Tensor> {
    let out = raw::roll(x, shifts, dims)?;
    let back: Vec<i64> = shifts.iter().map(|&s| s.wrapping_neg()).collect();
    let dims = dims.to_vec();
    Ok(record1(
        "RollBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(roll(&a.grad(0)?, &back, &dims)?)]),
    ))
}

/// `repeat(sizes)`: the copies' gradients add up (torch's `repeat_backward`).
pub fn repeat(x: &Tensor, sizes: &[i64]) -> Result<Tensor> {
    let out = raw::repeat(x, sizes)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let in_shape = x.shape().to_vec();
    let sizes = sizes.to_vec();
    Ok(record1(
        "RepeatBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(repeat_backward(&a.grad(0)?, &sizes, &in_shape)?)]),
    ))
}

fn repeat_backward(g: &Tensor, sizes: &[i64], in_shape: &[usize]) -> Result<Tensor> {
    if sizes.contains(&0) {
        return Tensor::zeros(in_shape, g.dtype(), g.device());
    }
    let lead = sizes.len() - in_shape.len();
    // View the gradient as [r0, s0, r1, s1, ...] (leading dims are pure repeats) and sum the
    // repeat dims away; dims repeated once need no split.
    let mut split = Vec::with_capacity(2 * sizes.len());
    let mut sum_dims = Vec::new();
    for (i, &r) in sizes.iter().enumerate() {
        if i < lead {
            sum_dims.push(split.len() as i64);
            split.push(r);
            continue;
        }
        if r != 1 {
            sum_dims.push(split.len() as i64);
            split.push(r);
        }
        split.push(in_shape[i - lead] as i64);
    }
    if sum_dims.is_empty() {
        return Ok(g.clone());
    }
    let s = super::reduce::sum(&reshape(g, &split)?, Some(&sum_dims), false, None)?;
    reshape(&s, &dims_i64(in_shape))
}

/// `tile(dims)`: `repeat` with `dims` padded by leading ones.
pub fn tile(x: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let mut sizes = vec![1i64; x.ndim().saturating_sub(dims.len())];
    sizes.extend_from_slice(dims);
    repeat(x, &sizes)
}

/// `repeat_interleave(repeats, dim, output_size)`. An int count is torch's composite
/// (unsqueeze, expand, contiguous clone, flatten); a tensor of counts is an index_select.
pub fn repeat_interleave(
    x: &Tensor,
    repeats: Repeats<'_>,
    dim: Option<i64>,
    output_size: Option<i64>,
) -> Result<Tensor> {
    if !needs_grad(&[x]) {
        return raw::repeat_interleave(x, repeats, dim, output_size);
    }
    let (src, d) = match dim {
        Some(dim) if x.ndim() > 0 => (x.clone(), wrap_dim(dim, x.ndim(), "repeat_interleave")?),
        Some(dim) => {
            wrap_dim(dim, 0, "repeat_interleave")?;
            (reshape(x, &[1])?, 0)
        }
        None => (flatten(x, 0, -1)?, 0),
    };
    match repeats {
        Repeats::Same(r) => {
            // Same checks (and messages) as the kernel path.
            if r < 0 {
                bail!(Runtime, "repeats can not be negative");
            }
            let total = src.shape()[d].checked_mul(r as usize);
            if let Some(o) = output_size {
                if o < 0 || Some(o as usize) != total {
                    bail!(
                        Runtime,
                        "repeat_interleave: output_size {o} does not match the sum of repeats {}",
                        total.unwrap_or(usize::MAX)
                    );
                }
            }
            let u = unsqueeze(&src, d as i64 + 1)?;
            let mut shape = dims_i64(u.shape());
            shape[d + 1] = r;
            let e = super::shape::expand(&u, &shape)?;
            let c = super::convert::clone(&e, crate::ops::convert::MemoryFormat::Contiguous)?;
            flatten(&c, d as i64, d as i64 + 1)
        }
        Repeats::Each(counts) => {
            let out = raw::repeat_interleave(&src, Repeats::Each(counts), Some(d as i64), None)?;
            if let Some(o) = output_size {
                if o < 0 || o as usize != out.shape()[d] {
                    bail!(
                        Runtime,
                        "repeat_interleave: output_size {o} does not match the sum of repeats {}",
                        out.shape()[d]
                    );
                }
            }
            let n = src.shape()[d];
            let c = counts.to_vec::<i64>();
            let idx: Vec<i64> = (0..n)
                .flat_map(|i| {
                    let k = if c.len() == 1 { c[0] } else { c[i] };
                    std::iter::repeat_n(i as i64, k.max(0) as usize)
                })
                .collect();
            let len = idx.len();
            let idx = Tensor::from_vec(idx, &[len])?.to_device(src.device())?;
            Ok(record_index_select(&src, out, d, idx))
        }
    }
}

/// Records `out = src.index_select(d, idx)` (`IndexSelectBackward0`).
fn record_index_select(src: &Tensor, out: Tensor, d: usize, idx: Tensor) -> Tensor {
    let n = src.shape()[d];
    record1(
        "IndexSelectBackward0",
        &[src],
        out,
        vec![Save::Tensor(idx)],
        move |a: &BackwardArgs| Ok(vec![Some(index_add_rows(&a.grad(0)?, d, &a.saved(0)?, n)?)]),
    )
}

/// Zeros with `n` rows on dim `d`, with `g`'s rows added at `idx` (`index_select`'s gradient).
fn index_add_rows(g: &Tensor, d: usize, idx: &Tensor, n: usize) -> Result<Tensor> {
    let out = {
        let _g = no_grad();
        let mut shape = g.shape().to_vec();
        shape[d] = n;
        let out = Tensor::zeros(&shape, g.dtype(), g.device())?;
        index_add_(&out, d as i64, idx, g, ONE)?;
        out
    };
    Ok(record1(
        "IndexAddBackward0",
        &[g],
        out,
        vec![Save::Tensor(idx.clone())],
        move |a: &BackwardArgs| {
            let gg = a.grad(0)?;
            let idx = a.saved(0)?;
            let picked = {
                let _g = no_grad();
                index_select(&gg, d as i64, &idx)?
            };
            Ok(vec![Some(record_index_select(&gg, picked, d, idx))])
        },
    ))
}

/// `tril(diagonal)`.
pub fn tril(x: &Tensor, diagonal: i64) -> Result<Tensor> {
    let out = raw::tril(x, diagonal)?;
    Ok(record1(
        "TrilBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(tril(&a.grad(0)?, diagonal)?)]),
    ))
}

/// `triu(diagonal)`.
pub fn triu(x: &Tensor, diagonal: i64) -> Result<Tensor> {
    let out = raw::triu(x, diagonal)?;
    Ok(record1(
        "TriuBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(triu(&a.grad(0)?, diagonal)?)]),
    ))
}

/// `tril_(diagonal)`.
pub fn tril_(x: &Tensor, diagonal: i64) -> Result<()> {
    inplace(
        x,
        &[],
        || raw::tril_(x, diagonal),
        |old| tril(old, diagonal),
    )
}

/// `triu_(diagonal)`.
pub fn triu_(x: &Tensor, diagonal: i64) -> Result<()> {
    inplace(
        x,
        &[],
        || raw::triu_(x, diagonal),
        |old| triu(old, diagonal),
    )
}

/// `rot90(k, dims)`: torch's composite (flip, then an in-place transpose of the flipped copy).
pub fn rot90(x: &Tensor, k: i64, dims: &[i64]) -> Result<Tensor> {
    let n = x.ndim() as i64;
    if dims.len() != 2 {
        bail!(
            Runtime,
            "expected total rotation dims == 2, but got dims = {}",
            dims.len()
        );
    }
    if n < 2 {
        bail!(
            Runtime,
            "expected total dims >= 2, but got total dims = {n}"
        );
    }
    let (d0, d1) = (dims[0], dims[1]);
    if d0 == d1 || (d0 - d1).abs() == n {
        bail!(
            Runtime,
            "expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}"
        );
    }
    if d0 >= n || d0 < -n {
        bail!(Runtime, "Rotation dim0 out of range, dim0 = {d0}");
    }
    if d1 >= n || d1 < -n {
        bail!(Runtime, "Rotation dim1 out of range, dim1 = {d1}");
    }
    let turned = |flip_dim: i64| -> Result<Tensor> {
        let f = flip(x, &[flip_dim])?;
        let out = crate::ops::shape::transpose(&f, d0, d1)?;
        // The transposed copy is a new tensor (torch transposes it in place), not a view.
        Ok(record_impl(
            "TransposeBackward1",
            &[&f],
            vec![out],
            vec![],
            move |a: &BackwardArgs| Ok(vec![Some(transpose(&a.grad(0)?, d0, d1)?)]),
            false,
        )
        .pop()
        .expect("one output in, one out"))
    };
    match k.rem_euclid(4) {
        1 => turned(d1),
        2 => flip(x, dims),
        3 => turned(d0),
        _ => super::convert::clone(x, crate::ops::convert::MemoryFormat::Contiguous),
    }
}

/// Whether two indices of `region` (dims of size > 1 and stride > 0) can reach the same
/// element. Conservative: a layout it cannot prove disjoint counts as overlapping.
fn overlaps(region: &Layout) -> bool {
    let mut dims: Vec<(usize, isize)> = region
        .shape
        .iter()
        .zip(&region.strides)
        .filter(|(&n, &s)| n > 1 && s != 0)
        .map(|(&n, &s)| (n, s))
        .collect();
    dims.sort_by_key(|&(_, s)| s);
    let mut reach = 0isize;
    for (n, s) in dims {
        if s <= reach {
            return true;
        }
        reach += (n as isize - 1) * s;
    }
    false
}

/// Whether `l` addresses some element twice (broadcast dims included).
fn repeats_elements(l: &Layout) -> bool {
    overlaps(l)
        || l.shape
            .iter()
            .zip(&l.strides)
            .any(|(&n, &s)| n > 1 && s == 0)
}

/// `zeros(shape)` with `g` added at `region` of its contiguous buffer: the gradient of a view
/// that selected `region`. Elements the region reaches several times (broadcast dims,
/// overlapping windows) receive the sum of their gradients.
pub fn scatter_region(g: &Tensor, shape: &[usize], region: &Layout) -> Result<Tensor> {
    let numel: usize = shape.iter().product();
    if region.offset == 0 && region.is_contiguous() && region.numel() == numel {
        return reshape(g, &dims_i64(shape));
    }
    let out = {
        let _g = no_grad();
        let out = Tensor::zeros(shape, g.dtype(), g.device())?;
        if region.numel() == 0 {
            out
        } else if overlaps(region) {
            // Several indices share an element: accumulate through an index table.
            let flat = Tensor::zeros(&[numel], g.dtype(), g.device())?;
            let src = crate::ops::shape::reshape(&g.contiguous()?, &[-1])?;
            let at = positions(region)?.to_device(flat.device())?;
            index_add_(&flat, 0, &at, &src, ONE)?;
            crate::ops::shape::reshape(&flat, &dims_i64(shape))?
        } else {
            let mut region = region.clone();
            let repeated: Vec<i64> = (0..region.ndim())
                .filter(|&d| region.strides[d] == 0 && region.shape[d] > 1)
                .map(|d| d as i64)
                .collect();
            let g = if repeated.is_empty() {
                g.clone()
            } else {
                for &d in &repeated {
                    region.shape[d as usize] = 1;
                }
                crate::ops::reduce::sum(g, Some(&repeated), true, None)?
            };
            let dst = out.view_with(region)?;
            rawbin::binary_into(BinaryOp::Add(ONE), &dst, &g, &dst)?;
            out
        }
    };
    let region = region.clone();
    Ok(record1(
        "AsStridedScatterBackward0",
        &[g],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(gather_region(&a.grad(0)?, &region)?)]),
    ))
}

/// The elements of `g` at `region` of its contiguous buffer, as a new contiguous tensor
/// (the inverse of [`scatter_region`], and its gradient).
pub fn gather_region(g: &Tensor, region: &Layout) -> Result<Tensor> {
    let shape = g.shape().to_vec();
    let out = {
        let _g = no_grad();
        let c = g.contiguous()?;
        // `region` counts from the first element of `g`, which may sit past the storage start.
        let at = Layout {
            offset: region.offset + c.offset(),
            ..region.clone()
        };
        c.view_with(at)?.contiguous()?
    };
    let region = region.clone();
    Ok(record1(
        "AsStridedBackward0",
        &[g],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(scatter_region(&a.grad(0)?, &shape, &region)?)]),
    ))
}

/// The buffer offsets `region` visits, in row-major order, as an int64 index.
fn positions(region: &Layout) -> Result<Tensor> {
    let mut v = Vec::with_capacity(region.numel());
    let base = region.offset as i64;
    for_each_offset(&region.shape, &region.strides, |o| v.push(base + o as i64));
    let n = v.len();
    Tensor::from_vec(v, &[n])
}

/// The gradient of `as_strided` for an input laid out as `input` and an output as `output`
/// (both in storage elements): through a buffer covering both, as torch does.
pub(crate) fn as_strided_backward(g: &Tensor, input: &Layout, output: &Layout) -> Result<Tensor> {
    if input.numel() == 0 || output.numel() == 0 {
        return Tensor::zeros(&input.shape, g.dtype(), g.device());
    }
    let (ilo, ihi) = input.storage_span();
    let (olo, ohi) = output.storage_span();
    let moved = |l: &Layout, to: usize| Layout {
        offset: l.offset - to,
        ..l.clone()
    };
    if input.is_contiguous() && olo >= ilo && ohi <= ihi {
        // The output lies inside the input's own elements.
        return scatter_region(g, &input.shape, &moved(output, ilo));
    }
    let lo = ilo.min(olo);
    let len = ihi.max(ohi) - lo;
    let buf = scatter_region(g, &[len], &moved(output, lo))?;
    let at = moved(input, lo);
    let buf = if repeats_elements(&at) {
        // An input element seen several times shares the gradient of its storage slot.
        let count = {
            let _g = no_grad();
            let ones = Tensor::full(&at.shape, Scalar::Int(1), g.dtype(), g.device())?;
            let c = scatter_region(&ones, &[len], &at)?;
            rawbin::binary(
                BinaryOp::Maximum,
                &c,
                &Tensor::wrapped_scalar(Scalar::Int(1))?,
            )?
        };
        div(&buf, &count)?
    } else {
        buf
    };
    gather_region(&buf, &at)
}
