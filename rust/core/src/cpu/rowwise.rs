//! The row engine of the fused nn kernels, and softmax / log_softmax with their backward.
//!
//! Inputs are contiguous and seen as `[outer, n, inner]` around the dim an op works along; a
//! "line" is the `n` elements one statistic covers. Each op is a function of one line given as
//! slices, so it is written once for every layout:
//! - `inner == 1` (the last dim, the hot case): lines are contiguous rows, handed out as they
//!   are, rows split over threads above [`PARALLEL_THRESHOLD`] elements;
//! - `inner > 1`: tiles of neighbouring columns are transposed into contiguous scratch lines
//!   (each input row of a tile is read as one short contiguous run), processed, and transposed
//!   back.

use super::iter::{SendPtr, PARALLEL_THRESHOLD};
use crate::element::num_like::FloatMath;
use crate::element::{Element, Float};
use crate::ops::unary_math::UnaryMath;

/// A contiguous tensor seen as `[outer, n, inner]` around the dim an op works along.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lines {
    pub outer: usize,
    pub n: usize,
    pub inner: usize,
}

impl Lines {
    pub fn numel(&self) -> usize {
        self.outer * self.n * self.inner
    }
}

/// Columns transposed together when `inner > 1` (a 64-byte line of f32 per input row).
const TILE: usize = 16;
/// Elements of scratch one task may hold for a tile (the tile narrows for long lines).
const SCRATCH: usize = 1 << 16;

/// Calls `f(inputs, output, scratch)` for every line: `K` inputs and the output, all of the
/// geometry `lines`. `init` makes each task's scratch (reused across its lines). Lines are
/// disjoint, so tasks run on several threads above [`PARALLEL_THRESHOLD`] elements.
///
/// # Safety
/// Every pointer must address `lines.numel()` contiguous elements; `out` must not overlap the
/// inputs.
pub unsafe fn for_each_line<T: Element, S, const K: usize>(
    ins: [*const T; K],
    out: *mut T,
    lines: Lines,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn([&[T]; K], &mut [T], &mut S) + Sync,
) {
    let Lines { outer, n, inner } = lines;
    let total = lines.numel();
    if total == 0 {
        return;
    }
    let ins = ins.map(|p| SendPtr(p as *mut T));
    let out = SendPtr(out);
    let parallel = total >= PARALLEL_THRESHOLD && super::threads() > 1;
    if inner == 1 {
        let row = |r: usize, s: &mut S| unsafe {
            let xs: [&[T]; K] =
                std::array::from_fn(|k| std::slice::from_raw_parts(ins[k].get().add(r * n), n));
            f(
                xs,
                std::slice::from_raw_parts_mut(out.get().add(r * n), n),
                s,
            )
        };
        if parallel && outer > 1 {
            let min_rows = super::items_per_task(n);
            super::parallel_for_init(outer.div_ceil(min_rows), &init, |s, c| {
                (c * min_rows..((c + 1) * min_rows).min(outer)).for_each(|r| row(r, s))
            });
        } else {
            let mut s = init();
            (0..outer).for_each(|r| row(r, &mut s));
        }
        return;
    }
    let tile = TILE.min(inner).min((SCRATCH / ((K + 1) * n)).max(1));
    let tiles = inner.div_ceil(tile);
    let task = |t: usize, (s, buf): &mut (S, Vec<T>)| unsafe {
        let (o, c) = (t / tiles, t % tiles);
        let j0 = c * tile;
        let w = tile.min(inner - j0);
        let base = o * n * inner + j0;
        buf.resize((K + 1) * w * n, T::zero());
        let (xs_buf, ys_buf) = buf.split_at_mut(K * w * n);
        for (k, p) in ins.iter().enumerate() {
            for i in 0..n {
                let src = std::slice::from_raw_parts(p.get().add(base + i * inner), w);
                for (col, &v) in src.iter().enumerate() {
                    xs_buf[(k * w + col) * n + i] = v;
                }
            }
        }
        for col in 0..w {
            let xs: [&[T]; K] = std::array::from_fn(|k| &xs_buf[(k * w + col) * n..][..n]);
            f(xs, &mut ys_buf[col * n..][..n], s);
        }
        for i in 0..n {
            let dst = std::slice::from_raw_parts_mut(out.get().add(base + i * inner), w);
            for (col, d) in dst.iter_mut().enumerate() {
                *d = ys_buf[col * n + i];
            }
        }
    };
    let tasks = outer * tiles;
    let init_task = || (init(), Vec::new());
    if parallel && tasks > 1 {
        super::parallel_for_init(tasks, init_task, |s, t| task(t, s));
    } else {
        let mut s = init_task();
        (0..tasks).for_each(|t| task(t, &mut s));
    }
}

/// Blocks longer than this are split in two and summed pairwise.
const SUM_BLOCK: usize = 1024;

