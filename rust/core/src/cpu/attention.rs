//! Fused scaled-dot-product attention on CPU (torch's `_scaled_dot_product_flash_attention_for_cpu`):
//! a blocked kernel that never holds more than a tile of the `L x S` score matrix.
//!
//! Forward: one task per (batch, head, block of [`BQ`] queries). The task walks the keys in
//! blocks of [`BK`], computes the score tile with `gemm`, and keeps a running maximum and sum per
//! query row (online softmax), rescaling the output accumulator when the maximum grows. It
//! writes the output and the row's logsumexp, which is all backward needs to recompute the
//! probabilities.
//!
//! Backward recomputes `P = exp(scores - lse)` tile by tile in two passes, so that no two tasks
//! write one gradient: pass A, one task per (batch, key/value head, key block), sums dK and dV
//! over every query (of every query head of a GQA group); pass B, one task per (batch, query
//! head, query block), sums dQ over every key and writes the bias gradient `dS` when asked.
//! Seven tile products against the five of a one-pass kernel, but no atomics and no per-task
//! copies of dQ.
//!
//! Tiles are copied into contiguous scratch of the accumulation type (f32, f64 for f64), so
//! strided inputs and f16/bf16 cost nothing extra beyond a copy that is `1/tile` of the products.
//! A query row that every key is masked from gets zeros, logsumexp `+inf` and zero gradients
//! (torch's SDPA gives zeros there, not NaN).

use super::gemm::{GemmElem, Mat};
use super::iter::SendPtr;
use crate::element::num_like::FloatMath;
use crate::element::{Element, Float};

/// Query rows per tile.
pub const BQ: usize = 64;
/// Keys per tile.
pub const BK: usize = 64;

/// Element strides of an operand seen as `(batch, head, row, column)`; any may be 0
/// (a broadcast bias).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Geo {
    pub b: isize,
    pub h: isize,
    pub r: isize,
    pub c: isize,
}

/// A strided input of the kernels.
#[derive(Clone, Copy, Debug)]
pub struct Operand<T> {
    pub ptr: *const T,
    pub geo: Geo,
}

// SAFETY: an address plus strides, only read through.
unsafe impl<T> Send for Operand<T> {}
unsafe impl<T> Sync for Operand<T> {}

impl<T> Operand<T> {
    #[inline(always)]
    unsafe fn at(self, b: usize, h: usize, r: usize, c: usize) -> *const T {
        let g = self.geo;
        self.ptr
            .offset(b as isize * g.b + h as isize * g.h + r as isize * g.r + c as isize * g.c)
    }
}

/// The problem: `batch` (all leading dims merged) x `heads` query heads, each group of `groups`
/// consecutive query heads sharing one key/value head; `l` queries and `s` keys of `e` features,
/// values of `ev`.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub batch: usize,
    pub heads: usize,
    pub groups: usize,
    pub l: usize,
    pub s: usize,
    pub e: usize,
    pub ev: usize,
    pub scale: f64,
    /// Query `i` sees keys `j <= i` (top-left aligned, as torch).
    pub causal: bool,
}

impl Dims {
    /// Keys `0..key_end(i0, rows)` are visible to some row of the query block at `i0`.
    fn key_end(&self, i0: usize, rows: usize) -> usize {
        if self.causal {
            (i0 + rows).min(self.s)
        } else {
            self.s
        }
    }
}

/// The inputs every pass reads.
#[derive(Clone, Copy)]
pub struct Inputs<T> {
    pub q: Operand<T>,
    pub k: Operand<T>,
    pub v: Operand<T>,
    pub bias: Option<Operand<T>>,
}

/// `dst (m x n) (+)= alpha * lhs (m x k) @ rhs (k x n)` on one thread; degenerate sizes
/// (which the gemm crate need not handle) done by hand.
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn mm<A: GemmElem>(
    m: usize,
    n: usize,
    k: usize,
    dst: Mat<A>,
    lhs: Mat<A>,
    rhs: Mat<A>,
    alpha: A,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    *dst.ptr.offset(i as isize * dst.rs + j as isize * dst.cs) = A::zero();
                }
            }
        }
        return;
    }
    let beta = accumulate.then(A::one);
    A::gemm(m, n, k, dst, lhs, rhs, alpha, beta, false);
}

