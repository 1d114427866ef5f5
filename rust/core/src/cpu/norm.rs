//! Layer norm and RMS norm on the CPU: one fused pass per row forward (statistics, normalise,
//! scale and shift) and one backward (`dx` per row, `dweight`/`dbias` summed over rows).
//!
//! Inputs are contiguous `[rows, n]`; the statistics are kept per row in the compute type
//! (`T::Acc`: float for f16/bf16), as torch's CUDA kernels keep them.

use super::iter::{SendPtr, PARALLEL_THRESHOLD};
use super::rowwise::{sum1, sum2};
use crate::element::num_like::FloatMath;
use crate::element::Float;

/// Rows of `n` elements each.
#[derive(Clone, Copy, Debug)]
pub struct Rows {
    pub rows: usize,
    pub n: usize,
}

/// The row pieces work is split into: one when small, else a few per thread (every piece then
/// costs about the same, rows being of one length).
fn pieces(r: Rows) -> usize {
    if r.rows * r.n < PARALLEL_THRESHOLD {
        return 1;
    }
    match super::threads() {
        0 | 1 => 1,
        threads => (threads * 4).min(r.rows),
    }
}

/// The rows `lo..hi` of piece `p` of `count`.
fn piece_range(p: usize, count: usize, rows: usize) -> std::ops::Range<usize> {
    let per = rows.div_ceil(count.max(1));
    (p * per).min(rows)..((p + 1) * per).min(rows)
}

/// Layer norm (RMS norm with `rms`: no centring, no bias) of each row of `x` into `y`:
/// `y = (x - mean) * rstd * w + b`, `rstd = 1 / sqrt(var + eps)` with the biased variance
/// (`mean(x^2)` for RMS norm). `mean` and `rstd` receive one value per row.
///
/// # Safety
/// `x`, `y` address `rows * n` elements, `w`, `b` `n` each, `mean`, `rstd` `rows` each;
/// the outputs overlap nothing.
#[allow(clippy::too_many_arguments)]
pub unsafe fn norm_forward<T: Float>(
    x: *const T,
    w: Option<*const T>,
    b: Option<*const T>,
    y: *mut T,
    mean: *mut T::Acc,
    rstd: *mut T::Acc,
    r: Rows,
    eps: f64,
    rms: bool,
) {
    let n = r.n;
    let (xp, yp) = (SendPtr(x as *mut T), SendPtr(y));
    let (mp, rp) = (SendPtr(mean), SendPtr(rstd));
    let wp = w.map(|p| SendPtr(p as *mut T));
    let bp = b.map(|p| SendPtr(p as *mut T));
    let eps = T::Acc::from_f64(eps);
    let inv_n = T::Acc::from_f64(1.0 / n as f64);
    let one = T::Acc::from_f64(1.0);
    let row = |i: usize| unsafe {
        let xs = std::slice::from_raw_parts(xp.get().add(i * n), n);
        let ys = std::slice::from_raw_parts_mut(yp.get().add(i * n), n);
        // Two passes over a row in cache: exact centring, no cancellation for large means.
        let mu = if rms {
            T::Acc::from_f64(0.0)
        } else {
            sum1(xs, |v: T| v.to_acc()) * inv_n
        };
        let var = sum1(xs, |v: T| {
            let d = v.to_acc() - mu;
            d * d
        }) * inv_n;
        let rs = one / (var + eps).sqrt();
        *mp.get().add(i) = mu;
        *rp.get().add(i) = rs;
        let ws = wp.map(|p| std::slice::from_raw_parts(p.get() as *const T, n));
        let bs = bp.map(|p| std::slice::from_raw_parts(p.get() as *const T, n));
        for (k, (o, &v)) in ys.iter_mut().zip(xs).enumerate() {
            let mut a = (v.to_acc() - mu) * rs;
            if let Some(ws) = ws {
                a = a * ws[k].to_acc();
            }
            if let Some(bs) = bs {
                a = a + bs[k].to_acc();
            }
            *o = T::from_acc(a);
        }
    };
    let count = pieces(r);
    if count > 1 {
        super::parallel_for(count, |p| piece_range(p, count, r.rows).for_each(row));
    } else {
        (0..r.rows).for_each(row);
    }
}

/// One piece of rows' sums of `dw` and `db` (empty when neither is wanted).
type Partials<A> = (Vec<A>, Vec<A>);

/// Where the backward of a norm writes: `dx` (rows * n), and `dw` / `db` (n each) when wanted.
pub struct NormGradPtrs<T> {
    pub dx: *mut T,
    pub dw: Option<*mut T>,
    pub db: Option<*mut T>,
}

