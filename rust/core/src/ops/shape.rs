//! Views (no copy: new layout over the same storage) and shape ops.

use crate::bail;
use crate::dtype::scalar_type_name;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::{checked_numel, contiguous_strides, infer_shape, wrap_dim, Layout};
use crate::tensor::Tensor;

/// `view(shape)`: fails when the memory layout cannot express the new shape without a copy.
pub fn view(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let shape = infer_shape(shape, t.numel(), "view")?;
    match t.layout().view_strides(&shape) {
        Some(strides) => t.view_with(Layout {
            shape,
            strides,
            offset: t.offset(),
        }),
        None => bail!(
            Runtime,
            "view size is not compatible with input tensor's size and stride (at least one \
             dimension spans across two contiguous subspaces). Use .reshape(...) instead. \
             (view of shape {:?} with strides {:?} as {:?})",
            t.shape(),
            t.strides(),
            shape
        ),
    }
}

/// `reshape(shape)`: a view when possible, otherwise a contiguous copy.
pub fn reshape(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let shape = infer_shape(shape, t.numel(), "reshape")?;
    match t.layout().view_strides(&shape) {
        Some(strides) => t.view_with(Layout {
            shape,
            strides,
            offset: t.offset(),
        }),
        None => {
            let c = t.copy_to_new(t.dtype())?;
            c.view_with(Layout {
                strides: contiguous_strides(&shape),
                shape,
                offset: 0,
            })
        }
    }
}

/// `permute(dims)`.
pub fn permute(t: &Tensor, dims: &[i64]) -> Result<Tensor> {
    let n = t.ndim();
    if dims.len() != n {
        bail!(
            Runtime,
            "permute(sparse_coo): number of dimensions in the tensor input does not match the \
             length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal to \
             len(dims) = {}",
            dims.len()
        );
    }
    let mut seen = vec![false; n];
    let mut shape = Vec::with_capacity(n);
    let mut strides = Vec::with_capacity(n);
    for &d in dims {
        let d = wrap_dim(d, n, "permute")?;
        if seen[d] {
            bail!(Runtime, "permute(): duplicate dims are not allowed.");
        }
        seen[d] = true;
        shape.push(t.shape()[d]);
        strides.push(t.strides()[d]);
    }
    t.view_with(Layout {
        shape,
        strides,
        offset: t.offset(),
    })
}

/// `transpose(dim0, dim1)`.
pub fn transpose(t: &Tensor, dim0: i64, dim1: i64) -> Result<Tensor> {
    let n = t.ndim();
    let (a, b) = (
        wrap_dim(dim0, n, "transpose")?,
        wrap_dim(dim1, n, "transpose")?,
    );
    let mut l = t.layout().clone();
    if n > 0 {
        l.shape.swap(a, b);
        l.strides.swap(a, b);
    }
    t.view_with(l)
}

/// `expand(shape)`: -1 keeps a dimension; new leading dims are allowed.
pub fn expand(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let n = t.ndim();
    if shape.len() < n {
        bail!(
            Runtime,
            "expand: the number of sizes provided ({}) must be greater or equal to the number of \
             dimensions in the tensor ({n})",
            shape.len()
        );
    }
    let lead = shape.len() - n;
    let mut target = Vec::with_capacity(shape.len());
    for (i, &s) in shape.iter().enumerate() {
        if s == -1 {
            if i < lead {
                bail!(
                    Runtime,
                    "expand: -1 is not allowed in a leading, non-existing dimension {i}"
                );
            }
            target.push(t.shape()[i - lead]);
        } else if s < 0 {
            bail!(Runtime, "expand: invalid size {s} in {shape:?}");
        } else {
            target.push(s as usize);
        }
    }
    checked_numel(&target, "expand")?;
    t.view_with(t.layout().broadcast_to(&target, "expand")?)
}

/// `broadcast_to(shape)` on a resolved shape.
pub fn broadcast_to(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    checked_numel(shape, "broadcast_to")?;
    t.view_with(t.layout().broadcast_to(shape, "broadcast_to")?)
}

/// `unsqueeze(dim)`: dim may be in `-(ndim+1)..=ndim`.
pub fn unsqueeze(t: &Tensor, dim: i64) -> Result<Tensor> {
    let d = wrap_dim(dim, t.ndim() + 1, "unsqueeze")?;
    let mut l = t.layout().clone();
    let stride = if d < l.ndim() {
        l.strides[d] * l.shape[d] as isize
    } else {
        1
    };
    l.shape.insert(d, 1);
    l.strides.insert(d, stride);
    t.view_with(l)
}