/// Row-major matrix over a scratch slice.
fn mat<A>(s: &mut [A], rs: usize) -> Mat<A> {
    Mat {
        ptr: s.as_mut_ptr(),
        rs: rs as isize,
        cs: 1,
    }
}

/// The transpose of a row-major `rows x cols` scratch matrix.
fn mat_t<A>(s: &mut [A], cols: usize) -> Mat<A> {
    Mat {
        ptr: s.as_mut_ptr(),
        rs: 1,
        cs: cols as isize,
    }
}

/// Copies rows `r0..r0 + rows` (all `cols` columns) of head `(b, h)` of `src` into the
/// row-major `dst`, widened to the accumulation type.
unsafe fn load<T: Float>(
    src: Operand<T>,
    (b, h): (usize, usize),
    r0: usize,
    rows: usize,
    cols: usize,
    dst: &mut Vec<T::Acc>,
) {
    dst.clear();
    dst.reserve(rows * cols);
    for r in 0..rows {
        let row = src.at(b, h, r0 + r, 0);
        if src.geo.c == 1 {
            let s = std::slice::from_raw_parts(row, cols);
            dst.extend(s.iter().map(|x| x.to_acc()));
        } else {
            dst.extend((0..cols).map(|c| (*row.offset(c as isize * src.geo.c)).to_acc()));
        }
    }
}

/// Per-task scratch, reused across the task's tiles.
#[derive(Default)]
struct Scratch<A> {
    q: Vec<A>,
    k: Vec<A>,
    v: Vec<A>,
    g: Vec<A>,
    s: Vec<A>,
    dp: Vec<A>,
    acc: Vec<A>,
    acc2: Vec<A>,
    m: Vec<A>,
    sum: Vec<A>,
}

/// The `rows x cols` score tile of query rows `i0..` and keys `j0..` of head `(b, h)`:
/// `scale * q . k + bias`, `-inf` where the causal mask hides a key. `qt` and `kt` hold the
/// tiles (row-major, `e` columns).
#[allow(clippy::too_many_arguments)]
unsafe fn scores<T: Float>(
    d: &Dims,
    bias: Option<Operand<T>>,
    (b, h): (usize, usize),
    (i0, rows): (usize, usize),
    (j0, cols): (usize, usize),
    qt: &mut [T::Acc],
    kt: &mut [T::Acc],
    out: &mut Vec<T::Acc>,
) where
    T::Acc: GemmElem,
{
    out.clear();
    out.resize(rows * cols, T::Acc::zero());
    let alpha = <T::Acc as FloatMath>::from_f64(d.scale);
    mm(
        rows,
        cols,
        d.e,
        mat(out, cols),
        mat(qt, d.e),
        mat_t(kt, d.e),
        alpha,
        false,
    );
    if let Some(bias) = bias {
        for r in 0..rows {
            let row = bias.at(b, h, i0 + r, j0);
            for (c, x) in out[r * cols..][..cols].iter_mut().enumerate() {
                *x = *x + (*row.offset(c as isize * bias.geo.c)).to_acc();
            }
        }
    }
    if d.causal {
        let ninf = <T::Acc as FloatMath>::from_f64(f64::NEG_INFINITY);
        for r in 0..rows {
            // Row i sees keys j <= i: columns from i + 1 - j0 on are hidden.
            let first_hidden = (i0 + r + 1).saturating_sub(j0).min(cols);
            out[r * cols + first_hidden..(r + 1) * cols].fill(ninf);
        }
    }
}

