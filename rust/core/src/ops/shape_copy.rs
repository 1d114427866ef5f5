//! Shape ops that copy: cat/stack, flip, roll, repeat/tile, repeat_interleave, tril/triu, clone.
//! Each allocates a contiguous output and fills it with strided copies whose runs the loop
//! engine fuses into memcpy-sized blocks whenever source and destination are contiguous.

use crate::cpu::iter::{for_each_run, SendPtr};
use crate::cuda::index::host;
use crate::dtype::DType;
use crate::element::Element;
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::ops::check_same_device;
use crate::ops::shape::{reshape, slice, unsqueeze};
use crate::tensor::Tensor;
use crate::{bail, dispatch_all};

/// torch's "legacy" empty tensor, shape `(0,)`, which `cat` skips whatever the other shapes.
fn is_legacy_empty(t: &Tensor) -> bool {
    t.ndim() == 1 && t.shape()[0] == 0
}

/// `torch.cat(tensors, dim)`: joins along an existing dim, promoting dtypes as torch does.
pub fn cat(ts: &[Tensor], dim: i64) -> Result<Tensor> {
    if ts.is_empty() {
        bail!(Runtime, "torch.cat(): expected a non-empty list of Tensors");
    }
    let refs: Vec<&Tensor> = ts.iter().collect();
    check_same_device("torch.cat()", &refs)?;
    for (i, t) in ts.iter().enumerate() {
        if t.ndim() == 0 {
            bail!(
                Runtime,
                "zero-dimensional tensor (at position {i}) cannot be concatenated"
            );
        }
    }
    let dtype = ts[1..]
        .iter()
        .fold(ts[0].dtype(), |acc, t| acc.promote(t.dtype()));
    let Some(r) = ts.iter().find(|t| !is_legacy_empty(t)) else {
        wrap_dim(dim, 1, "cat")?;
        return Tensor::empty(&[0], dtype, ts[0].device());
    };
    let n = r.ndim();
    let d = wrap_dim(dim, n, "cat")?;
    let mut total = 0usize;
    for (i, t) in ts.iter().enumerate() {
        if is_legacy_empty(t) {
            continue;
        }
        if t.ndim() != n {
            bail!(
                Runtime,
                "Tensors must have same number of dimensions: got {n} and {}",
                t.ndim()
            );
        }
        for k in 0..n {
            if k != d && t.shape()[k] != r.shape()[k] {
                bail!(
                    Runtime,
                    "Sizes of tensors must match except in dimension {d}. Expected size {} but got \
                     size {} for tensor number {i} in the list.",
                    r.shape()[k],
                    t.shape()[k]
                );
            }
        }
        total += t.shape()[d];
    }
    let mut shape = r.shape().to_vec();
    shape[d] = total;
    let out = Tensor::empty(&shape, dtype, r.device())?;
    let parts: Vec<&Tensor> = ts
        .iter()
        .filter(|t| !is_legacy_empty(t) && t.numel() > 0)
        .collect();
    if !out.is_cuda()
        && parts
            .iter()
            .all(|t| t.is_contiguous() && t.dtype() == dtype)
    {
        cat_contiguous(&out, &parts, d);
        return Ok(out);
    }
    let mut start = 0;
    for t in ts.iter().filter(|t| !is_legacy_empty(t)) {
        let len = t.shape()[d];
        if len > 0 && t.numel() > 0 {
            // The destination block is a strided slice of `out`; the loop engine fuses its
            // contiguous inner dims, so runs are as long as the layouts allow.
            slice(&out, d, start, start + len, 1)?.copy_(t)?;
        }
        start += len;
    }
    Ok(out)
}

/// `cat` of contiguous inputs of the output's dtype: for each index of the dims before `d`,
/// every input contributes one contiguous block, copied with a memcpy. Rows are split
/// across threads when the output is large.
fn cat_contiguous(out: &Tensor, parts: &[&Tensor], d: usize) {
    // Only bits move, so copy in unsigned units of the element size: tiny blocks (cat along
    // the last dim) become single loads and stores instead of memcpy calls.
    match out.dtype().size() {
        1 => cat_rows::<u8>(out, parts, d),
        2 => cat_rows::<u16>(out, parts, d),
        4 => cat_rows::<u32>(out, parts, d),
        _ => cat_rows::<u64>(out, parts, d),
    }
}