/// `squeeze(dims)`: removes the given size-1 dims (all size-1 dims when `dims` is None).
pub fn squeeze(t: &Tensor, dims: Option<&[i64]>) -> Result<Tensor> {
    let n = t.ndim();
    let mut drop = vec![false; n];
    match dims {
        None => {
            for (flag, &size) in drop.iter_mut().zip(t.shape()) {
                *flag = size == 1;
            }
        }
        Some(ds) => {
            let mut seen = vec![false; n.max(1)];
            for &d in ds {
                let w = wrap_dim(d, n, "squeeze")?;
                if seen[w] {
                    bail!(
                        Runtime,
                        "dim {w} appears multiple times in the list of dims"
                    );
                }
                seen[w] = true;
                if n > 0 {
                    drop[w] = t.shape()[w] == 1;
                }
            }
        }
    }
    let l = t.layout();
    let keep = |i: &usize| !drop[*i];
    let shape = (0..n).filter(keep).map(|i| l.shape[i]).collect();
    let strides = (0..n).filter(keep).map(|i| l.strides[i]).collect();
    t.view_with(Layout {
        shape,
        strides,
        offset: l.offset,
    })
}

/// Elements `start..stop` by `step` along `dim` (Python slice semantics already resolved:
/// `0 <= start <= stop <= size`, `step >= 1`).
pub fn slice(t: &Tensor, dim: usize, start: usize, stop: usize, step: usize) -> Result<Tensor> {
    if step == 0 {
        bail!(Value, "slice step cannot be zero");
    }
    let mut l = t.layout().clone();
    let size = l.shape[dim];
    let (start, stop) = (start.min(size), stop.min(size).max(start.min(size)));
    l.offset = (l.offset as isize + start as isize * l.strides[dim]) as usize;
    l.shape[dim] = (stop - start).div_ceil(step);
    l.strides[dim] *= step as isize;
    t.view_with(l)
}

/// `narrow(dim, start, length)`; negative `start` counts from the end.
pub fn narrow(t: &Tensor, dim: i64, start: i64, length: i64) -> Result<Tensor> {
    if t.ndim() == 0 {
        bail!(Runtime, "narrow() cannot be applied to a 0-dim tensor.");
    }
    let d = wrap_dim(dim, t.ndim(), "narrow")?;
    let size = t.shape()[d] as i64;
    let start = if start < 0 { start + size } else { start };
    if start < 0 || start > size {
        bail!(
            Index,
            "start out of range (expected to be in range of [{}, {size}], but got {start})",
            -size
        );
    }
    if length < 0 || length > size - start {
        bail!(
            Runtime,
            "start ({start}) + length ({length}) exceeds dimension size ({size})."
        );
    }
    slice(t, d, start as usize, (start + length) as usize, 1)
}

/// `select(dim, index)`: removes `dim`, taking one index (negative counts from the end).
pub fn select(t: &Tensor, dim: i64, index: i64) -> Result<Tensor> {
    if t.ndim() == 0 {
        bail!(Index, "select() cannot be applied to a 0-dim tensor.");
    }
    let d = wrap_dim(dim, t.ndim(), "select")?;
    let size = t.shape()[d] as i64;
    let i = if index < 0 { index + size } else { index };
    if i < 0 || i >= size {
        bail!(
            Index,
            "index {index} is out of bounds for dimension {d} with size {size}"
        );
    }
    let mut l = t.layout().clone();
    l.offset = (l.offset as isize + i as isize * l.strides[d]) as usize;
    l.shape.remove(d);
    l.strides.remove(d);
    t.view_with(l)
}

