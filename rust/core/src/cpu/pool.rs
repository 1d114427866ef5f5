//! Max and average pooling on the CPU, forward and backward, over contiguous planes (see
//! [`Windows`]); planes run in parallel as in `im2col`.
//!
//! Backward kernels scatter each output gradient into its plane (an accumulator per plane,
//! in `T::A`), which on one thread per plane is race-free and reads the gradient once.
//! Like `im2col`, loops handle a row of windows (the last dim) at a time with the window
//! bounds of [`Tables`], visiting each window's elements in torch's order (row-major).

use super::im2col::{for_each_plane, Accum, Tables, Windows};
use super::iter::SendPtr;

/// Plane `p` of a contiguous buffer of planes of `len` elements.
///
/// # Safety
/// The buffer holds at least `(p + 1) * len` elements.
unsafe fn plane<'a, T>(ptr: SendPtr<T>, p: usize, len: usize) -> &'a [T] {
    std::slice::from_raw_parts(ptr.get().add(p * len) as *const T, len)
}

/// Mutable [`plane`]; planes of one buffer never alias.
///
/// # Safety
/// As [`plane`], and no other reference to plane `p` may live.
unsafe fn plane_mut<'a, T>(ptr: SendPtr<T>, p: usize, len: usize) -> &'a mut [T] {
    std::slice::from_raw_parts_mut(ptr.get().add(p * len), len)
}

/// The maximum of every window and its flat position in the plane. torch's rule: an element
/// replaces the running maximum if it is greater or NaN, so ties keep the first maximum and
/// a NaN propagates (the last NaN's position is kept). A window that covers only padding
/// yields `T::lowest()` at position -1.
///
/// # Safety
/// `x` holds `planes * plane_len` elements, `out` and `idx` `planes * blocks`, contiguous.
pub unsafe fn max_pool<T: Accum>(x: *const T, out: *mut T, idx: *mut i64, g: &Windows) {
    let (n_in, n_out) = (g.plane_len(), g.blocks());
    let (xp, op, ip) = (SendPtr(x as *mut T), SendPtr(out), SendPtr(idx));
    let t = g.tables();
    for_each_plane(g.planes, n_out * g.kernel_len(), |p| {
        // SAFETY: plane p of each buffer (caller's contract); each plane has one writer.
        let (src, dst, at) = unsafe {
            (
                plane(xp, p, n_in),
                plane_mut(op, p, n_out),
                plane_mut(ip, p, n_out),
            )
        };
        max_pool_plane(src, dst, at, g, &t);
    });
}

fn max_pool_plane<T: Accum>(src: &[T], dst: &mut [T], idx: &mut [i64], g: &Windows, t: &Tables) {
    let [_, h, w] = g.size;
    let [_, oh, ow] = g.out;
    let whole_2x2 = g.kernel == [1, 2, 2]
        && g.stride == [1, 2, 2]
        && g.pad == [0; 3]
        && g.dil == [1; 3]
        && g.size[0] == 1
        && g.out[0] == 1
        && 2 * oh <= h
        && 2 * ow <= w;
    if whole_2x2 {
        return max_pool_2x2(src, dst, idx, w, ow);
    }
    let s2 = g.stride[2];
    dst.fill(T::lowest());
    idx.fill(-1);
    let mut rows = dst
        .chunks_exact_mut(g.out[2])
        .zip(idx.chunks_exact_mut(g.out[2]));
    for span0 in &t.outer[0] {
        for span1 in &t.outer[1] {
            let Some((best, at)) = rows.next() else {
                return;
            };
            // Every window of the row visits its elements in row-major order, as torch's loop.
            for i0 in span0.coords(g.dil[0]) {
                for i1 in span1.coords(g.dil[1]) {
                    let start = (i0 * h + i1) * w;
                    let line = &src[start..start + w];
                    for span2 in &t.inner {
                        let windows = best[span2.lo..span2.hi]
                            .iter_mut()
                            .zip(&mut at[span2.lo..span2.hi]);
                        let mut pos = (start + span2.first) as i64;
                        for ((b, a), &v) in windows.zip(line[span2.first..].iter().step_by(s2)) {
                            // Selects, not branches: on data in random order, whether an
                            // element beats the maximum is unpredictable.
                            let take = (*a < 0) | (v > *b) | v.is_nan();
                            *b = if take { v } else { *b };
                            *a = if take { pos } else { *a };
                            pos += s2 as i64;
                        }
                    }
                }
            }
        }
    }
}

