//! im2col and col2im on the CPU, and the window geometry the pooling kernels share.
//!
//! Every kernel works on contiguous planes (one `(n, c)` pair of an `(N, C, *spatial)` tensor)
//! and runs planes in parallel above [`PARALLEL_THRESHOLD`] elements of work: a plane is
//! small enough to stay in cache, and no two planes write the same output, so nothing is
//! shared between threads. Windows of 1 or 2 spatial dims are handled as 3-D ones with
//! leading dims of size 1, so one loop nest serves every dimensionality.
//!
//! Loops run over a row of windows (the last dim) at a time, with the bounds of every window
//! worked out once per call ([`Tables`]): the innermost loops are then slice walks with no
//! index arithmetic or bounds tests per element.

use super::iter::{SendPtr, PARALLEL_THRESHOLD};
use crate::element::Element;
use half::{bf16, f16};

/// Sliding windows over the last three dims of `planes` contiguous planes of `size`: window
/// `o` along dim `d` covers input coordinates `o * stride - pad + k * dil` for `k < kernel`
/// (coordinates outside `[0, size)` are padding). `out` is the window grid, chosen by the op
/// (pooling's ceil mode may add a last, partial window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    pub planes: usize,
    pub size: [usize; 3],
    pub out: [usize; 3],
    pub kernel: [usize; 3],
    pub stride: [usize; 3],
    pub pad: [usize; 3],
    pub dil: [usize; 3],
}

impl Windows {
    /// Elements of one input plane.
    pub fn plane_len(&self) -> usize {
        self.size.iter().product()
    }

    /// Windows per plane (`L` of the columns).
    pub fn blocks(&self) -> usize {
        self.out.iter().product()
    }

    /// Elements of one window (`prod(kernel)`).
    pub fn kernel_len(&self) -> usize {
        self.kernel.iter().product()
    }

    /// The windows `[lo, hi)` along the last dim whose offset `k` lands inside the input, so
    /// the innermost loops run without bounds tests (and copy a slice when the stride is 1).
    fn inner_range(&self, k: usize) -> (usize, usize) {
        let (s, p, n) = (self.stride[2], self.pad[2], self.size[2]);
        let shift = k * self.dil[2];
        let lo = p.saturating_sub(shift).div_ceil(s);
        let hi = if n + p <= shift {
            0
        } else {
            (n + p - shift).div_ceil(s).min(self.out[2])
        };
        (lo.min(hi), hi)
    }

    /// Input offset (in the last dim) of window `lo`'s offset `k`, for a non-empty
    /// [`inner_range`](Self::inner_range).
    #[inline(always)]
    fn inner_start(&self, lo: usize, k: usize) -> usize {
        lo * self.stride[2] + k * self.dil[2] - self.pad[2]
    }

    /// For window `o` along `d`: the kernel offsets `[lo, hi)` that land inside the input,
    /// and the input coordinate of offset `lo` (meaningless when `lo == hi`).
    fn offsets(&self, d: usize, o: usize) -> Span {
        let start = (o * self.stride[d]) as isize - self.pad[d] as isize;
        let dil = self.dil[d];
        let lo = if start >= 0 {
            0
        } else {
            start.unsigned_abs().div_ceil(dil)
        };
        let room = self.size[d] as isize - start;
        let hi = if room <= 0 {
            0
        } else {
            room.unsigned_abs().div_ceil(dil).min(self.kernel[d])
        };
        let lo = lo.min(hi);
        Span {
            lo,
            hi,
            first: (start + (lo * dil) as isize).max(0) as usize,
        }
    }

    /// The bounds of every window, for the loops over planes.
    pub fn tables(&self) -> Tables {
        let outer = |d: usize| (0..self.out[d]).map(|o| self.offsets(d, o)).collect();
        let inner = (0..self.kernel[2])
            .map(|k| {
                let (lo, hi) = self.inner_range(k);
                let first = if lo < hi { self.inner_start(lo, k) } else { 0 };
                Span { lo, hi, first }
            })
            .collect();
        Tables {
            outer: [outer(0), outer(1)],
            inner,
        }
    }

    /// The input elements `[lo, hi)` window `o` covers along `d` in average pooling
    /// (dilation 1), and its extent counting the padding (torch's `pool_size`).
    #[inline(always)]
    pub fn avg_extent(&self, d: usize, o: usize) -> (usize, usize, usize) {
        let start = (o * self.stride[d]) as isize - self.pad[d] as isize;
        let end = (start + self.kernel[d] as isize).min((self.size[d] + self.pad[d]) as isize);
        let pool = (end - start) as usize;
        let lo = start.max(0) as usize;
        let hi = (end.max(0) as usize).min(self.size[d]);
        (lo, hi.max(lo), pool)
    }
}