/// `as_strided(size, stride, storage_offset)`: any view inside the storage.
pub fn as_strided(t: &Tensor, size: &[i64], stride: &[i64], offset: Option<i64>) -> Result<Tensor> {
    if size.len() != stride.len() {
        bail!(
            Runtime,
            "mismatch in length of strides and shape: {size:?} vs {stride:?}"
        );
    }
    if size.iter().chain(stride).any(|&v| v < 0) {
        bail!(
            Runtime,
            "as_strided: Negative sizes or strides are not supported: {size:?}, {stride:?}"
        );
    }
    let offset = offset.unwrap_or(t.offset() as i64);
    if offset < 0 {
        bail!(Runtime, "Tensor: invalid storage offset {offset}");
    }
    // Reject views whose last element cannot even be addressed (before from_parts does the
    // bounds check in arithmetic that must not overflow).
    let span = size.iter().zip(stride).try_fold(offset, |acc, (&n, &st)| {
        if n == 0 {
            return Some(acc);
        }
        (n - 1).checked_mul(st).and_then(|v| v.checked_add(acc))
    });
    let shape: Vec<usize> = size.iter().map(|&s| s as usize).collect();
    checked_numel(&shape, "as_strided")?;
    if span.is_none_or(|v| v > isize::MAX as i64 / 8) {
        bail!(Runtime, "as_strided: size {size:?} and stride {stride:?} address memory out of bounds for storage");
    }
    let layout = Layout {
        shape,
        strides: stride.iter().map(|&s| s as isize).collect(),
        offset: offset as usize,
    };
    t.view_with(layout)
}

/// `view(dtype)`: the same bytes reinterpreted as `dtype`. With a different element size the
/// last dim (stride 1) is rescaled, as torch does.
pub fn view_dtype(t: &Tensor, dtype: DType) -> Result<Tensor> {
    let from = t.dtype();
    if dtype == DType::Bool && from != DType::Bool {
        // Arbitrary bytes are not valid Rust bools; torch allows this, ferrotorch cannot yet.
        bail!(
            NotImplemented,
            "view: reinterpreting {from} as torch.bool is not supported"
        );
    }
    let (a, b) = (from.size(), dtype.size());
    let mut l = t.layout().clone();
    if a == b {
        return Tensor::from_parts(t.storage().clone(), l, dtype);
    }
    let what = format!(
        "to view {} as {} (different element sizes)",
        scalar_type_name(from),
        scalar_type_name(dtype)
    );
    let n = t.ndim();
    if n == 0 {
        bail!(Runtime, "self.dim() cannot be 0 {what}");
    }
    if l.strides[n - 1] != 1 && l.shape[n - 1] != 1 {
        bail!(
            Runtime,
            "self.stride(-1) must be 1 {what}, but got {}",
            l.strides[n - 1]
        );
    }
    if a > b {
        let r = a / b;
        for d in 0..n - 1 {
            l.strides[d] *= r as isize;
        }
        l.shape[n - 1] *= r;
        l.strides[n - 1] = 1;
        l.offset *= r;
    } else {
        let r = b / a;
        if l.shape[n - 1] % r != 0 {
            bail!(
                Runtime,
                "self.size(-1) must be divisible by {r} {what}, but got {}",
                l.shape[n - 1]
            );
        }
        if l.offset % r != 0 {
            bail!(
                Runtime,
                "self.storage_offset() must be divisible by {r} {what}, but got {}",
                l.offset
            );
        }
        for d in 0..n - 1 {
            if l.strides[d] % r as isize != 0 {
                bail!(
                    Runtime,
                    "self.stride({d}) must be divisible by {r} {what}, but got {}",
                    l.strides[d]
                );
            }
            l.strides[d] /= r as isize;
        }
        l.shape[n - 1] /= r;
        l.strides[n - 1] = 1;
        l.offset /= r;
    }
    Tensor::from_parts(t.storage().clone(), l, dtype)
}

/// `flatten(start_dim, end_dim)`: merges dims `start..=end`; a view when the layout allows it.
pub fn flatten(t: &Tensor, start_dim: i64, end_dim: i64) -> Result<Tensor> {
    let n = t.ndim();
    let (s, e) = (
        wrap_dim(start_dim, n, "flatten")?,
        wrap_dim(end_dim, n, "flatten")?,
    );
    if s > e {
        bail!(
            Runtime,
            "flatten() has invalid args: start_dim cannot come after end_dim"
        );
    }
    if n == 0 {
        return reshape(t, &[1]);
    }
    if s == e {
        return Ok(t.clone());
    }
    let shape = t.shape();
    let mut new: Vec<i64> = shape[..s].iter().map(|&v| v as i64).collect();
    new.push(shape[s..=e].iter().product::<usize>() as i64);
    new.extend(shape[e + 1..].iter().map(|&v| v as i64));
    reshape(t, &new)
}