/// `out (bh, l, ev)` and `lse (bh, l)`, both contiguous: softmax(scores) @ v and the rows'
/// logsumexp (`+inf` for a fully masked row, whose output is 0).
///
/// # Safety
/// Every operand must address a `(batch, heads or heads / groups, rows, cols)` view of the
/// sizes `d` gives; `out` and `lse` must be fresh buffers of `batch * heads * l * ev` and
/// `batch * heads * l` elements.
pub unsafe fn forward<T: Float>(d: &Dims, x: Inputs<T>, out: *mut T, lse: *mut T::Acc)
where
    T::Acc: GemmElem,
{
    let blocks = d.l.div_ceil(BQ);
    let tasks = d.batch * d.heads * blocks;
    let (out, lse) = (SendPtr(out), SendPtr(lse));
    let task = |t: usize, sc: &mut Scratch<T::Acc>| {
        let (bh, qb) = (t / blocks, t % blocks);
        let (b, h) = (bh / d.heads, bh % d.heads);
        let hk = h / d.groups;
        let (i0, rows) = (qb * BQ, BQ.min(d.l - qb * BQ));
        forward_block(d, x, (b, h, hk), (i0, rows), sc);
        let o = out.get().add((bh * d.l + i0) * d.ev);
        let ls = lse.get().add(bh * d.l + i0);
        let zero = T::Acc::zero();
        for r in 0..rows {
            let (m, sum) = (sc.m[r], sc.sum[r]);
            let orow = std::slice::from_raw_parts_mut(o.add(r * d.ev), d.ev);
            if sum == zero {
                // No key is visible: zeros, and an lse that makes every recomputed P zero.
                orow.fill(T::from_acc(zero));
                *ls.add(r) = <T::Acc as FloatMath>::from_f64(f64::INFINITY);
                continue;
            }
            let inv = T::Acc::one() / sum;
            for (y, &a) in orow.iter_mut().zip(&sc.acc[r * d.ev..][..d.ev]) {
                *y = T::from_acc(a * inv);
            }
            *ls.add(r) = m + sum.ln();
        }
    };
    run_tasks(tasks, d, task);
}

/// Runs `task(t, scratch)` for `t in 0..tasks`, in parallel when there is enough work.
fn run_tasks<A: Default + Send, F>(tasks: usize, d: &Dims, task: F)
where
    F: Fn(usize, &mut Scratch<A>) + Sync + Send,
{
    // Below about a million multiply-adds, threads cost more than they save.
    let work = d.batch * d.heads * d.l * d.s * (d.e + d.ev);
    if work < (1 << 20) || tasks < 2 || crate::cpu::threads() < 2 {
        let mut sc = Scratch::default();
        (0..tasks).for_each(|t| task(t, &mut sc));
    } else {
        crate::cpu::parallel_for_init(tasks, Scratch::default, |sc, t| task(t, sc));
    }
}

/// The online-softmax loop of one query block; leaves the unnormalised output in `sc.acc`
/// (`rows x ev`), the running maximum in `sc.m` and the sum in `sc.sum`.
unsafe fn forward_block<T: Float>(
    d: &Dims,
    x: Inputs<T>,
    (b, h, hk): (usize, usize, usize),
    (i0, rows): (usize, usize),
    sc: &mut Scratch<T::Acc>,
) where
    T::Acc: GemmElem,
{
    let zero = T::Acc::zero();
    let ninf = <T::Acc as FloatMath>::from_f64(f64::NEG_INFINITY);
    load(x.q, (b, h), i0, rows, d.e, &mut sc.q);
    sc.m.clear();
    sc.m.resize(rows, ninf);
    sc.sum.clear();
    sc.sum.resize(rows, zero);
    sc.acc.clear();
    sc.acc.resize(rows * d.ev, zero);
    let key_end = d.key_end(i0, rows);
    for j0 in (0..key_end).step_by(BK) {
        let cols = BK.min(key_end - j0);
        load(x.k, (b, hk), j0, cols, d.e, &mut sc.k);
        load(x.v, (b, hk), j0, cols, d.ev, &mut sc.v);
        scores(
            d,
            x.bias,
            (b, h),
            (i0, rows),
            (j0, cols),
            &mut sc.q,
            &mut sc.k,
            &mut sc.s,
        );
        for r in 0..rows {
            let row = &mut sc.s[r * cols..][..cols];
            let mx = row.iter().fold(ninf, |a, &v| a.max_(v));
            let m_new = sc.m[r].max_(mx);
            if m_new == ninf {
                // Nothing visible to this row yet: it adds nothing.
                row.fill(zero);
                continue;
            }
            let alpha = (sc.m[r] - m_new).exp();
            let mut s = zero;
            for v in row.iter_mut() {
                *v = (*v - m_new).exp();
                s = s + *v;
            }
            sc.sum[r] = sc.sum[r] * alpha + s;
            sc.m[r] = m_new;
            if alpha != T::Acc::one() {
                for a in &mut sc.acc[r * d.ev..][..d.ev] {
                    *a = *a * alpha;
                }
            }
        }
        let one = T::Acc::one();
        mm(
            rows,
            d.ev,
            cols,
            mat(&mut sc.acc, d.ev),
            mat(&mut sc.s, cols),
            mat(&mut sc.v, d.ev),
            one,
            true,
        );
    }
}

