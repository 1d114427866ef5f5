//! The loop engine of every elementwise CPU kernel: walks N operands that share one shape but
//! have their own strides, handing out runs along the innermost dimension. Kernels specialise
//! the run (all strides 1 -> slices the compiler vectorises) and the engine handles the
//! rest: dimension collapsing, broadcasting (stride 0) and splitting work across threads.

/// Below this many elements a loop runs on the calling thread: spawning costs more.
pub const PARALLEL_THRESHOLD: usize = 1 << 15;
/// Smallest piece of work handed to one thread.
const MIN_CHUNK: usize = 1 << 13;

/// Shape and per-operand strides with size-1 dimensions dropped and mergeable neighbours fused.
#[derive(Clone, Debug)]
pub struct Geometry<const N: usize> {
    pub shape: Vec<usize>,
    pub strides: [Vec<isize>; N],
}

impl<const N: usize> Geometry<N> {
    pub fn new(shape: &[usize], strides: [&[isize]; N]) -> Self {
        let mut out_shape: Vec<usize> = Vec::with_capacity(shape.len());
        let mut out_strides: [Vec<isize>; N] =
            std::array::from_fn(|_| Vec::with_capacity(shape.len()));
        for d in 0..shape.len() {
            if shape[d] == 1 {
                continue;
            }
            if let Some(&last) = out_shape.last() {
                // Fuse dim d into the previous kept dim when every operand steps through both
                // as one: stride[prev] == stride[d] * shape[d].
                let fusable = (0..N).all(|k| {
                    *out_strides[k].last().unwrap_or(&0) == strides[k][d] * shape[d] as isize
                });
                if fusable {
                    let n = out_shape.len() - 1;
                    out_shape[n] = last * shape[d];
                    for k in 0..N {
                        out_strides[k][n] = strides[k][d];
                    }
                    continue;
                }
            }
            out_shape.push(shape[d]);
            for k in 0..N {
                out_strides[k].push(strides[k][d]);
            }
        }
        Geometry {
            shape: out_shape,
            strides: out_strides,
        }
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Element offsets (per operand) of linear index `pos` in row-major order.
    fn offsets_of(&self, mut pos: usize) -> [isize; N] {
        let mut off = [0isize; N];
        for d in (0..self.shape.len()).rev() {
            let i = pos % self.shape[d];
            pos /= self.shape[d];
            for (o, strides) in off.iter_mut().zip(&self.strides) {
                *o += i as isize * strides[d];
            }
        }
        off
    }

    /// Calls `f(offsets, inner_strides, len)` for each innermost run within `start..end`.
    fn run_range(&self, start: usize, end: usize, f: &impl Fn([isize; N], [isize; N], usize)) {
        let nd = self.shape.len();
        if nd == 0 {
            if start < end {
                f([0; N], [0; N], 1);
            }
            return;
        }
        let inner = self.shape[nd - 1];
        let inner_strides: [isize; N] = std::array::from_fn(|k| self.strides[k][nd - 1]);
        let mut pos = start;
        while pos < end {
            let col = pos % inner;
            let len = (inner - col).min(end - pos);
            f(self.offsets_of(pos), inner_strides, len);
            pos += len;
        }
    }
}

/// Runs `f(offsets, inner_strides, len)` over every element of the geometry, in parallel above
/// [`PARALLEL_THRESHOLD`] elements. Runs never overlap, so `f` may write through operand 0.
pub fn for_each_run<const N: usize>(
    shape: &[usize],
    strides: [&[isize]; N],
    f: impl Fn([isize; N], [isize; N], usize) + Sync,
) {
    let geo = Geometry::new(shape, strides);
    let numel = geo.numel();
    if numel == 0 {
        return;
    }
    if numel < PARALLEL_THRESHOLD {
        geo.run_range(0, numel, &f);
        return;
    }
    let threads = super::threads();
    if threads <= 1 {
        geo.run_range(0, numel, &f);
        return;
    }
    let chunk = (numel / (threads * 4)).max(MIN_CHUNK);
    super::parallel_for(numel.div_ceil(chunk), |c| {
        let start = c * chunk;
        geo.run_range(start, (start + chunk).min(numel), &f);
    });
}

/// A raw pointer that may cross threads; kernels guarantee disjoint writes.
pub struct SendPtr<T>(pub *mut T);
// By hand: derived impls would ask `T: Copy` of the pointee.
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    #[inline(always)]
    pub fn get(self) -> *mut T {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn collapses_contiguous_dims() {
        let g = Geometry::new(&[2, 3, 4], [&[12, 4, 1], &[12, 4, 1]]);
        assert_eq!(g.shape, vec![24]);
        let g = Geometry::new(&[2, 3, 4], [&[12, 4, 1], &[0, 4, 1]]);
        assert_eq!(g.shape, vec![2, 12]);
        let g = Geometry::new(&[1, 1], [&[5, 1]]);
        assert!(g.shape.is_empty());
    }

    #[test]
    fn visits_every_offset_once() {
        // A transposed 3x5 operand against a contiguous output, large enough to go parallel.
        let (r, c) = (300, 257);
        let seen = Mutex::new(vec![0u32; r * c]);
        for_each_run(
            &[r, c],
            [&[c as isize, 1], &[1, r as isize]],
            |off, st, len| {
                let mut s = seen.lock().unwrap();
                for i in 0..len as isize {
                    let o = (off[0] + i * st[0]) as usize;
                    let t = (off[1] + i * st[1]) as usize;
                    assert_eq!((o / c, o % c), (t % r, t / r));
                    s[o] += 1;
                }
            },
        );
        assert!(seen.into_inner().unwrap().iter().all(|&n| n == 1));
    }
}