/// `unflatten(dim, sizes)`: splits one dim into `sizes` (one entry may be -1).
pub fn unflatten(t: &Tensor, dim: i64, sizes: &[i64]) -> Result<Tensor> {
    let d = wrap_dim(dim, t.ndim(), "unflatten")?;
    if sizes.is_empty() {
        bail!(Runtime, "unflatten: sizes must be non-empty");
    }
    if t.ndim() == 0 {
        bail!(
            Runtime,
            "unflatten: Cannot unflatten a 0-dimensional tensor"
        );
    }
    let size = t.shape()[d];
    let inner = infer_shape(sizes, size, "unflatten").map_err(|_| {
        crate::error::Error::runtime(format!(
            "unflatten: Provided sizes {sizes:?} don't multiply up to the size of dim {dim} \
             ({size}) in the input tensor"
        ))
    })?;
    let mut new: Vec<i64> = t.shape()[..d].iter().map(|&v| v as i64).collect();
    new.extend(inner.iter().map(|&v| v as i64));
    new.extend(t.shape()[d + 1..].iter().map(|&v| v as i64));
    reshape(t, &new)
}

/// `unfold(dimension, size, step)`: sliding windows along `dim`, as a new last dim.
pub fn unfold(t: &Tensor, dim: i64, size: i64, step: i64) -> Result<Tensor> {
    let n = t.ndim();
    let d = wrap_dim(dim, n, "unfold")?;
    let (len, st) = if n == 0 {
        (1usize, 1isize)
    } else {
        (t.shape()[d], t.strides()[d])
    };
    if size < 0 {
        bail!(Runtime, "size is {size} but must be >= 0");
    }
    if size as usize > len {
        bail!(
            Runtime,
            "maximum size for tensor at dimension {d} is {len} but size is {size}"
        );
    }
    if step <= 0 {
        bail!(Runtime, "step is {step} but must be > 0");
    }
    let mut l = t.layout().clone();
    if n == 0 {
        l.shape.push(size as usize);
        l.strides.push(1);
        return t.view_with(l);
    }
    l.shape[d] = (len - size as usize) / step as usize + 1;
    l.strides[d] = st * step as isize;
    l.shape.push(size as usize);
    l.strides.push(st);
    t.view_with(l)
}

/// Resolves a Python-slice bound against `size` (negatives count from the end, then clamp).
fn clamp_index(i: i64, size: usize) -> usize {
    let s = size as i64;
    let i = if i < 0 { i + s } else { i };
    i.clamp(0, s) as usize
}

fn need_dims(t: &Tensor, op: &str, msg: &str) -> Result<()> {
    if t.ndim() == 0 {
        bail!(Runtime, "{op} expects at least a 1-dimensional tensor{msg}");
    }
    Ok(())
}

/// `split_with_sizes(sizes, dim)`: pieces of the given lengths, which must sum to the dim size.
pub fn split_with_sizes(t: &Tensor, sizes: &[i64], dim: i64) -> Result<Vec<Tensor>> {
    need_dims(t, "split_with_sizes", "")?;
    let d = wrap_dim(dim, t.ndim(), "split_with_sizes")?;
    let size = t.shape()[d];
    if sizes.iter().any(|&s| s < 0) {
        bail!(
            Runtime,
            "split_with_sizes expects split_sizes have only non-negative entries, but got \
             split_sizes={sizes:?}"
        );
    }
    let total: i64 = sizes.iter().sum();
    if total != size as i64 {
        bail!(
            Runtime,
            "split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at \
             dimension {d}), but got split_sizes={sizes:?}"
        );
    }
    let mut start = 0usize;
    sizes
        .iter()
        .map(|&s| {
            let piece = slice(t, d, start, start + s as usize, 1);
            start += s as usize;
            piece
        })
        .collect()
}

/// `split(split_size, dim)`: equal pieces of `split_size` (the last may be shorter).
pub fn split(t: &Tensor, split_size: i64, dim: i64) -> Result<Vec<Tensor>> {
    need_dims(t, "split", "")?;
    let d = wrap_dim(dim, t.ndim(), "split")?;
    let size = t.shape()[d];
    if split_size < 0 {
        bail!(
            Runtime,
            "split expects split_size be non-negative, but got split_size={split_size}"
        );
    }
    if split_size == 0 && size != 0 {
        bail!(
            Runtime,
            "split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
        );
    }
    let ss = split_size as usize;
    let pieces = if ss == 0 { 1 } else { size.div_ceil(ss).max(1) };
    (0..pieces)
        .map(|i| slice(t, d, (i * ss).min(size), ((i + 1) * ss).min(size), 1))
        .collect()
}