/// A range `[lo, hi)` and the input coordinate its first entry maps to.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub lo: usize,
    pub hi: usize,
    pub first: usize,
}

impl Span {
    /// How many entries the range holds.
    #[inline(always)]
    pub fn count(&self) -> usize {
        self.hi - self.lo
    }

    /// The input coordinates of the range, `step` apart.
    #[inline(always)]
    pub fn coords(&self, step: usize) -> impl Iterator<Item = usize> {
        (self.first..).step_by(step).take(self.count())
    }
}

/// The bounds of every window of a [`Windows`], worked out once per call.
pub struct Tables {
    /// Per window along dims 0 and 1: the kernel offsets that land inside the input and the
    /// input coordinate of the first of them.
    pub outer: [Vec<Span>; 2],
    /// Per kernel offset along dim 2: the windows in which it lands inside the input and the
    /// input coordinate of the first of them (later ones are `stride` apart).
    pub inner: Vec<Span>,
}

/// Element types of the summing and comparing kernels: each sums in a wider accumulator
/// (f32 for the 16-bit floats, as torch's CPU kernels; int64 with wrap-around for integers).
pub trait Accum: Element {
    type A: Copy + Send + Sync;
    fn zero_acc() -> Self::A;
    fn widen(self) -> Self::A;
    fn narrow(a: Self::A) -> Self;
    fn add(a: Self::A, b: Self::A) -> Self::A;
    /// `a / n` as torch's pooling kernels divide: true division for floats, truncating for
    /// integers.
    fn div(a: Self::A, n: i64) -> Self::A;
    /// The smallest value (`-inf` for floats): what a window holding only padding yields.
    fn lowest() -> Self;
    fn is_nan(self) -> bool;
}

macro_rules! float_accum {
    ($t:ty, $a:ty, $lowest:expr) => {
        impl Accum for $t {
            type A = $a;
            #[inline(always)]
            fn zero_acc() -> $a {
                0.0
            }
            #[inline(always)]
            fn widen(self) -> $a {
                crate::element::Float::to_acc(self)
            }
            #[inline(always)]
            fn narrow(a: $a) -> Self {
                crate::element::Float::from_acc(a)
            }
            #[inline(always)]
            fn add(a: $a, b: $a) -> $a {
                a + b
            }
            #[inline(always)]
            fn div(a: $a, n: i64) -> $a {
                a / n as $a
            }
            fn lowest() -> Self {
                $lowest
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                self.is_nan()
            }
        }
    };
}
float_accum!(f32, f32, f32::NEG_INFINITY);
float_accum!(f64, f64, f64::NEG_INFINITY);
float_accum!(f16, f32, f16::NEG_INFINITY);
float_accum!(bf16, f32, bf16::NEG_INFINITY);

