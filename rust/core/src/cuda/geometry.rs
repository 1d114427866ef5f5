//! Views as kernels see them: sizes and strides with every mergeable dimension merged.

use crate::error::{Error, Result};
use cudarc::driver::DeviceRepr;

/// Must match `Strided` in `kernels/common.cuh`.
pub const MAX_DIMS: usize = 16;

/// A view's sizes and strides (in elements) as a kernel argument.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Strided {
    pub sizes: [i64; MAX_DIMS],
    pub strides: [i64; MAX_DIMS],
    pub ndim: i32,
}

// SAFETY: plain old data with the C layout the kernels declare.
unsafe impl DeviceRepr for Strided {}

/// Geometries of `N` views of one shape, with size-1 dimensions dropped and neighbouring
/// dimensions merged wherever every view steps through them as one (a contiguous view becomes
/// one dimension). Kernels then spend one division per remaining dimension per element.
///
/// Fails if more than [`MAX_DIMS`] dimensions remain (torch allows 25).
pub fn coalesce<const N: usize>(shape: &[usize], strides: [&[isize]; N]) -> Result<[Strided; N]> {
    if let Some(bad) = strides.iter().find(|s| s.len() != shape.len()) {
        return Err(Error::runtime(format!(
            "internal error: strides {bad:?} do not match shape {shape:?}"
        )));
    }
    // (size, stride per view), outermost first, size-1 dimensions dropped.
    let mut dims: Vec<(i64, [i64; N])> = Vec::with_capacity(shape.len());
    for (d, &size) in shape.iter().enumerate() {
        if size == 1 {
            continue;
        }
        let st: [i64; N] = std::array::from_fn(|k| strides[k][d] as i64);
        if let Some((psize, pst)) = dims.last_mut() {
            // The previous (outer) dimension steps over exactly this one in every view.
            if (0..N).all(|k| pst[k] == st[k] * size as i64) {
                *psize *= size as i64;
                *pst = st;
                continue;
            }
        }
        dims.push((size as i64, st));
    }
    if dims.len() > MAX_DIMS {
        return Err(Error::runtime(format!(
            "CUDA kernels take views of at most {MAX_DIMS} dimensions that cannot be merged; \
             shape {shape:?} with strides {:?} has {}",
            strides[0],
            dims.len()
        )));
    }
    Ok(std::array::from_fn(|k| {
        let mut s = Strided {
            sizes: [1; MAX_DIMS],
            strides: [0; MAX_DIMS],
            ndim: dims.len() as i32,
        };
        for (d, (size, st)) in dims.iter().enumerate() {
            s.sizes[d] = *size;
            s.strides[d] = st[k];
        }
        s
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_views_merge_into_one_dimension() {
        let [g] = coalesce(&[2, 3, 4], [&[12, 4, 1]]).unwrap();
        assert_eq!((g.ndim, g.sizes[0], g.strides[0]), (1, 24, 1));
    }

    #[test]
    fn transposed_and_broadcast_views_keep_their_dimensions() {
        let [a, b] = coalesce(&[2, 1, 3], [&[3, 3, 1], &[1, 0, 2]]).unwrap();
        assert_eq!(a.ndim, 2);
        assert_eq!((&a.sizes[..2], &a.strides[..2]), (&[2, 3][..], &[3, 1][..]));
        assert_eq!(&b.strides[..2], &[1, 2]);
    }

    #[test]
    fn zero_dim_views_have_no_dimensions() {
        let [g] = coalesce(&[], [&[]]).unwrap();
        assert_eq!(g.ndim, 0);
    }
}