/// `chunk(chunks, dim)`: at most `chunks` pieces of `ceil(size / chunks)`.
pub fn chunk(t: &Tensor, chunks: i64, dim: i64) -> Result<Vec<Tensor>> {
    need_dims(t, "chunk", "")?;
    if chunks <= 0 {
        bail!(
            Runtime,
            "chunk expects `chunks` to be greater than 0, got: {chunks}"
        );
    }
    let d = wrap_dim(dim, t.ndim(), "chunk")?;
    let size = t.shape()[d];
    if size == 0 {
        // torch returns `chunks` empty pieces here.
        return (0..chunks).map(|_| slice(t, d, 0, 0, 1)).collect();
    }
    split(t, size.div_ceil(chunks as usize) as i64, dim)
}

/// `tensor_split(sections, dim)`: `sections` pieces whose sizes differ by at most one.
pub fn tensor_split_sections(t: &Tensor, sections: i64, dim: i64) -> Result<Vec<Tensor>> {
    if t.ndim() == 0 {
        bail!(
            Runtime,
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        );
    }
    if sections <= 0 {
        bail!(
            Runtime,
            "number of sections must be larger than 0, got {sections}"
        );
    }
    let d = wrap_dim(dim, t.ndim(), "tensor_split")?;
    let size = t.shape()[d];
    let n = sections as usize;
    let (base, extra) = (size / n, size % n);
    let mut start = 0;
    (0..n)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let piece = slice(t, d, start, start + len, 1);
            start += len;
            piece
        })
        .collect()
}

/// `tensor_split(indices, dim)`: pieces between the given indices (Python slice semantics).
pub fn tensor_split_indices(t: &Tensor, indices: &[i64], dim: i64) -> Result<Vec<Tensor>> {
    if t.ndim() == 0 {
        bail!(
            Runtime,
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        );
    }
    let d = wrap_dim(dim, t.ndim(), "tensor_split")?;
    let size = t.shape()[d];
    let mut start = 0usize;
    let mut out = Vec::with_capacity(indices.len() + 1);
    for &i in indices {
        let end = clamp_index(i, size);
        out.push(slice(t, d, start, end.max(start), 1)?);
        start = end;
    }
    out.push(slice(t, d, start, size, 1)?);
    Ok(out)
}

/// `unbind(dim)`: every index along `dim`, as views without that dim.
pub fn unbind(t: &Tensor, dim: i64) -> Result<Vec<Tensor>> {
    if t.ndim() == 0 {
        bail!(
            Index,
            "Dimension specified as 0 but tensor has no dimensions"
        );
    }
    let d = wrap_dim(dim, t.ndim(), "unbind")?;
    (0..t.shape()[d] as i64)
        .map(|i| select(t, d as i64, i))
        .collect()
}

/// `movedim(source, destination)`: moves dims to new positions; the rest keep their order.
pub fn movedim(t: &Tensor, src: &[i64], dst: &[i64]) -> Result<Tensor> {
    let n = t.ndim();
    if src.len() != dst.len() {
        bail!(
            Runtime,
            "movedim: Invalid source or destination dims: source ({src:?} dims) should contain the \
             same number of dims as destination ({dst:?} dims)"
        );
    }
    let s: Vec<usize> = src
        .iter()
        .map(|&d| wrap_dim(d, n, "movedim"))
        .collect::<Result<_>>()?;
    let ds: Vec<usize> = dst
        .iter()
        .map(|&d| wrap_dim(d, n, "movedim"))
        .collect::<Result<_>>()?;
    for (name, v, raw) in [("source", &s, src), ("destination", &ds, dst)] {
        let mut seen = vec![false; n.max(1)];
        for &d in v.iter() {
            if seen[d] {
                bail!(Runtime, "movedim: repeated dim in `{name}` ({raw:?})");
            }
            seen[d] = true;
        }
    }
    if n == 0 {
        return Ok(t.clone());
    }
    let mut perm: Vec<Option<usize>> = vec![None; n];
    for (&a, &b) in s.iter().zip(&ds) {
        perm[b] = Some(a);
    }
    let mut rest = (0..n).filter(|d| !s.contains(d));
    for p in perm.iter_mut() {
        if p.is_none() {
            *p = rest.next();
        }
    }
    let dims: Vec<i64> = perm.iter().map(|p| p.unwrap_or(0) as i64).collect();
    permute(t, &dims)
}

