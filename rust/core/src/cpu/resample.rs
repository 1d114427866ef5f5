//! Separable resampling on the CPU (see `ops::resample`): each output row of the last dim is
//! one task's; a row sums its taps over the two outer dims, then over the last.

use super::iter::PARALLEL_THRESHOLD;
use crate::element::num_like::FloatMath;
use crate::element::Float;
use crate::ops::resample::{Dims, Taps};

/// `y[p, o0, o1, o2] = sum w0 w1 w2 x[p, i0, i1, i2]` over the taps of the three dims.
pub fn resample<T: Float>(x: &[T], y: &mut [T], taps: [&Taps; 3], d: Dims) {
    let [in0, in1, in2] = d.ins;
    let [o0, o1, o2] = d.outs;
    let (t0, t1, t2) = (taps[0], taps[1], taps[2]);
    let w = |t: &Taps| -> Vec<T::Acc> { t.weight.iter().map(|&v| T::Acc::from_f64(v)).collect() };
    let (w0, w1, w2) = (w(t0), w(t1), w(t2));
    let zero = T::Acc::from_f64(0.0);
    let row = |r: usize, out: &mut [T]| {
        // Row r is (plane p, o0 index a, o1 index b).
        let (p, rest) = (r / (o0 * o1), r % (o0 * o1));
        let (a, b) = (rest / o1, rest % o1);
        let plane = &x[p * in0 * in1 * in2..(p + 1) * in0 * in1 * in2];
        for (c, o) in out.iter_mut().enumerate() {
            let mut acc = zero;
            for j0 in 0..t0.k {
                let (i0, v0) = (t0.index[a * t0.k + j0] as usize, w0[a * t0.k + j0]);
                for j1 in 0..t1.k {
                    let (i1, v1) = (t1.index[b * t1.k + j1] as usize, w1[b * t1.k + j1]);
                    let line = &plane[(i0 * in1 + i1) * in2..(i0 * in1 + i1 + 1) * in2];
                    let mut s = zero;
                    for j2 in 0..t2.k {
                        let q = c * t2.k + j2;
                        s = s + w2[q] * line[t2.index[q] as usize].to_acc();
                    }
                    acc = acc + v0 * v1 * s;
                }
            }
            *o = T::from_acc(acc);
        }
    };
    let min_rows = (PARALLEL_THRESHOLD / (o2 * t2.k * t1.k * t0.k).max(1)).max(1);
    let p = crate::cpu::iter::SendPtr(y.as_mut_ptr());
    crate::cpu::parallel_ranges(y.len() / o2.max(1), min_rows, |rows| {
        for r in rows {
            // SAFETY: row r is inside `y` and no other task touches it.
            row(r, unsafe {
                std::slice::from_raw_parts_mut(p.get().add(r * o2), o2)
            })
        }
    });
}