fn cat_rows<U: Copy + Send + Sync>(out: &Tensor, parts: &[&Tensor], d: usize) {
    let outer: usize = out.shape()[..d].iter().product();
    let inner: usize = out.shape()[d + 1..].iter().product();
    // Elements each input adds to one output row, and where its block starts in the row.
    let blocks: Vec<(SendPtr<U>, usize, usize)> = parts
        .iter()
        .scan(0usize, |at, t| {
            let len = t.shape()[d] * inner;
            let entry = (SendPtr(t.data_ptr_raw() as *mut U), len, *at);
            *at += len;
            Some(entry)
        })
        .collect();
    let row: usize = blocks.iter().map(|b| b.1).sum();
    let dst = SendPtr(out.data_ptr_raw() as *mut U);
    let copy_row = |o: usize| {
        for &(src, len, at) in &blocks {
            // SAFETY: each input holds `outer` rows of `len` elements; an output row holds the
            // sum of all blocks; `out` is fresh memory, disjoint from every input. Storage is
            // 64-byte aligned and offsets are whole elements, so `U` accesses are aligned.
            unsafe {
                let (s, t) = (src.get().add(o * len), dst.get().add(o * row + at));
                if len <= 8 {
                    for k in 0..len {
                        *t.add(k) = *s.add(k);
                    }
                } else {
                    std::ptr::copy_nonoverlapping(s, t, len);
                }
            }
        }
    };
    if outer > 1 && out.numel() >= crate::cpu::iter::PARALLEL_THRESHOLD {
        let min_rows = (crate::cpu::iter::PARALLEL_THRESHOLD / row.max(1)).max(1);
        crate::cpu::parallel_ranges(outer, min_rows, |r| r.for_each(copy_row));
    } else {
        (0..outer).for_each(copy_row);
    }
}

/// `torch.stack(tensors, dim)`: joins equally shaped tensors along a new dim.
pub fn stack(ts: &[Tensor], dim: i64) -> Result<Tensor> {
    let Some(first) = ts.first() else {
        bail!(Runtime, "stack expects a non-empty TensorList");
    };
    for (i, t) in ts.iter().enumerate() {
        if t.shape() != first.shape() {
            bail!(
                Runtime,
                "stack expects each tensor to be equal size, but got {:?} at entry 0 and {:?} at \
                 entry {i}",
                first.shape(),
                t.shape()
            );
        }
    }
    let d = wrap_dim(dim, first.ndim() + 1, "stack")? as i64;
    let parts = ts
        .iter()
        .map(|t| unsqueeze(t, d))
        .collect::<Result<Vec<_>>>()?;
    cat(&parts, d)
}

/// Copies `src` read through `src_strides` from element offset `shift` of its view (strides
/// may be negative) into the contiguous, same-dtype, same-shape tensor `out`. Runs that read
/// forwards are memcpys and runs that read backwards are reversed slices (both vectorise).
///
/// Callers guarantee every address read lies inside `src`'s view.
fn copy_with_strides(
    out: &Tensor,
    src: &Tensor,
    shift: isize,
    src_strides: &[isize],
) -> Result<()> {
    if out.is_cuda() {
        return crate::cuda::index::copy_with_strides(out, src, shift, src_strides);
    }
    fn run<T: Element>(out: &Tensor, src: &Tensor, shift: isize, src_strides: &[isize]) {
        let (o, p) = (SendPtr(out.data_ptr::<T>()), SendPtr(src.data_ptr::<T>()));
        for_each_run(
            out.shape(),
            [out.strides(), src_strides],
            |off, st, len| unsafe {
                let d = o.get().offset(off[0]);
                let s = p.get().offset(shift + off[1]);
                match st {
                    [1, 1] => std::ptr::copy_nonoverlapping(s, d, len),
                    [1, -1] => {
                        let ds = std::slice::from_raw_parts_mut(d, len);
                        let ss = std::slice::from_raw_parts(s.offset(1 - len as isize), len);
                        for (x, &y) in ds.iter_mut().zip(ss.iter().rev()) {
                            *x = y;
                        }
                    }
                    _ => {
                        for i in 0..len as isize {
                            *d.offset(i * st[0]) = *s.offset(i * st[1]);
                        }
                    }
                }
            },
        );
    }
    dispatch_all!(out.dtype(), T => run::<T>(out, src, shift, src_strides));
    Ok(())
}