/// The backward of [`norm_forward`] from the output gradient `g`, the input `x`, the saved
/// `mean` / `rstd` and the weight `w`. With `xhat = (x - mean) * rstd` and `gw = g * w`:
/// `dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat))` (RMS norm drops `mean(gw)`),
/// `dw = sum over rows of g * xhat`, `db = sum over rows of g`. Each piece of rows sums its own
/// `dw`/`db`; the pieces are added in order, so results do not depend on the threads.
///
/// # Safety
/// As [`norm_forward`], for `g`, `x`, `dx` (`rows * n`), `w`, `dw`, `db` (`n`), `mean`,
/// `rstd` (`rows`); outputs overlap nothing.
#[allow(clippy::too_many_arguments)]
pub unsafe fn norm_backward<T: Float>(
    g: *const T,
    x: *const T,
    mean: *const T::Acc,
    rstd: *const T::Acc,
    w: Option<*const T>,
    out: NormGradPtrs<T>,
    r: Rows,
    rms: bool,
) {
    let n = r.n;
    let (gp, xp) = (SendPtr(g as *mut T), SendPtr(x as *mut T));
    let (mp, rp) = (SendPtr(mean as *mut T::Acc), SendPtr(rstd as *mut T::Acc));
    let wp = w.map(|p| SendPtr(p as *mut T));
    let dxp = SendPtr(out.dx);
    let params = out.dw.is_some() || out.db.is_some();
    let zero = T::Acc::from_f64(0.0);
    let inv_n = T::Acc::from_f64(1.0 / n as f64);
    // Rows lo..hi: writes their dx, returns their (dw, db) sums.
    let piece = |rows: std::ops::Range<usize>| unsafe {
        let mut pw = vec![zero; if params { n } else { 0 }];
        let mut pb = vec![zero; if params { n } else { 0 }];
        let mut gw = vec![zero; n];
        let ws = wp.map(|p| std::slice::from_raw_parts(p.get() as *const T, n));
        for i in rows {
            let gs = std::slice::from_raw_parts(gp.get().add(i * n), n);
            let xs = std::slice::from_raw_parts(xp.get().add(i * n), n);
            let dx = std::slice::from_raw_parts_mut(dxp.get().add(i * n), n);
            let (mu, rs) = (*mp.get().add(i), *rp.get().add(i));
            match ws {
                Some(ws) => {
                    for ((o, &a), &b) in gw.iter_mut().zip(gs).zip(ws) {
                        *o = a.to_acc() * b.to_acc();
                    }
                }
                None => {
                    for (o, &a) in gw.iter_mut().zip(gs) {
                        *o = a.to_acc();
                    }
                }
            }
            let a = if rms { zero } else { sum1(&gw, |v| v) * inv_n };
            let c = sum2(&gw, xs, |d, v: T| d * ((v.to_acc() - mu) * rs)) * inv_n;
            for ((o, &d), &v) in dx.iter_mut().zip(&gw).zip(xs) {
                *o = T::from_acc(rs * (d - a - (v.to_acc() - mu) * rs * c));
            }
            if params {
                for (k, (&gv, &v)) in gs.iter().zip(xs).enumerate() {
                    let gv = gv.to_acc();
                    pw[k] = pw[k] + gv * ((v.to_acc() - mu) * rs);
                    pb[k] = pb[k] + gv;
                }
            }
        }
        (pw, pb)
    };
    let count = pieces(r);
    let partials: Vec<Partials<T::Acc>> = if count > 1 {
        super::parallel_map(count, |p| piece(piece_range(p, count, r.rows)))
    } else {
        vec![piece(0..r.rows)]
    };
    if !params {
        return;
    }
    let mut tw = vec![zero; n];
    let mut tb = vec![zero; n];
    for (pw, pb) in &partials {
        for (t, &p) in tw.iter_mut().zip(pw) {
            *t = *t + p;
        }
        for (t, &p) in tb.iter_mut().zip(pb) {
            *t = *t + p;
        }
    }
    if let Some(dw) = out.dw {
        for (k, &v) in tw.iter().enumerate() {
            *dw.add(k) = T::from_acc(v);
        }
    }
    if let Some(db) = out.db {
        for (k, &v) in tb.iter().enumerate() {
            *db.add(k) = T::from_acc(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_norm_row_statistics() {
        let x = [1.0f64, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0];
        let w = [1.0f64, 2.0, 1.0, 1.0];
        let b = [0.0f64, 0.0, 1.0, 0.0];
        let (mut y, mut m, mut rs) = ([0.0; 8], [0.0; 2], [0.0; 2]);
        let r = Rows { rows: 2, n: 4 };
        unsafe {
            norm_forward(
                x.as_ptr(),
                Some(w.as_ptr()),
                Some(b.as_ptr()),
                y.as_mut_ptr(),
                m.as_mut_ptr(),
                rs.as_mut_ptr(),
                r,
                0.0,
                false,
            )
        };
        assert_eq!(m, [2.5, 10.0]);
        let s = 1.0 / 1.25f64.sqrt();
        assert!((rs[0] - s).abs() < 1e-12);
        assert!((y[1] - (-0.5 * s * 2.0)).abs() < 1e-12);
        assert!((y[2] - (0.5 * s + 1.0)).abs() < 1e-12);
        // A constant row normalises to 0 (rstd is infinite with eps = 0: 0 * inf is NaN).
        assert!(rs[1].is_infinite());
    }
}
