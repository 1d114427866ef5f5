//! The pointwise part of an LSTM or GRU step on the CPU (torch's `_thnn_fused_lstm_cell` /
//! `_thnn_fused_gru_cell`): everything after the two matrix products, in one pass per element,
//! forward and backward. Inputs are contiguous `[batch, k * hidden]` gate blocks.
//!
//! The forward keeps what its backward needs in a workspace, as torch does: the LSTM's four
//! activated gates `(i, f, g, o)`; the GRU's `(r, z, n, h, hn)` (`hn`: the hidden product of
//! the new gate, which `r` multiplies).

use super::iter::{SendPtr, PARALLEL_THRESHOLD};
use crate::element::num_like::FloatMath;
use crate::element::Float;
use crate::ops::unary_math::UnaryMath;

/// Runs `f(row)` for each batch row, in parallel when the step is large.
fn rows(batch: usize, hidden: usize, f: impl Fn(usize) + Sync + Send) {
    if batch * hidden < PARALLEL_THRESHOLD {
        (0..batch).for_each(f);
    } else {
        crate::cpu::parallel_items(batch, hidden, f);
    }
}

fn sigmoid<A: FloatMath + UnaryMath>(v: A) -> A {
    let one = A::from_f64(1.0);
    one / (one + (-v).fast_exp())
}

/// LSTM: from `gates` `[b, 4h]` (pre-activation, order i, f, g, o) and `cx` `[b, h]`,
/// `cy = f * cx + i * g`, `hy = o * tanh(cy)`; `ws` `[b, 4h]` gets the activated gates.
///
/// # Safety
/// `hy`, `cy` hold `b * h` elements, `ws` `b * 4h`; the outputs overlap nothing.
pub unsafe fn lstm_forward<T: Float>(
    gates: &[T],
    cx: &[T],
    (hy, cy, ws): (*mut T, *mut T, *mut T),
    (b, h): (usize, usize),
) where
    T::Acc: UnaryMath,
{
    let (hy, cy, ws) = (SendPtr(hy), SendPtr(cy), SendPtr(ws));
    rows(b, h, |r| unsafe {
        let gr = &gates[r * 4 * h..(r + 1) * 4 * h];
        for j in 0..h {
            let i = sigmoid(gr[j].to_acc());
            let f = sigmoid(gr[h + j].to_acc());
            let g = gr[2 * h + j].to_acc().fast_tanh();
            let o = sigmoid(gr[3 * h + j].to_acc());
            let c = f * cx[r * h + j].to_acc() + i * g;
            let k = r * h + j;
            *cy.get().add(k) = T::from_acc(c);
            *hy.get().add(k) = T::from_acc(o * c.fast_tanh());
            for (q, v) in [i, f, g, o].into_iter().enumerate() {
                *ws.get().add(r * 4 * h + q * h + j) = T::from_acc(v);
            }
        }
    });
}

/// The LSTM step's backward from `dhy`, `dcy` (either may be absent: zero), `cx`, `cy` and the
/// workspace: `dgates` `[b, 4h]` (pre-activation) and `dcx` `[b, h]`.
///
/// # Safety
/// `dgates` holds `b * 4h` elements, `dcx` `b * h`; they overlap nothing.
#[allow(clippy::too_many_arguments)]
pub unsafe fn lstm_backward<T: Float>(
    dhy: Option<&[T]>,
    dcy: Option<&[T]>,
    cx: &[T],
    cy: &[T],
    ws: &[T],
    (dgates, dcx): (*mut T, *mut T),
    (b, h): (usize, usize),
) where
    T::Acc: UnaryMath,
{
    let (dgates, dcx) = (SendPtr(dgates), SendPtr(dcx));
    let zero = T::Acc::from_f64(0.0);
    let one = T::Acc::from_f64(1.0);
    rows(b, h, |r| unsafe {
        let w = &ws[r * 4 * h..(r + 1) * 4 * h];
        for j in 0..h {
            let k = r * h + j;
            let (i, f, g, o) = (
                w[j].to_acc(),
                w[h + j].to_acc(),
                w[2 * h + j].to_acc(),
                w[3 * h + j].to_acc(),
            );
            let dh = dhy.map_or(zero, |d| d[k].to_acc());
            let tc = cy[k].to_acc().fast_tanh();
            let dc = dcy.map_or(zero, |d| d[k].to_acc()) + dh * o * (one - tc * tc);
            let d = [
                dc * g * i * (one - i),
                dc * cx[k].to_acc() * f * (one - f),
                dc * i * (one - g * g),
                dh * tc * o * (one - o),
            ];
            for (q, v) in d.into_iter().enumerate() {
                *dgates.get().add(r * 4 * h + q * h + j) = T::from_acc(v);
            }
            *dcx.get().add(k) = T::from_acc(dc * f);
        }
    });
}