/// Wraps each dim and refuses duplicates (`flip`, `roll`).
fn unique_dims(dims: &[i64], n: usize, op: &str) -> Result<Vec<usize>> {
    let mut seen = vec![false; n.max(1)];
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let w = wrap_dim(d, n, op)?;
        if seen[w] {
            bail!(
                Runtime,
                "dim {w} appears multiple times in the list of dims"
            );
        }
        seen[w] = true;
        out.push(w);
    }
    Ok(out)
}

/// `flip(dims)`: a copy with the order of elements reversed along `dims`.
pub fn flip(t: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let n = t.ndim();
    let ds = unique_dims(dims, n, "flip")?;
    let out = Tensor::empty(t.shape(), t.dtype(), t.device())?;
    if t.numel() == 0 {
        return Ok(out);
    }
    // Read the source backwards: start at the last element of each flipped dim and negate
    // its stride. All reads stay inside the source view.
    let mut strides = t.strides().to_vec();
    let mut shift = 0isize;
    for &d in ds.iter().filter(|&&d| d < n) {
        shift += (t.shape()[d] as isize - 1) * strides[d];
        strides[d] = -strides[d];
    }
    copy_with_strides(&out, t, shift, &strides)?;
    Ok(out)
}

/// Rolls one dim by `shift` (two block copies).
fn roll_one(t: &Tensor, shift: i64, d: usize) -> Result<Tensor> {
    let out = Tensor::empty(t.shape(), t.dtype(), t.device())?;
    let n = t.shape()[d];
    if t.numel() == 0 {
        return Ok(out);
    }
    let s = shift.rem_euclid(n as i64) as usize;
    slice(&out, d, 0, s, 1)?.copy_(&slice(t, d, n - s, n, 1)?)?;
    slice(&out, d, s, n, 1)?.copy_(&slice(t, d, 0, n - s, 1)?)?;
    Ok(out)
}

/// `roll(shifts, dims)`: cyclic shifts; with no dims the tensor is rolled as if flattened.
pub fn roll(t: &Tensor, shifts: &[i64], dims: &[i64]) -> Result<Tensor> {
    if shifts.is_empty() {
        bail!(Runtime, "`shifts` required");
    }
    if dims.is_empty() && shifts.len() == 1 {
        let flat = reshape(t, &[-1])?;
        let rolled = roll_one(&flat, shifts[0], 0)?;
        let shape: Vec<i64> = t.shape().iter().map(|&s| s as i64).collect();
        return reshape(&rolled, &shape);
    }
    if shifts.len() != dims.len() {
        bail!(
            Runtime,
            "shifts and dimensions must align. shifts: {}, dims:{}",
            shifts.len(),
            dims.len()
        );
    }
    let mut cur = t.clone();
    for (&s, &d) in shifts.iter().zip(dims) {
        let w = wrap_dim(d, t.ndim(), "roll")?;
        cur = if t.ndim() == 0 {
            cur.copy_to_new(cur.dtype())?
        } else {
            roll_one(&cur, s, w)?
        };
    }
    if cur.shares_storage(t) {
        cur = cur.copy_to_new(cur.dtype())?;
    }
    Ok(cur)
}

