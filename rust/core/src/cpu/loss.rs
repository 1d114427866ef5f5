//! nll_loss on the CPU: one pass over the targets forward (the picked log-probabilities and their
//! weights, summed in f64), one backward writing the gradient at each target's class.
//!
//! The input is contiguous `[batch, classes, inner]` (inner: the product of the extra dims of a
//! K-dimensional loss), the target contiguous `[batch * inner]` of int64.

use crate::element::num_like::FloatMath;
use crate::element::Float;

/// `(batch, classes, inner)` of an nll_loss input.
pub type NllDims = (usize, usize, usize);

/// The first target (in order) outside `[0, classes)` that is not `ignore_index`.
pub fn first_out_of_bounds(target: &[i64], classes: usize, ignore_index: i64) -> Option<i64> {
    target
        .iter()
        .copied()
        .find(|&t| t != ignore_index && (t < 0 || t as u64 >= classes as u64))
}

/// The weight of class `t` (1 without weights).
#[inline]
fn class_weight<T: Float>(weight: Option<&[T]>, t: usize) -> T::Acc {
    weight.map_or(T::Acc::from_f64(1.0), |w| w[t].to_acc())
}

/// The nll_loss terms `-w[t] * x[b, t, k]`: written to `out` (one per target element) when
/// given, and returned summed with the total weight of the non-ignored targets, in f64.
///
/// # Safety
/// `x` addresses `batch * classes * inner` elements and `out`, if given, `target.len()`; every
/// target is `ignore_index` or inside `[0, classes)` (see [`first_out_of_bounds`]).
pub unsafe fn nll_forward<T: Float>(
    x: *const T,
    target: &[i64],
    weight: Option<&[T]>,
    (_, classes, inner): NllDims,
    ignore_index: i64,
    out: Option<*mut T>,
) -> (f64, f64) {
    let (mut total, mut total_weight) = (0.0f64, 0.0f64);
    for (p, &t) in target.iter().enumerate() {
        let (loss, w) = if t == ignore_index {
            (T::Acc::from_f64(0.0), T::Acc::from_f64(0.0))
        } else {
            let t = t as usize;
            let (b, k) = (p / inner, p % inner);
            let w = class_weight(weight, t);
            (-w * (*x.add((b * classes + t) * inner + k)).to_acc(), w)
        };
        if let Some(o) = out {
            *o.add(p) = T::from_acc(loss);
        }
        total += loss.to_f64();
        total_weight += w.to_f64();
    }
    (total, total_weight)
}

/// The nll_loss gradient into the zeroed `grad_input`: `-w[t] * g` at each target's class,
/// where `g` is `g[p]` for an unreduced loss (`g.len() == target.len()`), else `g[0]`, divided by
/// `total_weight` when given (the mean), as torch computes it.
///
/// # Safety
/// `grad_input` addresses `batch * classes * inner` zeroed elements; targets as in
/// [`nll_forward`].
pub unsafe fn nll_backward<T: Float>(
    g: &[T],
    target: &[i64],
    weight: Option<&[T]>,
    total_weight: Option<T>,
    (_, classes, inner): NllDims,
    ignore_index: i64,
    grad_input: *mut T,
) {
    let per_element = g.len() == target.len();
    for (p, &t) in target.iter().enumerate() {
        if t == ignore_index {
            continue;
        }
        let t = t as usize;
        let mut gv = g[if per_element { p } else { 0 }].to_acc();
        if let Some(tw) = total_weight {
            gv = gv / tw.to_acc();
        }
        let (b, k) = (p / inner, p % inner);
        *grad_input.add((b * classes + t) * inner + k) = T::from_acc(-gv * class_weight(weight, t));
    }
}