/// `diagonal(offset, dim1, dim2)`: the diagonal of the (dim1, dim2) planes, as a last dim.
pub fn diagonal(t: &Tensor, offset: i64, dim1: i64, dim2: i64) -> Result<Tensor> {
    let n = t.ndim();
    let (a, b) = (
        wrap_dim(dim1, n, "diagonal")?,
        wrap_dim(dim2, n, "diagonal")?,
    );
    if a == b {
        bail!(
            Runtime,
            "diagonal dimensions cannot be identical {dim1}, {dim2}"
        );
    }
    let l = t.layout();
    let (sa, sb) = (l.shape[a] as i64, l.shape[b] as i64);
    let len = if offset >= 0 {
        sa.min(sb - offset)
    } else {
        (sa + offset).min(sb)
    }
    .max(0) as usize;
    let mut off = l.offset as isize;
    if len > 0 {
        off += if offset >= 0 {
            offset as isize * l.strides[b]
        } else {
            -offset as isize * l.strides[a]
        };
    }
    let keep = |i: &usize| *i != a && *i != b;
    let mut shape: Vec<usize> = (0..n).filter(keep).map(|i| l.shape[i]).collect();
    let mut strides: Vec<isize> = (0..n).filter(keep).map(|i| l.strides[i]).collect();
    shape.push(len);
    strides.push(l.strides[a] + l.strides[b]);
    t.view_with(Layout {
        shape,
        strides,
        offset: off as usize,
    })
}

/// The common broadcast shape of several shapes (`torch.broadcast_shapes`).
pub fn broadcast_shapes_all(shapes: &[Vec<usize>], op: &str) -> Result<Vec<usize>> {
    let mut out: Vec<usize> = Vec::new();
    for s in shapes {
        out = crate::layout::broadcast_shapes(&out, s, op)?;
    }
    Ok(out)
}

/// `broadcast_tensors(*tensors)`: views of all inputs expanded to their common shape.
pub fn broadcast_tensors(ts: &[Tensor]) -> Result<Vec<Tensor>> {
    let shapes: Vec<Vec<usize>> = ts.iter().map(|t| t.shape().to_vec()).collect();
    let shape = broadcast_shapes_all(&shapes, "broadcast_tensors")?;
    ts.iter().map(|t| broadcast_to(t, &shape)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: &[usize]) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), shape).unwrap()
    }

    #[test]
    fn views_share_storage_and_read_right_values() {
        let t = ramp(&[2, 3, 4]);
        let p = permute(&t, &[2, 0, 1]).unwrap();
        assert!(p.shares_storage(&t));
        assert_eq!(p.shape(), &[4, 2, 3]);
        assert_eq!(p.to_vec::<i64>()[..3], [0, 4, 8]);
        let s = select(&t, 1, -1).unwrap();
        assert_eq!(s.to_vec::<i64>(), vec![8, 9, 10, 11, 20, 21, 22, 23]);
        let sl = slice(&t, 2, 1, 4, 2).unwrap();
        assert_eq!(sl.to_vec::<i64>()[..4], [1, 3, 5, 7]);
        assert!(view(&p, &[-1]).is_err());
        assert_eq!(reshape(&p, &[-1]).unwrap().to_vec::<i64>()[..3], [0, 4, 8]);
        let u = unsqueeze(&t, -1).unwrap();
        assert_eq!(u.shape(), &[2, 3, 4, 1]);
        assert_eq!(squeeze(&u, None).unwrap().shape(), &[2, 3, 4]);
        assert_eq!(
            expand(&ramp(&[3, 1]), &[2, -1, 5]).unwrap().strides(),
            &[0, 1, 0]
        );
    }

    #[test]
    fn splits_and_diagonals() {
        let t = ramp(&[3, 4]);
        let d = diagonal(&t, 1, 0, 1).unwrap();
        assert_eq!(d.to_vec::<i64>(), vec![1, 6, 11]);
        let d = diagonal(&t, -1, 0, 1).unwrap();
        assert_eq!(d.to_vec::<i64>(), vec![4, 9]);
        let parts = tensor_split_sections(&t, 3, 1).unwrap();
        let sizes: Vec<usize> = parts.iter().map(|p| p.shape()[1]).collect();
        assert_eq!(sizes, vec![2, 1, 1]);
        assert_eq!(chunk(&t, 2, 1).unwrap().len(), 2);
        let m = movedim(&ramp(&[2, 3, 4]), &[0], &[2]).unwrap();
        assert_eq!(m.shape(), &[3, 4, 2]);
        let u = unfold(&ramp(&[7]), 0, 3, 2).unwrap();
        assert_eq!(u.to_vec::<i64>(), vec![0, 1, 2, 2, 3, 4, 4, 5, 6]);
    }
}