/// `repeat(sizes)`: tiles the tensor `sizes[i]` times along each dim (leading dims added).
pub fn repeat(t: &Tensor, sizes: &[i64]) -> Result<Tensor> {
    let n = t.ndim();
    if sizes.len() < n {
        bail!(
            Runtime,
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of \
             tensor"
        );
    }
    if let Some(&neg) = sizes.iter().find(|&&s| s < 0) {
        bail!(
            Runtime,
            "Trying to create tensor with negative dimension {neg}: {sizes:?}"
        );
    }
    let lead = sizes.len() - n;
    // View the source as [r0, s0, r1, s1, ...] with stride 0 on each repeat dim, copy it into
    // a contiguous tensor, then merge each (r, s) pair: innermost runs are whole source rows.
    let mut shape = Vec::with_capacity(2 * sizes.len());
    let mut strides = Vec::with_capacity(2 * sizes.len());
    let mut final_shape = Vec::with_capacity(sizes.len());
    for (i, &r) in sizes.iter().enumerate() {
        let (s, st) = if i < lead {
            (1, 0)
        } else {
            (t.shape()[i - lead], t.strides()[i - lead])
        };
        shape.extend([r as usize, s]);
        strides.extend([0, st]);
        let merged = (r as usize).checked_mul(s).ok_or_else(|| {
            crate::error::Error::runtime(format!("repeat: sizes {sizes:?} are too large"))
        })?;
        final_shape.push(merged as i64);
    }
    if final_shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s as usize))
        .is_none()
    {
        bail!(Runtime, "repeat: sizes {sizes:?} are too large");
    }
    let src = t.view_with(Layout {
        shape: shape.clone(),
        strides,
        offset: t.offset(),
    })?;
    let out = Tensor::empty(&shape, t.dtype(), t.device())?;
    if out.numel() > 0 {
        out.copy_(&src)?;
    }
    reshape(&out, &final_shape)
}

/// `tile(dims)`: `repeat` with `dims` padded by leading ones to the tensor's rank.
pub fn tile(t: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let mut sizes = vec![1i64; t.ndim().saturating_sub(dims.len())];
    sizes.extend_from_slice(dims);
    repeat(t, &sizes)
}

/// How many times to repeat each element in `repeat_interleave`.
pub enum Repeats<'a> {
    /// Every element the same number of times.
    Same(i64),
    /// A 0-d or 1-d integer tensor.
    Each(&'a Tensor),
}

