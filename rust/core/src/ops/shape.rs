//! Views (no copy: new layout over the same storage) and shape ops.

use crate::bail;
use crate::error::Result;
use crate::layout::{contiguous_strides, infer_shape, wrap_dim, Layout};
use crate::tensor::Tensor;

/// `view(shape)`: fails when the memory layout cannot express the new shape without a copy.
pub fn view(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    let shape = infer_shape(shape, t.numel(), "view")?;
    match t.layout().view_strides(&shape) {
        Some(strides) => t.view_with(Layout { shape, strides, offset: t.offset() }),
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
        Some(strides) => t.view_with(Layout { shape, strides, offset: t.offset() }),
        None => {
            let c = t.copy_to_new(t.dtype())?;
            c.view_with(Layout { strides: contiguous_strides(&shape), shape, offset: 0 })
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
    t.view_with(Layout { shape, strides, offset: t.offset() })
}

/// `transpose(dim0, dim1)`.
pub fn transpose(t: &Tensor, dim0: i64, dim1: i64) -> Result<Tensor> {
    let n = t.ndim();
    let (a, b) = (wrap_dim(dim0, n, "transpose")?, wrap_dim(dim1, n, "transpose")?);
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
                bail!(Runtime, "expand: -1 is not allowed in a leading, non-existing dimension {i}");
            }
            target.push(t.shape()[i - lead]);
        } else if s < 0 {
            bail!(Runtime, "expand: invalid size {s} in {shape:?}");
        } else {
            target.push(s as usize);
        }
    }
    t.view_with(t.layout().broadcast_to(&target, "expand")?)
}

/// `broadcast_to(shape)` on a resolved shape.
pub fn broadcast_to(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    t.view_with(t.layout().broadcast_to(shape, "broadcast_to")?)
}

/// `unsqueeze(dim)`: dim may be in `-(ndim+1)..=ndim`.
pub fn unsqueeze(t: &Tensor, dim: i64) -> Result<Tensor> {
    let d = wrap_dim(dim, t.ndim() + 1, "unsqueeze")?;
    let mut l = t.layout().clone();
    let stride = if d < l.ndim() { l.strides[d] * l.shape[d] as isize } else { 1 };
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
            for d in 0..n {
                drop[d] = t.shape()[d] == 1;
            }
        }
        Some(ds) => {
            for &d in ds {
                if n == 0 {
                    wrap_dim(d, 0, "squeeze")?;
                    continue;
                }
                let d = wrap_dim(d, n, "squeeze")?;
                drop[d] = t.shape()[d] == 1;
            }
        }
    }
    let l = t.layout();
    let keep = |i: &usize| !drop[*i];
    let shape = (0..n).filter(keep).map(|i| l.shape[i]).collect();
    let strides = (0..n).filter(keep).map(|i| l.strides[i]).collect();
    t.view_with(Layout { shape, strides, offset: l.offset })
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
        bail!(Index, "start out of range (expected to be in range of [{}, {size}], but got {start})", -size);
    }
    if length < 0 || start + length > size {
        bail!(Runtime, "start ({start}) + length ({length}) exceeds dimension size ({size}).");
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
        bail!(Runtime, "mismatch in length of strides and shape: {size:?} vs {stride:?}");
    }
    if size.iter().chain(stride).any(|&v| v < 0) {
        bail!(Runtime, "as_strided: Negative sizes or strides are not supported: {size:?}, {stride:?}");
    }
    let offset = offset.unwrap_or(t.offset() as i64);
    if offset < 0 {
        bail!(Runtime, "Tensor: invalid storage offset {offset}");
    }
    let layout = Layout {
        shape: size.iter().map(|&s| s as usize).collect(),
        strides: stride.iter().map(|&s| s as isize).collect(),
        offset: offset as usize,
    };
    t.view_with(layout)
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
        assert_eq!(expand(&ramp(&[3, 1]), &[2, -1, 5]).unwrap().strides(), &[0, 1, 0]);
    }
}