/// What backward reads besides the forward inputs.
#[derive(Clone, Copy)]
pub struct Saved<T: Float> {
    /// The output gradient, strided like the output.
    pub dout: Operand<T>,
    /// The forward's contiguous `(bh, l)` logsumexp.
    pub lse: *const T::Acc,
    /// `D = rowsum(dout * out)`, contiguous `(bh, l)`.
    pub delta: *const T::Acc,
}

// SAFETY: read-only addresses.
unsafe impl<T: Float> Send for Saved<T> {}
unsafe impl<T: Float> Sync for Saved<T> {}

impl<T: Float> Saved<T> {
    /// The logsumexp and D of `rows` rows from row `row0` (a method, so that closures capture
    /// the whole `Sync` struct rather than its raw pointers).
    unsafe fn rows(&self, row0: usize, rows: usize) -> (&[T::Acc], &[T::Acc]) {
        (
            std::slice::from_raw_parts(self.lse.add(row0), rows),
            std::slice::from_raw_parts(self.delta.add(row0), rows),
        )
    }
}

/// `D[bh, i] = sum_c dout[bh, i, c] * out[bh, i, c]` into the contiguous `delta`; `out` is
/// contiguous `(bh, l, ev)`.
///
/// # Safety
/// `dout` must address a `(batch, heads, l, ev)` view, `out` and `delta` buffers of
/// `batch * heads * l * ev` and `batch * heads * l` elements.
pub unsafe fn delta<T: Float>(d: &Dims, dout: Operand<T>, out: *const T, delta: *mut T::Acc)
where
    T::Acc: GemmElem,
{
    let rows = d.batch * d.heads * d.l;
    let (out, delta) = (SendPtr(out as *mut T), SendPtr(delta));
    let row = |i: usize| {
        let (bh, r) = (i / d.l, i % d.l);
        let (b, h) = (bh / d.heads, bh % d.heads);
        let g = dout.at(b, h, r, 0);
        let o = out.get().add(i * d.ev);
        let mut s = T::Acc::zero();
        for c in 0..d.ev {
            s = s + (*g.offset(c as isize * dout.geo.c)).to_acc() * (*o.add(c)).to_acc();
        }
        *delta.get().add(i) = s;
    };
    if rows * d.ev < (1 << 16) {
        (0..rows).for_each(row);
    } else {
        crate::cpu::parallel_ranges(rows, 64, |r| r.for_each(row));
    }
}

/// `P = exp(s - lse)` (0 where `s` is `-inf` or the row is fully masked) over the score tile
/// in `sc.s`, then `dP = dO @ V^T` into `sc.dp` and `dS = P * (dP - D)` over it.
unsafe fn probs_and_ds<T: Float>(
    d: &Dims,
    lse: &[T::Acc],
    delta: &[T::Acc],
    rows: usize,
    cols: usize,
    sc: &mut Scratch<T::Acc>,
) where
    T::Acc: GemmElem,
{
    // Tiles are never empty (cols >= 1), so the chunks are the rows.
    for (row, &l) in sc.s.chunks_mut(cols).take(rows).zip(lse) {
        for p in row {
            *p = (*p - l).exp();
        }
    }
    sc.dp.clear();
    sc.dp.resize(rows * cols, T::Acc::zero());
    mm(
        rows,
        cols,
        d.ev,
        mat(&mut sc.dp, cols),
        mat(&mut sc.g, d.ev),
        mat_t(&mut sc.v, d.ev),
        T::Acc::one(),
        false,
    );
    let rows_of = sc.dp.chunks_mut(cols).zip(sc.s.chunks(cols)).take(rows);
    for ((dsrow, prow), &dr) in rows_of.zip(delta) {
        for (ds, &p) in dsrow.iter_mut().zip(prow) {
            *ds = p * (*ds - dr);
        }
    }
}