/// `repeat_interleave(repeats, dim, output_size)`: repeats each slice along `dim`
/// (the flattened tensor when `dim` is None).
pub fn repeat_interleave(
    t: &Tensor,
    repeats: Repeats<'_>,
    dim: Option<i64>,
    output_size: Option<i64>,
) -> Result<Tensor> {
    let (src, d) = match dim {
        Some(dim) if t.ndim() > 0 => (t.clone(), wrap_dim(dim, t.ndim(), "repeat_interleave")?),
        Some(dim) => {
            wrap_dim(dim, 0, "repeat_interleave")?;
            (reshape(t, &[1])?, 0)
        }
        None => (reshape(t, &[-1])?, 0),
    };
    let n = src.shape()[d];
    let counts: Vec<usize> = match repeats {
        Repeats::Same(r) => {
            if r < 0 {
                bail!(Runtime, "repeats can not be negative");
            }
            vec![r as usize; n]
        }
        Repeats::Each(r) => {
            if !matches!(r.dtype(), DType::I64 | DType::I32) {
                bail!(Runtime, "repeats has to be Long or Int tensor");
            }
            if r.ndim() > 1 {
                bail!(Runtime, "repeats must be 0-dim or 1-dim tensor");
            }
            // The output size depends on the counts: they are read on the host (as torch
            // does without `output_size`); the data itself stays on its device.
            let vals = host(r)?.to_vec::<i64>();
            if vals.iter().any(|&v| v < 0) {
                bail!(Runtime, "repeats can not be negative");
            }
            if vals.len() == 1 {
                vec![vals[0] as usize; n]
            } else if vals.len() != n {
                bail!(
                    Runtime,
                    "repeats must have the same size as input along dim, but got repeats.size(0) = \
                     {} and input.size({d}) = {n}",
                    vals.len()
                );
            } else {
                vals.iter().map(|&v| v as usize).collect()
            }
        }
    };
    let total = counts
        .iter()
        .try_fold(0usize, |a, &c| a.checked_add(c))
        .unwrap_or(usize::MAX);
    if let Some(o) = output_size {
        if o < 0 || o as usize != total {
            bail!(
                Runtime,
                "repeat_interleave: output_size {o} does not match the sum of repeats {total}"
            );
        }
    }
    let mut shape = src.shape().to_vec();
    shape[d] = total;
    let out = Tensor::empty(&shape, src.dtype(), src.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    if src.is_cuda() {
        // One gather along `dim` by the slice each output slice copies.
        let index: Vec<i64> = (0..n as i64)
            .zip(&counts)
            .flat_map(|(i, &c)| std::iter::repeat_n(i, c))
            .collect();
        let index = Tensor::from_vec(index, &[total])?.to_device(src.device())?;
        return crate::ops::index_gather::index_select(&src, d as i64, &index);
    }
    let src = src.contiguous()?;
    let outer: usize = shape[..d].iter().product();
    let inner: usize = shape[d + 1..].iter().product();
    dispatch_all!(src.dtype(), T => interleave::<T>(&src, &out, outer, inner, &counts));
    Ok(out)
}

/// The repeat_interleave kernel on contiguous tensors: block `i` (of `inner` elements) of
/// each outer row is written `counts[i]` times in a row.
fn interleave<T: Element>(
    src: &Tensor,
    out: &Tensor,
    outer: usize,
    inner: usize,
    counts: &[usize],
) {
    let n = counts.len();
    let total: usize = counts.iter().sum();
    // SAFETY: both tensors are contiguous with exactly these element counts.
    let (ss, os) = unsafe {
        (
            std::slice::from_raw_parts(src.data_ptr::<T>(), outer * n * inner),
            std::slice::from_raw_parts_mut(out.data_ptr::<T>(), outer * total * inner),
        )
    };
    let mut w = 0usize;
    for o in 0..outer {
        for (i, &c) in counts.iter().enumerate() {
            let from = (o * n + i) * inner;
            if inner == 1 {
                os[w..w + c].fill(ss[from]);
                w += c;
            } else {
                let block = &ss[from..from + inner];
                for _ in 0..c {
                    os[w..w + inner].copy_from_slice(block);
                    w += inner;
                }
            }
        }
    }
}

/// `torch.repeat_interleave(repeats)`: indices `0..len` each repeated `repeats[i]` times.
pub fn repeat_interleave_indices(repeats: &Tensor, output_size: Option<i64>) -> Result<Tensor> {
    if repeats.ndim() > 1 {
        bail!(Runtime, "repeat_interleave only accept 1D vector as repeat");
    }
    let n = repeats.numel();
    let idx =
        Tensor::from_vec((0..n as i64).collect::<Vec<i64>>(), &[n])?.to_device(repeats.device())?;
    repeat_interleave(
        &idx,
        Repeats::Each(&reshape(repeats, &[-1])?),
        Some(0),
        output_size,
    )
}

/// Zeroes the part of each matrix (last two dims) outside the lower (or upper) triangle.
fn zero_triangle(t: &Tensor, lower: bool, k: i64, op: &str) -> Result<()> {
    let n = t.ndim();
    if n < 2 {
        bail!(
            Runtime,
            "{op}: input tensor must have at least 2 dimensions"
        );
    }
    let (rows, cols) = (t.shape()[n - 2] as i64, t.shape()[n - 1] as i64);
    let (rs, cs) = (t.strides()[n - 2], t.strides()[n - 1]);
    let (bshape, bstrides) = (&t.shape()[..n - 2], &t.strides()[..n - 2]);
    // Columns to zero in row i: tril -> (i + k, cols), triu -> [0, i + k).
    let range = move |i: i64| -> (usize, usize) {
        if lower {
            (
                i.saturating_add(k).saturating_add(1).clamp(0, cols) as usize,
                cols as usize,
            )
        } else {
            (0, i.saturating_add(k).clamp(0, cols) as usize)
        }
    };
    fn run<T: Element>(
        t: &Tensor,
        bshape: &[usize],
        bstrides: &[isize],
        rows: i64,
        rs: isize,
        cs: isize,
        range: impl Fn(i64) -> (usize, usize) + Sync,
    ) {
        let p = SendPtr(t.data_ptr::<T>());
        for_each_run(bshape, [bstrides], |off, st, len| unsafe {
            for b in 0..len as isize {
                let base = p.get().offset(off[0] + b * st[0]);
                for i in 0..rows {
                    let (a, e) = range(i);
                    let row = base.offset(i as isize * rs);
                    if cs == 1 {
                        std::slice::from_raw_parts_mut(row.add(a), e.saturating_sub(a))
                            .fill(T::zero());
                    } else {
                        for j in a..e {
                            *row.offset(j as isize * cs) = T::zero();
                        }
                    }
                }
            }
        });
    }
    if t.is_cuda() {
        return crate::cuda::index::triangle(t, lower, k);
    }
    if t.numel() > 0 {
        dispatch_all!(t.dtype(), T => run::<T>(t, bshape, bstrides, rows, rs, cs, range));
    }
    t.storage().bump_version();
    Ok(())
}

/// `tril(diagonal)`: the lower triangle of each matrix; the rest is zero.
pub fn tril(t: &Tensor, diagonal: i64) -> Result<Tensor> {
    if t.ndim() < 2 {
        bail!(
            Runtime,
            "tril: input tensor must have at least 2 dimensions"
        );
    }
    let out = t.copy_to_new(t.dtype())?;
    zero_triangle(&out, true, diagonal, "tril")?;
    Ok(out)
}

/// `triu(diagonal)`: the upper triangle of each matrix; the rest is zero.
pub fn triu(t: &Tensor, diagonal: i64) -> Result<Tensor> {
    if t.ndim() < 2 {
        bail!(
            Runtime,
            "triu: input tensor must have at least 2 dimensions"
        );
    }
    let out = t.copy_to_new(t.dtype())?;
    zero_triangle(&out, false, diagonal, "triu")?;
    Ok(out)
}

/// `tril_(diagonal)`: in place.
pub fn tril_(t: &Tensor, diagonal: i64) -> Result<()> {
    zero_triangle(t, true, diagonal, "tril")
}

/// `triu_(diagonal)`: in place.
pub fn triu_(t: &Tensor, diagonal: i64) -> Result<()> {
    zero_triangle(t, false, diagonal, "triu")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: &[usize]) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), shape).unwrap()
    }

    #[test]
    fn cat_flip_roll_repeat() {
        let a = ramp(&[2, 2]);
        let b = Tensor::from_vec(vec![9.5f32, 8.5], &[2, 1]).unwrap();
        let c = cat(&[a.clone(), b], 1).unwrap();
        assert_eq!(c.dtype(), DType::F32);
        assert_eq!(c.to_vec::<f64>(), vec![0.0, 1.0, 9.5, 2.0, 3.0, 8.5]);
        assert_eq!(flip(&a, &[0]).unwrap().to_vec::<i64>(), vec![2, 3, 0, 1]);
        assert_eq!(
            roll(&ramp(&[5]), &[2], &[]).unwrap().to_vec::<i64>(),
            vec![3, 4, 0, 1, 2]
        );
        assert_eq!(
            repeat(&ramp(&[2]), &[2, 2]).unwrap().to_vec::<i64>(),
            vec![0, 1, 0, 1, 0, 1, 0, 1]
        );
        let r = repeat_interleave(&ramp(&[2]), Repeats::Same(2), None, None).unwrap();
        assert_eq!(r.to_vec::<i64>(), vec![0, 0, 1, 1]);
        assert_eq!(
            tril(&ramp(&[2, 2]), 0).unwrap().to_vec::<i64>(),
            vec![0, 0, 2, 3]
        );
        assert_eq!(
            triu(&ramp(&[2, 2]), 1).unwrap().to_vec::<i64>(),
            vec![0, 1, 0, 0]
        );
    }
}