/// [`max_pool_plane`] for the commonest pooling, 2x2 windows at stride 2 that all lie inside
/// a 2-D plane: each output in one pass, its four inputs in torch's order, rather
/// than four read-modify-write passes over the output row and its positions.
fn max_pool_2x2<T: Accum>(src: &[T], dst: &mut [T], idx: &mut [i64], w: usize, ow: usize) {
    let rows = dst.chunks_exact_mut(ow).zip(idx.chunks_exact_mut(ow));
    for (i, (best, at)) in rows.enumerate() {
        let top = 2 * i * w;
        let (r0, r1) = (&src[top..top + 2 * ow], &src[top + w..top + w + 2 * ow]);
        for (j, (b, a)) in best.iter_mut().zip(at.iter_mut()).enumerate() {
            let p = top + 2 * j;
            let (mut m, mut at) = (r0[2 * j], p as i64);
            for (v, q) in [
                (r0[2 * j + 1], p + 1),
                (r1[2 * j], p + w),
                (r1[2 * j + 1], p + w + 1),
            ] {
                let take = (v > m) | v.is_nan();
                m = if take { v } else { m };
                at = if take { q as i64 } else { at };
            }
            *b = m;
            *a = at;
        }
    }
}

/// The gradient of [`max_pool`]: `gin[p, idx[p, o]] += g[p, o]` (positions outside the
/// plane, such as -1, are skipped). `planes` planes of `len_in` inputs and `len_out` outputs.
///
/// # Safety
/// `g` and `idx` hold `planes * len_out` elements, `gin` `planes * len_in`, contiguous.
pub unsafe fn max_pool_backward<T: Accum>(
    g: *const T,
    idx: *const i64,
    gin: *mut T,
    planes: usize,
    len_in: usize,
    len_out: usize,
) {
    let (gp, ip, op) = (SendPtr(g as *mut T), SendPtr(idx as *mut i64), SendPtr(gin));
    for_each_plane(planes, len_out + len_in, |p| {
        // SAFETY: plane p of each buffer (caller's contract); each plane has one writer.
        let (g, idx, dst) = unsafe {
            (
                plane(gp, p, len_out),
                plane(ip, p, len_out),
                plane_mut(op, p, len_in),
            )
        };
        let mut acc = vec![T::zero_acc(); len_in];
        for (&v, &i) in g.iter().zip(idx) {
            if let Some(t) = usize::try_from(i).ok().and_then(|i| acc.get_mut(i)) {
                *t = T::add(*t, v.widen());
            }
        }
        for (o, &a) in dst.iter_mut().zip(&acc) {
            *o = T::narrow(a);
        }
    });
}

/// torch's divisor of every window of a row of windows (along the last dim), per window
/// row `(a, b)`: `divisor` if given, else the window's size counting the padding
/// (`count_include_pad`) or only the input elements it covers.
struct Divisors {
    /// Per dim, per window: the factor of the divisor.
    factors: [Vec<i64>; 3],
    fixed: Option<i64>,
}

impl Divisors {
    fn new(g: &Windows, count_include_pad: bool, fixed: Option<i64>) -> Divisors {
        let factors = std::array::from_fn(|d| {
            (0..g.out[d])
                .map(|o| {
                    let (lo, hi, pool) = g.avg_extent(d, o);
                    (if count_include_pad { pool } else { hi - lo }) as i64
                })
                .collect()
        });
        Divisors { factors, fixed }
    }

    /// The divisor of window `(a, b, c)`.
    #[inline(always)]
    fn of(&self, a: usize, b: usize, c: usize) -> i64 {
        self.fixed
            .unwrap_or_else(|| self.factors[0][a] * self.factors[1][b] * self.factors[2][c])
    }
}