/// Gradients of the inputs: `dq` contiguous `(batch, heads, l, e)`, `dk`/`dv` contiguous
/// `(batch, heads / groups, s, e or ev)`, and `dbias` (when given) contiguous
/// `(batch, heads, l, s)`, zero-filled by the caller (causally hidden tiles are not visited).
///
/// # Safety
/// As [`forward`]; `saved.lse` and `saved.delta` address `batch * heads * l` elements; the
/// outputs are fresh buffers of their sizes.
pub unsafe fn backward<T: Float>(
    d: &Dims,
    x: Inputs<T>,
    saved: Saved<T>,
    (dq, dk, dv): (*mut T, *mut T, *mut T),
    dbias: Option<*mut T>,
) where
    T::Acc: GemmElem,
{
    backward_kv(d, x, saved, dk, dv);
    backward_q(d, x, saved, dq, dbias);
}

/// Pass A: dK and dV, one task per (batch, key/value head, key block).
unsafe fn backward_kv<T: Float>(d: &Dims, x: Inputs<T>, saved: Saved<T>, dk: *mut T, dv: *mut T)
where
    T::Acc: GemmElem,
{
    let hkv = d.heads / d.groups;
    let blocks = d.s.div_ceil(BK);
    let (dk, dv) = (SendPtr(dk), SendPtr(dv));
    let task = |t: usize, sc: &mut Scratch<T::Acc>| {
        let (bh, kb) = (t / blocks, t % blocks);
        let (b, hk) = (bh / hkv, bh % hkv);
        let (j0, cols) = (kb * BK, BK.min(d.s - kb * BK));
        let zero = T::Acc::zero();
        load(x.k, (b, hk), j0, cols, d.e, &mut sc.k);
        load(x.v, (b, hk), j0, cols, d.ev, &mut sc.v);
        sc.acc.clear();
        sc.acc.resize(cols * d.e, zero);
        sc.acc2.clear();
        sc.acc2.resize(cols * d.ev, zero);
        // Causal: rows before j0 see none of these keys.
        let i_start = if d.causal { j0 } else { 0 };
        for h in hk * d.groups..(hk + 1) * d.groups {
            let row0 = (b * d.heads + h) * d.l;
            for i0 in (i_start..d.l).step_by(BQ) {
                let rows = BQ.min(d.l - i0);
                load(x.q, (b, h), i0, rows, d.e, &mut sc.q);
                load(saved.dout, (b, h), i0, rows, d.ev, &mut sc.g);
                scores(
                    d,
                    x.bias,
                    (b, h),
                    (i0, rows),
                    (j0, cols),
                    &mut sc.q,
                    &mut sc.k,
                    &mut sc.s,
                );
                let (lse, dl) = saved.rows(row0 + i0, rows);
                probs_and_ds::<T>(d, lse, dl, rows, cols, sc);
                let one = T::Acc::one();
                // dV += P^T @ dO
                mm(
                    cols,
                    d.ev,
                    rows,
                    mat(&mut sc.acc2, d.ev),
                    mat_t(&mut sc.s, cols),
                    mat(&mut sc.g, d.ev),
                    one,
                    true,
                );
                // dK += scale * dS^T @ Q
                mm(
                    cols,
                    d.e,
                    rows,
                    mat(&mut sc.acc, d.e),
                    mat_t(&mut sc.dp, cols),
                    mat(&mut sc.q, d.e),
                    <T::Acc as FloatMath>::from_f64(d.scale),
                    true,
                );
            }
        }
        let base = bh * d.s + j0;
        store::<T>(&sc.acc, dk.get().add(base * d.e));
        store::<T>(&sc.acc2, dv.get().add(base * d.ev));
    };
    run_tasks(d.batch * hkv * blocks, d, task);
}