macro_rules! int_accum {
    ($t:ty) => {
        impl Accum for $t {
            type A = i64;
            #[inline(always)]
            fn zero_acc() -> i64 {
                0
            }
            #[inline(always)]
            fn widen(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn narrow(a: i64) -> Self {
                a as $t
            }
            #[inline(always)]
            fn add(a: i64, b: i64) -> i64 {
                a.wrapping_add(b)
            }
            #[inline(always)]
            fn div(a: i64, n: i64) -> i64 {
                a.wrapping_div(n)
            }
            fn lowest() -> Self {
                <$t>::MIN
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                false
            }
        }
    };
}
int_accum!(u8);
int_accum!(i8);
int_accum!(i16);
int_accum!(i32);
int_accum!(i64);

/// Runs `f(plane)` for every plane, on all threads when `planes * work` (elements touched per
/// plane) reaches [`PARALLEL_THRESHOLD`]. `f` must only write its own plane's outputs.
pub fn for_each_plane(planes: usize, work: usize, f: impl Fn(usize) + Sync + Send) {
    if planes.saturating_mul(work) < PARALLEL_THRESHOLD || super::threads() <= 1 {
        (0..planes).for_each(f);
    } else {
        super::parallel_items(planes, work, f);
    }
}

/// `cols[p, k, l] = x[p, position of offset k in window l]`, zero where that is padding:
/// torch's `unfold` layout, `(planes, prod(kernel), prod(out))` contiguous.
///
/// # Safety
/// `x` holds `planes * plane_len` elements and `cols` `planes * kernel_len * blocks`, both
/// contiguous and not overlapping.
pub unsafe fn im2col<T: Copy + Default + Send + Sync>(x: *const T, cols: *mut T, g: &Windows) {
    let (n_in, n_out) = (g.plane_len(), g.kernel_len() * g.blocks());
    let (xp, cp) = (SendPtr(x as *mut T), SendPtr(cols));
    let t = g.tables();
    for_each_plane(g.planes, n_out, |p| {
        // SAFETY: plane p of each buffer, inside them by the caller's contract.
        let (src, dst) = unsafe {
            (
                std::slice::from_raw_parts(xp.get().add(p * n_in) as *const T, n_in),
                std::slice::from_raw_parts_mut(cp.get().add(p * n_out), n_out),
            )
        };
        im2col_plane(src, dst, g, &t);
    });
}

/// [`im2col`] of `g.planes` planes on the calling thread, from slices: for callers that
/// already run in parallel (the convolution kernels, a few samples per task). `t` is
/// `g.tables()`, worked out once by the caller.
pub fn im2col_seq<T: Copy + Default>(x: &[T], cols: &mut [T], g: &Windows, t: &Tables) {
    let (n_in, n_out) = (g.plane_len(), g.kernel_len() * g.blocks());
    for (src, dst) in x.chunks_exact(n_in).zip(cols.chunks_exact_mut(n_out)) {
        im2col_plane(src, dst, g, t);
    }
}

fn im2col_plane<T: Copy + Default>(src: &[T], dst: &mut [T], g: &Windows, t: &Tables) {
    let [_, h, w] = g.size;
    let (o2, s2) = (g.out[2], g.stride[2]);
    let zero = T::default();
    // One row of `dst` per kernel offset, one `o2`-long segment of it per (a, b) window row.
    let mut rows = dst.chunks_exact_mut(g.blocks());
    for k0 in 0..g.kernel[0] {
        for k1 in 0..g.kernel[1] {
            for span2 in &t.inner {
                let Some(row) = rows.next() else { return };
                let mut segs = row.chunks_exact_mut(o2);
                for span0 in &t.outer[0] {
                    let i0 = (span0.lo..span0.hi)
                        .contains(&k0)
                        .then(|| span0.first + (k0 - span0.lo) * g.dil[0]);
                    for span1 in &t.outer[1] {
                        let Some(seg) = segs.next() else { return };
                        let i1 = (span1.lo..span1.hi)
                            .contains(&k1)
                            .then(|| span1.first + (k1 - span1.lo) * g.dil[1]);
                        let (Some(i0), Some(i1)) = (i0, i1) else {
                            seg.fill(zero);
                            continue;
                        };
                        seg[..span2.lo].fill(zero);
                        seg[span2.hi..].fill(zero);
                        let line = &src[(i0 * h + i1) * w..(i0 * h + i1 + 1) * w];
                        let part = &mut seg[span2.lo..span2.hi];
                        if s2 == 1 {
                            part.copy_from_slice(&line[span2.first..span2.first + part.len()]);
                        } else {
                            for (v, &x) in
                                part.iter_mut().zip(line[span2.first..].iter().step_by(s2))
                            {
                                *v = x;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: `out[p, i] = sum of cols[p, k, l]` over the (offset, window)
/// pairs that land on `i` (torch's `fold`), summed in `T::A`.
///
/// # Safety
/// `cols` holds `planes * kernel_len * blocks` elements and `out` `planes * plane_len`, both
/// contiguous and not overlapping.
pub unsafe fn col2im<T: Accum>(cols: *const T, out: *mut T, g: &Windows) {
    let (n_in, n_out) = (g.kernel_len() * g.blocks(), g.plane_len());
    let (cp, op) = (SendPtr(cols as *mut T), SendPtr(out));
    let t = g.tables();
    for_each_plane(g.planes, n_in, |p| {
        // SAFETY: plane p of each buffer, inside them by the caller's contract.
        let (src, dst) = unsafe {
            (
                std::slice::from_raw_parts(cp.get().add(p * n_in) as *const T, n_in),
                std::slice::from_raw_parts_mut(op.get().add(p * n_out), n_out),
            )
        };
        let mut acc = vec![T::zero_acc(); n_out];
        col2im_plane(src, &mut acc, g, &t);
        for (o, &a) in dst.iter_mut().zip(&acc) {
            *o = T::narrow(a);
        }
    });
}

/// [`col2im`] of `g.planes` planes on the calling thread, from slices (see [`im2col_seq`]);
/// `acc` is scratch, reused across planes and calls.
pub fn col2im_seq<T: Accum>(
    cols: &[T],
    out: &mut [T],
    acc: &mut Vec<T::A>,
    g: &Windows,
    t: &Tables,
) {
    let (n_in, n_out) = (g.kernel_len() * g.blocks(), g.plane_len());
    for (src, dst) in cols.chunks_exact(n_in).zip(out.chunks_exact_mut(n_out)) {
        acc.clear();
        acc.resize(n_out, T::zero_acc());
        col2im_plane(src, acc, g, t);
        for (o, &a) in dst.iter_mut().zip(acc.iter()) {
            *o = T::narrow(a);
        }
    }
}

fn col2im_plane<T: Accum>(src: &[T], acc: &mut [T::A], g: &Windows, t: &Tables) {
    let [_, h, w] = g.size;
    let (o2, s2) = (g.out[2], g.stride[2]);
    let mut rows = src.chunks_exact(g.blocks());
    for k0 in 0..g.kernel[0] {
        for k1 in 0..g.kernel[1] {
            for span2 in &t.inner {
                let Some(row) = rows.next() else { return };
                let mut segs = row.chunks_exact(o2);
                for span0 in &t.outer[0] {
                    let i0 = (span0.lo..span0.hi)
                        .contains(&k0)
                        .then(|| span0.first + (k0 - span0.lo) * g.dil[0]);
                    for span1 in &t.outer[1] {
                        let Some(seg) = segs.next() else { return };
                        let i1 = (span1.lo..span1.hi)
                            .contains(&k1)
                            .then(|| span1.first + (k1 - span1.lo) * g.dil[1]);
                        let (Some(i0), Some(i1)) = (i0, i1) else {
                            continue;
                        };
                        let line = &mut acc[(i0 * h + i1) * w..(i0 * h + i1 + 1) * w];
                        let part = &seg[span2.lo..span2.hi];
                        let line = &mut line[span2.first..];
                        if s2 == 1 {
                            for (a, &v) in line.iter_mut().zip(part) {
                                *a = T::add(*a, v.widen());
                            }
                        } else {
                            for (a, &v) in line.iter_mut().step_by(s2).zip(part) {
                                *a = T::add(*a, v.widen());
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether offset `k` of window `o` along the last dim lands inside the input.
    fn inside(g: &Windows, o: usize, k: usize) -> bool {
        let i = (o * g.stride[2] + k * g.dil[2]) as isize - g.pad[2] as isize;
        i >= 0 && (i as usize) < g.size[2]
    }

    fn windows(size: usize, k: usize, s: usize, p: usize, d: usize) -> Windows {
        let out = (size + 2 * p - d * (k - 1) - 1) / s + 1;
        Windows {
            planes: 1,
            size: [1, 1, size],
            out: [1, 1, out],
            kernel: [1, 1, k],
            stride: [1, 1, s],
            pad: [0, 0, p],
            dil: [1, 1, d],
        }
    }

    #[test]
    fn inner_range_matches_bounds_tests() {
        for (size, k, s, p, d) in [
            (7, 3, 2, 1, 1),
            (5, 2, 3, 1, 2),
            (4, 3, 1, 1, 2),
            (9, 1, 4, 0, 1),
        ] {
            let g = windows(size, k, s, p, d);
            for kk in 0..k {
                let (lo, hi) = g.inner_range(kk);
                for o in 0..g.out[2] {
                    assert_eq!(inside(&g, o, kk), (lo..hi).contains(&o));
                }
            }
        }
    }

    #[test]
    fn tables_match_bounds_tests() {
        let g = Windows {
            planes: 1,
            size: [5, 4, 6],
            out: [3, 4, 3],
            kernel: [3, 2, 3],
            stride: [2, 1, 2],
            pad: [1, 1, 2],
            dil: [2, 3, 1],
        };
        let t = g.tables();
        for d in 0..2 {
            for (o, span) in t.outer[d].iter().enumerate() {
                let coords: Vec<usize> = span.coords(g.dil[d]).collect();
                let want: Vec<usize> = (0..g.kernel[d])
                    .map(|k| (o * g.stride[d] + k * g.dil[d]) as isize - g.pad[d] as isize)
                    .filter(|&i| i >= 0 && (i as usize) < g.size[d])
                    .map(|i| i as usize)
                    .collect();
                assert_eq!(coords, want, "dim {d} window {o}");
            }
        }
        for (k, span) in t.inner.iter().enumerate() {
            for o in span.lo..span.hi {
                let i = o * g.stride[2] + k * g.dil[2] - g.pad[2];
                assert_eq!(i, span.first + (o - span.lo) * g.stride[2]);
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let g = Windows {
            planes: 2,
            size: [1, 4, 5],
            out: [1, 3, 2],
            kernel: [1, 2, 3],
            stride: [1, 1, 2],
            pad: [0, 0, 1],
            dil: [1, 1, 1],
        };
        let x: Vec<f64> = (0..2 * 20).map(|i| (i as f64 * 0.37).sin()).collect();
        let y: Vec<f64> = (0..2 * 6 * 6).map(|i| (i as f64 * 0.71).cos()).collect();
        let mut cols = vec![0.0; y.len()];
        let mut back = vec![0.0; x.len()];
        // SAFETY: buffers of exactly the sizes the geometry describes.
        unsafe {
            im2col(x.as_ptr(), cols.as_mut_ptr(), &g);
            col2im(y.as_ptr(), back.as_mut_ptr(), &g);
        }
        let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }
}