/// The mean of every window (dilation 1) with torch's divisor rules, summed in `T::A`.
///
/// # Safety
/// `x` holds `planes * plane_len` elements and `out` `planes * blocks`, contiguous.
pub unsafe fn avg_pool<T: Accum>(
    x: *const T,
    out: *mut T,
    g: &Windows,
    count_include_pad: bool,
    divisor: Option<i64>,
) {
    let (n_in, n_out) = (g.plane_len(), g.blocks());
    let (xp, op) = (SendPtr(x as *mut T), SendPtr(out));
    let (t, div) = (g.tables(), Divisors::new(g, count_include_pad, divisor));
    for_each_plane(g.planes, n_out * g.kernel_len(), |p| {
        // SAFETY: plane p of each buffer (caller's contract); each plane has one writer.
        let (src, dst) = unsafe { (plane(xp, p, n_in), plane_mut(op, p, n_out)) };
        let [_, h, w] = g.size;
        let s2 = g.stride[2];
        let mut sums = vec![T::zero_acc(); g.out[2]];
        let mut rows = dst.chunks_exact_mut(g.out[2]);
        for (a, span0) in t.outer[0].iter().enumerate() {
            for (b, span1) in t.outer[1].iter().enumerate() {
                let Some(row) = rows.next() else { return };
                sums.fill(T::zero_acc());
                for i0 in span0.coords(1) {
                    for i1 in span1.coords(1) {
                        let line = &src[(i0 * h + i1) * w..(i0 * h + i1 + 1) * w];
                        for span2 in &t.inner {
                            let part = &mut sums[span2.lo..span2.hi];
                            for (s, &v) in
                                part.iter_mut().zip(line[span2.first..].iter().step_by(s2))
                            {
                                *s = T::add(*s, v.widen());
                            }
                        }
                    }
                }
                for (c, (o, &s)) in row.iter_mut().zip(&sums).enumerate() {
                    *o = T::narrow(T::div(s, div.of(a, b, c)));
                }
            }
        }
    });
}

/// The gradient of [`avg_pool`]: each output's gradient, divided by its divisor, added to
/// every input element of its window.
///
/// # Safety
/// `g` holds `planes * blocks` elements and `gin` `planes * plane_len`, contiguous.
pub unsafe fn avg_pool_backward<T: Accum>(
    g: *const T,
    gin: *mut T,
    win: &Windows,
    count_include_pad: bool,
    divisor: Option<i64>,
) {
    let (n_in, n_out) = (win.plane_len(), win.blocks());
    let (gp, op) = (SendPtr(g as *mut T), SendPtr(gin));
    let (t, div) = (win.tables(), Divisors::new(win, count_include_pad, divisor));
    for_each_plane(win.planes, n_out * win.kernel_len(), |p| {
        // SAFETY: plane p of each buffer (caller's contract); each plane has one writer.
        let (g, dst) = unsafe { (plane(gp, p, n_out), plane_mut(op, p, n_in)) };
        let [_, h, w] = win.size;
        let s2 = win.stride[2];
        let mut acc = vec![T::zero_acc(); n_in];
        let mut delta = vec![T::zero_acc(); win.out[2]];
        let mut rows = g.chunks_exact(win.out[2]);
        for (a, span0) in t.outer[0].iter().enumerate() {
            for (b, span1) in t.outer[1].iter().enumerate() {
                let Some(row) = rows.next() else { break };
                for (c, (d, &v)) in delta.iter_mut().zip(row).enumerate() {
                    *d = T::div(v.widen(), div.of(a, b, c));
                }
                for i0 in span0.coords(1) {
                    for i1 in span1.coords(1) {
                        let line = &mut acc[(i0 * h + i1) * w..(i0 * h + i1 + 1) * w];
                        for span2 in &t.inner {
                            let part = &delta[span2.lo..span2.hi];
                            for (s, &d) in line[span2.first..].iter_mut().step_by(s2).zip(part) {
                                *s = T::add(*s, d);
                            }
                        }
                    }
                }
            }
        }
        for (o, &a) in dst.iter_mut().zip(&acc) {
            *o = T::narrow(a);
        }
    });
}