/// `sum(f(xs[i], ys[i]))` over two slices of one length, in 8 independent lanes (which the
/// compiler vectorises) and pairwise over blocks, so float error grows with log(n), not n.
#[inline]
pub fn sum2<X: Copy, Y: Copy, A: FloatMath>(xs: &[X], ys: &[Y], f: impl Fn(X, Y) -> A + Copy) -> A {
    debug_assert_eq!(xs.len(), ys.len());
    if xs.len() > SUM_BLOCK {
        let h = (xs.len() / 2).next_multiple_of(8);
        return sum2(&xs[..h], &ys[..h], f) + sum2(&xs[h..], &ys[h..], f);
    }
    let mut acc = [A::from_f64(0.0); 8];
    let (cx, cy) = (xs.chunks_exact(8), ys.chunks_exact(8));
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for k in 0..8 {
            acc[k] = acc[k] + f(a[k], b[k]);
        }
    }
    for (k, (&a, &b)) in rx.iter().zip(ry).enumerate() {
        acc[k] = acc[k] + f(a, b);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// `sum(f(xs[i]))`, as [`sum2`].
#[inline]
pub fn sum1<X: Copy, A: FloatMath>(xs: &[X], f: impl Fn(X) -> A + Copy) -> A {
    sum2(xs, xs, move |a, _| f(a))
}

/// The largest element (in the compute type), in 8 lanes. NaNs are passed over here; they
/// still make the whole softmax row NaN through `exp(NaN - max)`, as in torch.
#[inline]
fn max_of<T: Float>(xs: &[T]) -> T::Acc {
    let mut acc = [T::Acc::from_f64(f64::NEG_INFINITY); 8];
    let chunks = xs.chunks_exact(8);
    let rem = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] = acc[k].max_(c[k].to_acc());
        }
    }
    for (k, &v) in rem.iter().enumerate() {
        acc[k] = acc[k].max_(v.to_acc());
    }
    acc.iter().fold(acc[0], |m, &a| m.max_(a))
}

/// softmax (or log_softmax with `log`) of one line; `exps` is scratch for `exp(x - max)`.
#[inline]
fn softmax_line<T: Float>(x: &[T], y: &mut [T], log: bool, exps: &mut Vec<T::Acc>)
where
    T::Acc: UnaryMath,
{
    // A line of -inf has no maximum; exp(x - max) is then NaN everywhere, as in torch.
    let m = max_of(x);
    if log {
        let ls = sum1(x, |v: T| (v.to_acc() - m).fast_exp()).ln();
        // (x - m) - log(s), not x - (m + log(s)): the shift rounded at the scale of m would
        // cost the result its precision when |x| is large.
        for (o, &v) in y.iter_mut().zip(x) {
            *o = T::from_acc((v.to_acc() - m) - ls);
        }
        return;
    }
    exps.clear();
    // The branch-free exp of the unary ops: the compiler vectorises this loop.
    exps.extend(x.iter().map(|&v| (v.to_acc() - m).fast_exp()));
    let inv = T::Acc::from_f64(1.0) / sum1(exps, |e| e);
    for (o, &e) in y.iter_mut().zip(exps.iter()) {
        *o = T::from_acc(e * inv);
    }
}

/// softmax (log_softmax with `log`) of the contiguous `x` along the middle of `lines`, into
/// the contiguous `y`.
///
/// # Safety
/// `x` and `y` must each address `lines.numel()` elements and not overlap.
pub unsafe fn softmax<T: Float>(x: *const T, y: *mut T, lines: Lines, log: bool)
where
    T::Acc: UnaryMath,
{
    for_each_line(
        [x],
        y,
        lines,
        Vec::new,
        |[xs], ys, exps: &mut Vec<T::Acc>| softmax_line(xs, ys, log, exps),
    );
}

/// The gradient of softmax (log_softmax with `log`) from the output gradient `g` and the saved
/// output `y`: `y * (g - sum(g * y))`, or `g - exp(y) * sum(g)`.
///
/// # Safety
/// `g`, `y` and `dx` must each address `lines.numel()` elements; `dx` must not overlap them.
pub unsafe fn softmax_backward<T: Float>(
    g: *const T,
    y: *const T,
    dx: *mut T,
    lines: Lines,
    log: bool,
) where
    T::Acc: UnaryMath,
{
    for_each_line(
        [g, y],
        dx,
        lines,
        || (),
        |[gs, ys], out, _| {
            if log {
                let s = sum1(gs, |v: T| v.to_acc());
                for ((o, &gv), &yv) in out.iter_mut().zip(gs).zip(ys) {
                    *o = T::from_acc(gv.to_acc() - yv.to_acc().fast_exp() * s);
                }
            } else {
                let s = sum2(gs, ys, |a: T, b: T| a.to_acc() * b.to_acc());
                for ((o, &gv), &yv) in out.iter_mut().zip(gs).zip(ys) {
                    *o = T::from_acc(yv.to_acc() * (gv.to_acc() - s));
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn softmax_ref(x: &[f64]) -> Vec<f64> {
        let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }

    #[test]
    fn softmax_rows_and_columns_agree_with_a_reference() {
        // [2, 3, 4]: softmax over the middle dim (inner 4) and over the last (inner 1).
        let x: Vec<f64> = (0..24).map(|i| ((i * 7) % 11) as f64 * 0.3 - 1.0).collect();
        let mut y = vec![0.0; 24];
        let lines = Lines {
            outer: 2,
            n: 3,
            inner: 4,
        };
        unsafe { softmax(x.as_ptr(), y.as_mut_ptr(), lines, false) };
        for o in 0..2 {
            for j in 0..4 {
                let col: Vec<f64> = (0..3).map(|i| x[o * 12 + i * 4 + j]).collect();
                for (i, e) in softmax_ref(&col).iter().enumerate() {
                    assert!((y[o * 12 + i * 4 + j] - e).abs() < 1e-12);
                }
            }
        }
        let lines = Lines {
            outer: 6,
            n: 4,
            inner: 1,
        };
        unsafe { softmax(x.as_ptr(), y.as_mut_ptr(), lines, true) };
        for r in 0..6 {
            for (i, e) in softmax_ref(&x[r * 4..r * 4 + 4]).iter().enumerate() {
                assert!((y[r * 4 + i] - e.ln()).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn pairwise_sum_is_accurate() {
        let xs = vec![0.1f32; 1 << 20];
        let s = sum1(&xs, |v: f32| v) as f64;
        let exact = 0.1f32 as f64 * (1 << 20) as f64;
        assert!((s - exact).abs() / exact < 1e-6, "{s}");
    }
}