/// GRU: from the input and hidden products `gi`, `gh` `[b, 3h]` (order r, z, n; biases
/// included) and `hx` `[b, h]`: `r = σ(gi_r + gh_r)`, `z = σ(gi_z + gh_z)`,
/// `n = tanh(gi_n + r * gh_n)`, `hy = n + z * (hx - n)`; `ws` `[b, 5h]` gets `(r, z, n, hx, gh_n)`.
///
/// # Safety
/// `hy` holds `b * h` elements, `ws` `b * 5h`; the outputs overlap nothing.
pub unsafe fn gru_forward<T: Float>(
    gi: &[T],
    gh: &[T],
    hx: &[T],
    (hy, ws): (*mut T, *mut T),
    (b, h): (usize, usize),
) where
    T::Acc: UnaryMath,
{
    let (hy, ws) = (SendPtr(hy), SendPtr(ws));
    rows(b, h, |row| unsafe {
        let (a, c) = (
            &gi[row * 3 * h..(row + 1) * 3 * h],
            &gh[row * 3 * h..(row + 1) * 3 * h],
        );
        for j in 0..h {
            let r = sigmoid(a[j].to_acc() + c[j].to_acc());
            let z = sigmoid(a[h + j].to_acc() + c[h + j].to_acc());
            let hn = c[2 * h + j].to_acc();
            let n = (a[2 * h + j].to_acc() + r * hn).fast_tanh();
            let k = row * h + j;
            let hv = hx[k].to_acc();
            *hy.get().add(k) = T::from_acc(n + z * (hv - n));
            for (q, v) in [r, z, n, hv, hn].into_iter().enumerate() {
                *ws.get().add(row * 5 * h + q * h + j) = T::from_acc(v);
            }
        }
    });
}

/// The GRU step's backward from `dhy` and the workspace: `dgi`, `dgh` `[b, 3h]` and `dhx`
/// `[b, h]`.
///
/// # Safety
/// `dgi`, `dgh` hold `b * 3h` elements, `dhx` `b * h`; they overlap nothing.
pub unsafe fn gru_backward<T: Float>(
    dhy: &[T],
    ws: &[T],
    (dgi, dgh, dhx): (*mut T, *mut T, *mut T),
    (b, h): (usize, usize),
) where
    T::Acc: UnaryMath,
{
    let (dgi, dgh, dhx) = (SendPtr(dgi), SendPtr(dgh), SendPtr(dhx));
    let one = T::Acc::from_f64(1.0);
    rows(b, h, |row| unsafe {
        let w = &ws[row * 5 * h..(row + 1) * 5 * h];
        for j in 0..h {
            let k = row * h + j;
            let (r, z, n) = (w[j].to_acc(), w[h + j].to_acc(), w[2 * h + j].to_acc());
            let (hv, hn) = (w[3 * h + j].to_acc(), w[4 * h + j].to_acc());
            let d = dhy[k].to_acc();
            let dn = d * (one - z) * (one - n * n);
            let dz = d * (hv - n) * z * (one - z);
            let dr = dn * hn * r * (one - r);
            let base = row * 3 * h + j;
            for (q, (vi, vh)) in [(dr, dr), (dz, dz), (dn, dn * r)].into_iter().enumerate() {
                *dgi.get().add(base + q * h) = T::from_acc(vi);
                *dgh.get().add(base + q * h) = T::from_acc(vh);
            }
            *dhx.get().add(k) = T::from_acc(d * z);
        }
    });
}
