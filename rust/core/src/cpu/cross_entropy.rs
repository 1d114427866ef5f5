//! Cross entropy from logits on the CPU, row by row: the forward reads each row once for its
//! maximum and once for its sum of exponentials; the backward writes `softmax - one_hot` scaled
//! by the row's gradient in one more pass. Rows split over threads when the logits are large.
//!
//! Logits are a contiguous `[rows, classes]`; statistics and losses are in `T::Acc` (f32 for
//! the 16-bit floats).

use super::iter::{SendPtr, PARALLEL_THRESHOLD};
use crate::element::num_like::FloatMath;
use crate::element::Float;

/// Runs `f(row)` for every row, on several threads when there are `work` elements or more.
fn for_rows(rows: usize, work: usize, f: impl Fn(usize) + Sync + Send) {
    if work >= PARALLEL_THRESHOLD && super::threads() > 1 {
        super::parallel_ranges(rows, rows.div_ceil(4 * super::threads()), |r| {
            r.for_each(&f)
        });
    } else {
        (0..rows).for_each(f);
    }
}

/// Per row `r` with target `t`: `max[r]` and `log_sum[r] = log(sum(exp(x - max)))` of the row
/// and `loss[r] = (max - x[t]) + log_sum`, torch's `-log_softmax(x)[t]` rounded the same way;
/// all three 0 where `t == ignore_index`.
///
/// # Safety
/// `x` addresses `rows * classes` elements, the outputs `rows` each; every target is
/// `ignore_index` or inside `[0, classes)`.
pub unsafe fn forward<T: Float>(
    x: *const T,
    target: &[i64],
    classes: usize,
    ignore_index: i64,
    [loss, max, log_sum]: [*mut T::Acc; 3],
) {
    let (x, loss, max, log_sum) = (
        SendPtr(x as *mut T),
        SendPtr(loss),
        SendPtr(max),
        SendPtr(log_sum),
    );
    for_rows(target.len(), target.len() * classes, |r| {
        let t = target[r];
        let (mut m, mut ls, mut l) = (
            T::Acc::from_f64(0.0),
            T::Acc::from_f64(0.0),
            T::Acc::from_f64(0.0),
        );
        if t != ignore_index {
            // SAFETY: row r lies inside the `rows * classes` elements of x.
            let row = std::slice::from_raw_parts(x.get().add(r * classes) as *const T, classes);
            m = row_max::<T>(row);
            let mut s = T::Acc::from_f64(0.0);
            for &v in row {
                s = s + (v.to_acc() - m).exp();
            }
            ls = s.ln();
            l = (m - row[t as usize].to_acc()) + ls;
        }
        // SAFETY: each row writes its own slot of outputs with `rows` elements.
        *loss.get().add(r) = l;
        *max.get().add(r) = m;
        *log_sum.get().add(r) = ls;
    });
}

/// The largest element, NaN if any is NaN (so the row's loss is NaN, as torch's).
fn row_max<T: Float>(row: &[T]) -> T::Acc {
    let mut m = T::Acc::from_f64(f64::NEG_INFINITY);
    for &v in row {
        let v = v.to_acc();
        if v > m || v.is_nan() {
            m = v;
            if v.is_nan() {
                break;
            }
        }
    }
    m
}

/// `dx[r, j] = w[r] * (exp((x[r, j] - max[r]) - log_sum[r]) - (j == t[r]))`, 0 on rows whose
/// target is `ignore_index`.
///
/// # Safety
/// `x` and `dx` address `rows * classes` elements and do not overlap; the statistics and `w`
/// hold `rows` values; every target is `ignore_index` or inside `[0, classes)`.
pub unsafe fn backward<T: Float>(
    x: *const T,
    target: &[i64],
    classes: usize,
    ignore_index: i64,
    [max, log_sum, w]: [*const T::Acc; 3],
    dx: *mut T,
) {
    let (x, dx) = (SendPtr(x as *mut T), SendPtr(dx));
    let (max, log_sum, w) = (
        SendPtr(max as *mut T::Acc),
        SendPtr(log_sum as *mut T::Acc),
        SendPtr(w as *mut T::Acc),
    );
    let zero = T::Acc::from_f64(0.0);
    for_rows(target.len(), target.len() * classes, |r| {
        let t = target[r];
        // SAFETY: row r of x and of dx lies inside their `rows * classes` elements.
        let out = std::slice::from_raw_parts_mut(dx.get().add(r * classes), classes);
        if t == ignore_index {
            out.fill(T::from_acc(zero));
            return;
        }
        let row = std::slice::from_raw_parts(x.get().add(r * classes) as *const T, classes);
        let (m, ls, wr) = (*max.get().add(r), *log_sum.get().add(r), *w.get().add(r));
        for (o, &v) in out.iter_mut().zip(row) {
            *o = T::from_acc(wr * ((v.to_acc() - m) - ls).exp());
        }
        let t = t as usize;
        let one = T::Acc::from_f64(1.0);
        out[t] = T::from_acc(wr * (((row[t].to_acc() - m) - ls).exp() - one));
    });
}