/// Pass B: dQ (and dS as the bias gradient), one task per (batch, query head, query block).
unsafe fn backward_q<T: Float>(
    d: &Dims,
    x: Inputs<T>,
    saved: Saved<T>,
    dq: *mut T,
    dbias: Option<*mut T>,
) where
    T::Acc: GemmElem,
{
    let blocks = d.l.div_ceil(BQ);
    let dq = SendPtr(dq);
    let dbias = dbias.map(SendPtr);
    let task = |t: usize, sc: &mut Scratch<T::Acc>| {
        let (bh, qb) = (t / blocks, t % blocks);
        let (b, h) = (bh / d.heads, bh % d.heads);
        let hk = h / d.groups;
        let (i0, rows) = (qb * BQ, BQ.min(d.l - qb * BQ));
        let row0 = bh * d.l + i0;
        load(x.q, (b, h), i0, rows, d.e, &mut sc.q);
        load(saved.dout, (b, h), i0, rows, d.ev, &mut sc.g);
        let (lse, dl) = saved.rows(row0, rows);
        sc.acc.clear();
        sc.acc.resize(rows * d.e, T::Acc::zero());
        let key_end = d.key_end(i0, rows);
        for j0 in (0..key_end).step_by(BK) {
            let cols = BK.min(key_end - j0);
            load(x.k, (b, hk), j0, cols, d.e, &mut sc.k);
            load(x.v, (b, hk), j0, cols, d.ev, &mut sc.v);
            scores(
                d,
                x.bias,
                (b, h),
                (i0, rows),
                (j0, cols),
                &mut sc.q,
                &mut sc.k,
                &mut sc.s,
            );
            probs_and_ds::<T>(d, lse, dl, rows, cols, sc);
            // dQ += scale * dS @ K
            mm(
                rows,
                d.e,
                cols,
                mat(&mut sc.acc, d.e),
                mat(&mut sc.dp, cols),
                mat(&mut sc.k, d.e),
                <T::Acc as FloatMath>::from_f64(d.scale),
                true,
            );
            if let Some(db) = dbias {
                for r in 0..rows {
                    let dst = db.get().add((row0 + r) * d.s + j0);
                    store::<T>(&sc.dp[r * cols..][..cols], dst);
                }
            }
        }
        store::<T>(&sc.acc, dq.get().add(row0 * d.e));
    };
    run_tasks(d.batch * d.heads * blocks, d, task);
}

/// Narrows a scratch run into `dst`.
unsafe fn store<T: Float>(src: &[T::Acc], dst: *mut T) {
    let dst = std::slice::from_raw_parts_mut(dst, src.len());
    for (y, &a) in dst.iter_mut().zip(src) {
        *y = T::from_acc(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// softmax(q k^T * scale + causal) v by the definition, for one head.
    fn reference(q: &[f64], k: &[f64], v: &[f64], d: &Dims) -> Vec<f64> {
        let mut out = vec![0.0; d.l * d.ev];
        for i in 0..d.l {
            let s: Vec<f64> = (0..d.s)
                .map(|j| {
                    if d.causal && j > i {
                        f64::NEG_INFINITY
                    } else {
                        (0..d.e)
                            .map(|c| q[i * d.e + c] * k[j * d.e + c])
                            .sum::<f64>()
                            * d.scale
                    }
                })
                .collect();
            let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let p: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
            let z: f64 = p.iter().sum();
            for c in 0..d.ev {
                out[i * d.ev + c] = (0..d.s).map(|j| p[j] * v[j * d.ev + c]).sum::<f64>() / z;
            }
        }
        out
    }

    #[test]
    fn forward_matches_the_definition_across_tiles() {
        for causal in [false, true] {
            let d = Dims {
                batch: 1,
                heads: 1,
                groups: 1,
                l: 150,
                s: 130,
                e: 5,
                ev: 3,
                scale: 0.4,
                causal,
            };
            let f = |n: usize, m: usize| -> Vec<f64> {
                (0..n).map(|i| ((i * m) % 17) as f64 * 0.1 - 0.8).collect()
            };
            let (q, k, v) = (f(d.l * d.e, 7), f(d.s * d.e, 5), f(d.s * d.ev, 3));
            let op = |p: &Vec<f64>, cols: usize| Operand {
                ptr: p.as_ptr(),
                geo: Geo {
                    b: 0,
                    h: 0,
                    r: cols as isize,
                    c: 1,
                },
            };
            let x = Inputs {
                q: op(&q, d.e),
                k: op(&k, d.e),
                v: op(&v, d.ev),
                bias: None,
            };
            let mut out = vec![0.0; d.l * d.ev];
            let mut lse = vec![0.0; d.l];
            unsafe { forward(&d, x, out.as_mut_ptr(), lse.as_mut_ptr()) };
            let want = reference(&q, &k, &v, &d);
            for (a, b) in out.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
        }
    }
}
