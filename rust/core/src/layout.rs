//! Shape, strides and offset of a tensor view, and the index math on them (all in elements).

use crate::error::{Error, Result};

/// A view of a storage: element `i` (multi-index) lives at `offset + sum(i[d] * strides[d])`.
/// Strides are never negative; they may be zero (broadcast).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
    pub offset: usize,
}

/// Row-major strides of a contiguous tensor of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for d in (0..shape.len()).rev() {
        strides[d] = acc;
        acc = acc.saturating_mul(shape[d].max(1) as isize);
    }
    strides
}

/// Number of elements, or an error naming `op` if it does not fit in memory indices.
pub fn checked_numel(shape: &[usize], op: &str) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| Error::runtime(format!("{op}: shape {shape:?} has too many elements")))
}

/// Wraps a possibly negative `dim` into `0..ndim` (0-d tensors accept -1 and 0), as torch does.
pub fn wrap_dim(dim: i64, ndim: usize, op: &str) -> Result<usize> {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        return Err(Error::index(format!(
            "{op}: Dimension out of range (expected to be in range of [{}, {}], but got {dim})",
            -n,
            n - 1
        )));
    }
    Ok(if dim < 0 {
        (dim + n) as usize
    } else {
        dim as usize
    })
}

/// The broadcast shape of `a` and `b`, following NumPy/torch rules.
pub fn broadcast_shapes(a: &[usize], b: &[usize], op: &str) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i < n - a.len() {
            1
        } else {
            a[i - (n - a.len())]
        };
        let db = if i < n - b.len() {
            1
        } else {
            b[i - (n - b.len())]
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::runtime(format!(
                "{op}: The size of tensor a ({da}) must match the size of tensor b ({db}) at \
                 non-singleton dimension {i}; shapes {a:?} and {b:?}"
            )));
        };
    }
    Ok(out)
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// True if elements are laid out row-major without gaps (size-1 dims may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1isize;
        for d in (0..self.ndim()).rev() {
            if self.shape[d] == 0 {
                return true;
            }
            if self.shape[d] != 1 {
                if self.strides[d] != expected {
                    return false;
                }
                expected *= self.shape[d] as isize;
            }
        }
        true
    }

    /// The smallest and one-past-largest storage element this view touches (empty views: offset).
    pub fn storage_span(&self) -> (usize, usize) {
        if self.numel() == 0 {
            return (self.offset, self.offset);
        }
        let last: isize = self
            .shape
            .iter()
            .zip(&self.strides)
            .map(|(&s, &st)| (s as isize - 1) * st)
            .sum();
        (self.offset, self.offset + last as usize + 1)
    }

    /// This layout broadcast to `shape` (stride 0 on new and expanded dims).
    pub fn broadcast_to(&self, shape: &[usize], op: &str) -> Result<Layout> {
        if shape.len() < self.ndim() {
            return Err(Error::runtime(format!(
                "{op}: the number of sizes provided ({}) must be greater or equal to the number \
                 of dimensions in the tensor ({})",
                shape.len(),
                self.ndim()
            )));
        }
        let lead = shape.len() - self.ndim();
        let mut strides = vec![0isize; shape.len()];
        for (i, &target) in shape.iter().enumerate() {
            if i < lead {
                continue;
            }
            let (s, st) = (self.shape[i - lead], self.strides[i - lead]);
            strides[i] = if s == target {
                st
            } else if s == 1 {
                0
            } else {
                return Err(Error::runtime(format!(
                    "{op}: The expanded size of the tensor ({target}) must match the existing \
                     size ({s}) at non-singleton dimension {i}.  Target sizes: {shape:?}.  \
                     Tensor sizes: {:?}",
                    self.shape
                )));
            };
        }
        Ok(Layout {
            shape: shape.to_vec(),
            strides,
            offset: self.offset,
        })
    }

    /// Strides for viewing this layout as `new_shape` without copying, if possible
    /// (torch's `computeStride`): dims may be split or merged only where memory is contiguous.
    pub fn view_strides(&self, new_shape: &[usize]) -> Option<Vec<isize>> {
        let numel = self.numel();
        if numel == 0 {
            return Some(contiguous_strides(new_shape));
        }
        let mut new_strides = vec![0isize; new_shape.len()];
        let mut view_d = new_shape.len() as isize - 1;
        let mut chunk_base_stride = *self.strides.last().unwrap_or(&1);
        let mut tensor_numel = 1usize;
        let mut view_numel = 1usize;
        for tensor_d in (0..self.ndim()).rev() {
            tensor_numel *= self.shape[tensor_d];
            let chunk_ends = tensor_d == 0
                || (self.shape[tensor_d - 1] != 1
                    && self.strides[tensor_d - 1] != tensor_numel as isize * chunk_base_stride);
            if chunk_ends {
                while view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d as usize] == 1)
                {
                    new_strides[view_d as usize] = view_numel as isize * chunk_base_stride;
                    view_numel *= new_shape[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if tensor_d > 0 {
                    chunk_base_stride = self.strides[tensor_d - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(new_strides)
    }
}

/// Resolves a shape argument that may contain one `-1`, checking it matches `numel`.
pub fn infer_shape(shape: &[i64], numel: usize, op: &str) -> Result<Vec<usize>> {
    let mut infer_at = None;
    let mut known = 1usize;
    for (i, &s) in shape.iter().enumerate() {
        if s == -1 {
            if infer_at.is_some() {
                return Err(Error::runtime(format!(
                    "{op}: only one dimension can be inferred"
                )));
            }
            infer_at = Some(i);
        } else if s < 0 {
            return Err(Error::runtime(format!(
                "{op}: invalid shape dimension {s} in {shape:?}"
            )));
        } else {
            known = known
                .checked_mul(s as usize)
                .ok_or_else(|| Error::runtime(format!("{op}: shape {shape:?} is too large")))?;
        }
    }
    let mut out: Vec<usize> = shape.iter().map(|&s| s.max(0) as usize).collect();
    match infer_at {
        Some(i) => {
            if known == 0 || numel % known != 0 {
                return Err(Error::runtime(format!(
                    "{op}: shape '{shape:?}' is invalid for input of size {numel}"
                )));
            }
            out[i] = numel / known;
        }
        None => {
            if known != numel {
                return Err(Error::runtime(format!(
                    "{op}: shape '{shape:?}' is invalid for input of size {numel}"
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_and_contiguity() {
        let l = Layout::contiguous(&[2, 3, 4]);
        assert_eq!(l.strides, vec![12, 4, 1]);
        assert!(l.is_contiguous());
        let t = Layout {
            shape: vec![4, 3],
            strides: vec![1, 4],
            offset: 0,
        };
        assert!(!t.is_contiguous());
        assert_eq!(t.storage_span(), (0, 12));
    }

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4], "add").unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes(&[], &[2, 2], "add").unwrap(), vec![2, 2]);
        assert!(broadcast_shapes(&[3], &[4], "add").is_err());
        let l = Layout::contiguous(&[3, 1])
            .broadcast_to(&[2, 3, 5], "expand")
            .unwrap();
        assert_eq!(l.strides, vec![0, 1, 0]);
    }

    #[test]
    fn view_of_transposed_fails_and_split_works() {
        let l = Layout::contiguous(&[2, 6]);
        assert_eq!(l.view_strides(&[2, 2, 3]), Some(vec![6, 3, 1]));
        let t = Layout {
            shape: vec![6, 2],
            strides: vec![1, 6],
            offset: 0,
        };
        assert_eq!(t.view_strides(&[12]), None);
        assert_eq!(t.view_strides(&[3, 2, 2]), Some(vec![2, 1, 6]));
    }

    #[test]
    fn shape_inference() {
        assert_eq!(infer_shape(&[-1, 4], 12, "view").unwrap(), vec![3, 4]);
        assert!(infer_shape(&[-1, 5], 12, "view").is_err());
        assert!(infer_shape(&[-1, -1], 12, "view").is_err());
        assert_eq!(wrap_dim(-1, 3, "sum").unwrap(), 2);
        assert!(wrap_dim(3, 3, "sum").is_err());
    }
}
