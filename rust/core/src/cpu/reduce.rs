//! The reduction and scan engines. Every reduction op (sum, mean, max, argmax, var, norm ...)
//! is a [`Reducer`]: an accumulator with `init`/`acc`/`combine`/`finish`; the engine owns the
//! loops, the memory-access strategy and the threading, so each op is a few lines.
//!
//! Strategies, picked from the collapsed geometry:
//! - *runs*: each output element folds its reduced elements, whose innermost reduced dim is
//!   walked as one run; contiguous runs are folded in blocks of 32 independent lanes (the
//!   compiler vectorises them) combined pairwise over a tree of blocks, so float error grows
//!   with log(n), not n.
//! - *columns*: when the kept dims are innermost and contiguous (sum over dim 0 of a matrix)
//!   whole input rows are folded into a vector of accumulators, reading memory in order.

use super::iter::{SendPtr, PARALLEL_THRESHOLD};
use crate::element::Element;

/// A reduction: folds elements of type `T` (with their linear index inside the reduced
/// dims, which arg-reductions keep) into `Acc` and turns that into one output value.
pub trait Reducer<T>: Sync {
    type Acc: Copy + Send + Sync;
    type Out: Copy + Send;
    fn init(&self) -> Self::Acc;
    fn acc(&self, a: Self::Acc, x: T, idx: usize) -> Self::Acc;
    /// Merges two partial results; must not depend on which covers the earlier indices
    /// (arg-reductions break ties by index explicitly).
    fn combine(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    /// The output from the accumulator of `n` elements.
    fn finish(&self, a: Self::Acc, n: usize) -> Self::Out;
}

/// A [`Reducer`] made of closures, so most ops are one expression.
pub struct FnReducer<A, FA, FC, FF> {
    pub init: A,
    pub acc: FA,
    pub combine: FC,
    pub finish: FF,
}

/// Builds a [`FnReducer`]; the closures' types pin down the element and output types.
pub fn fold<T, A, O, FA, FC, FF>(
    init: A,
    acc: FA,
    combine: FC,
    finish: FF,
) -> FnReducer<A, FA, FC, FF>
where
    FA: Fn(A, T, usize) -> A + Sync,
    FC: Fn(A, A) -> A + Sync,
    FF: Fn(A, usize) -> O + Sync,
{
    FnReducer {
        init,
        acc,
        combine,
        finish,
    }
}

impl<T, A, O, FA, FC, FF> Reducer<T> for FnReducer<A, FA, FC, FF>
where
    A: Copy + Send + Sync,
    O: Copy + Send,
    FA: Fn(A, T, usize) -> A + Sync,
    FC: Fn(A, A) -> A + Sync,
    FF: Fn(A, usize) -> O + Sync,
{
    type Acc = A;
    type Out = O;
    #[inline(always)]
    fn init(&self) -> A {
        self.init
    }
    #[inline(always)]
    fn acc(&self, a: A, x: T, idx: usize) -> A {
        (self.acc)(a, x, idx)
    }
    #[inline(always)]
    fn combine(&self, a: A, b: A) -> A {
        (self.combine)(a, b)
    }
    #[inline(always)]
    fn finish(&self, a: A, n: usize) -> O {
        (self.finish)(a, n)
    }
}

/// Input geometry split into kept (output) dims and reduced dims, each group with size-1 dims
/// dropped and neighbours fused where memory allows. Row-major order inside each group is kept,
/// so output linear indices and arg-reduction indices are unchanged by the collapsing.
#[derive(Clone, Debug)]
pub struct ReduceGeometry {
    pub kept_shape: Vec<usize>,
    pub kept_strides: Vec<isize>,
    pub red_shape: Vec<usize>,
    pub red_strides: Vec<isize>,
}

fn collapse(dims: impl Iterator<Item = (usize, isize)>) -> (Vec<usize>, Vec<isize>) {
    let (mut shape, mut strides): (Vec<usize>, Vec<isize>) = (Vec::new(), Vec::new());
    for (s, st) in dims {
        if s == 1 {
            continue;
        }
        if let (Some(ls), Some(&lst)) = (shape.last_mut(), strides.last()) {
            if lst == st * s as isize {
                *ls *= s;
                if let Some(l) = strides.last_mut() {
                    *l = st;
                }
                continue;
            }
        }
        shape.push(s);
        strides.push(st);
    }
    (shape, strides)
}

impl ReduceGeometry {
    /// `reduce[d]` says whether dim `d` is reduced.
    pub fn new(shape: &[usize], strides: &[isize], reduce: &[bool]) -> Self {
        let pick = |want: bool| {
            collapse(
                (0..shape.len())
                    .filter(move |&d| reduce[d] == want)
                    .map(|d| (shape[d], strides[d])),
            )
        };
        let (kept_shape, kept_strides) = pick(false);
        let (red_shape, red_strides) = pick(true);
        ReduceGeometry {
            kept_shape,
            kept_strides,
            red_shape,
            red_strides,
        }
    }

    pub fn out_numel(&self) -> usize {
        self.kept_shape.iter().product()
    }
    pub fn red_numel(&self) -> usize {
        self.red_shape.iter().product()
    }
}

/// Offset of linear index `pos` in a row-major walk of `shape` with `strides`.
#[inline]
fn offset_of(mut pos: usize, shape: &[usize], strides: &[isize]) -> isize {
    let mut off = 0isize;
    for d in (0..shape.len()).rev() {
        off += (pos % shape[d]) as isize * strides[d];
        pos /= shape[d];
    }
    off
}

/// Independent accumulators per contiguous run: a sum's adds each wait on the previous one
/// into the same lane (~4 cycles), so 8 lanes (two SSE vectors) left the loop latency-bound at
/// about a third of memory bandwidth; 32 lanes keep eight vector adds in flight.
const LANES: usize = 32;
/// Elements folded by one set of lanes before results are combined pairwise.
const BLOCK: usize = 4096;

/// Nodes of the fold tree at least this long are split across threads.
const PARALLEL_NODE: usize = 4 * PARALLEL_THRESHOLD;

/// Folds a contiguous slice: independent lanes per block, blocks combined as a tree. The
/// subtrees below [`PARALLEL_NODE`] elements are folded on the team when the slice is long;
/// the tree does not depend on the thread count, so neither does the result.
fn fold_contig<T: Element, R: Reducer<T>>(r: &R, xs: &[T], base: usize) -> R::Acc {
    if xs.len() < PARALLEL_NODE || crate::cpu::threads() <= 1 {
        return fold_tree(r, xs, base);
    }
    let mut leaves = Vec::new();
    tree_leaves(0, xs.len(), &mut leaves);
    // One contiguous run of leaves per thread, as torch splits a sum: each thread then streams
    // its own part of memory.
    let parts = crate::cpu::threads().min(leaves.len());
    let folded: Vec<Vec<R::Acc>> = crate::cpu::parallel_map(parts, |p| {
        let run = &leaves[p * leaves.len() / parts..(p + 1) * leaves.len() / parts];
        run.iter()
            .map(|&(start, len)| fold_tree(r, &xs[start..start + len], base + start))
            .collect()
    });
    combine_leaves(r, xs.len(), &mut folded.into_iter().flatten())
}

/// Where a node of `len` elements splits: its first half, in whole blocks.
fn tree_half(len: usize) -> usize {
    ((len / 2).div_ceil(BLOCK) * BLOCK).min(len)
}

/// The `(start, len)` of the tree's nodes under [`PARALLEL_NODE`] elements, in order.
fn tree_leaves(start: usize, len: usize, out: &mut Vec<(usize, usize)>) {
    if len < PARALLEL_NODE {
        return out.push((start, len));
    }
    let half = tree_half(len);
    tree_leaves(start, half, out);
    tree_leaves(start + half, len - half, out);
}

/// Combines the leaves' results (in order) as [`fold_tree`] would have.
fn combine_leaves<T: Element, R: Reducer<T>>(
    r: &R,
    len: usize,
    folded: &mut impl Iterator<Item = R::Acc>,
) -> R::Acc {
    if len < PARALLEL_NODE {
        return folded.next().expect("one result per leaf");
    }
    let half = tree_half(len);
    let a = combine_leaves(r, half, folded);
    r.combine(a, combine_leaves(r, len - half, folded))
}

/// The fold tree, serially: halves down to blocks of [`BLOCK`] elements.
fn fold_tree<T: Element, R: Reducer<T>>(r: &R, xs: &[T], base: usize) -> R::Acc {
    if xs.len() <= BLOCK {
        return fold_lanes(r, xs, base);
    }
    let half = tree_half(xs.len());
    let a = fold_tree(r, &xs[..half], base);
    r.combine(a, fold_tree(r, &xs[half..], base + half))
}

/// Lanes of one vector of accumulators (8 f32 make an AVX2 register).
const VEC: usize = 8;

/// One block into [`LANES`] lanes (lane `k` folds elements `k`, `k + LANES`, ...), combined
/// pairwise; compiled for AVX2 where the CPU has it. Both builds do the same operations in the
/// same order, so results are bit-identical (and Rust never contracts `a * b + c` into an FMA).
fn fold_lanes<T: Element, R: Reducer<T>>(r: &R, xs: &[T], base: usize) -> R::Acc {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { fold_lanes_avx2(r, xs, base) };
    }
    combine_lanes(r, fold_lanes_body(r, xs, base))
}

/// [`fold_lanes`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_lanes_avx2<T: Element, R: Reducer<T>>(r: &R, xs: &[T], base: usize) -> R::Acc {
    combine_lanes_avx2(r, fold_lanes_body(r, xs, base))
}

/// The lanes are held as vectors of [`VEC`], and the pairwise combine and the tail are separate
/// functions: with one flat array, or either of them inlined, LLVM vectorised the loop with its
/// lanes permuted, three shuffles per vector add (`perf annotate`); this way the loop is one
/// load and add per vector.
#[inline(always)]
fn fold_lanes_body<T: Element, R: Reducer<T>>(r: &R, xs: &[T], base: usize) -> [R::Acc; LANES] {
    let mut vecs = [[r.init(); VEC]; LANES / VEC];
    let chunks = xs.chunks_exact(LANES);
    let rem = chunks.remainder();
    let mut i0 = base;
    for ch in chunks {
        for (v, acc) in vecs.iter_mut().enumerate() {
            for (l, a) in acc.iter_mut().enumerate() {
                let k = v * VEC + l;
                *a = r.acc(*a, ch[k], i0 + k);
            }
        }
        i0 += LANES;
    }
    let mut acc = [r.init(); LANES];
    for (k, a) in acc.iter_mut().enumerate() {
        *a = vecs[k / VEC][k % VEC];
    }
    fold_tail(r, &mut acc, rem, i0);
    acc
}

/// The last `< LANES` elements into the first lanes. Out of line: inlined, this loop led LLVM
/// to vectorise the main loop with its lanes rotated by one element, three shuffles per vector
/// add (`perf annotate` of the f32 sum), which halved its speed on data in cache.
#[inline(never)]
fn fold_tail<T: Element, R: Reducer<T>>(r: &R, acc: &mut [R::Acc; LANES], rem: &[T], i0: usize) {
    for (k, &x) in rem.iter().enumerate() {
        acc[k] = r.acc(acc[k], x, i0 + k);
    }
}

/// The lanes combined pairwise, so their rounding errors stay balanced.
#[inline(never)]
fn combine_lanes<T, R: Reducer<T>>(r: &R, acc: [R::Acc; LANES]) -> R::Acc {
    combine_lanes_body(r, acc)
}

/// [`combine_lanes`] compiled for AVX2 (a fifth of a block's time on data in cache otherwise).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
unsafe fn combine_lanes_avx2<T, R: Reducer<T>>(r: &R, acc: [R::Acc; LANES]) -> R::Acc {
    combine_lanes_body(r, acc)
}

#[inline(always)]
fn combine_lanes_body<T, R: Reducer<T>>(r: &R, mut acc: [R::Acc; LANES]) -> R::Acc {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            acc[k] = r.combine(acc[k], acc[k + width]);
        }
    }
    acc[0]
}

/// Folds a strided run of `len` elements starting at `p`.
///
/// # Safety
/// `p + i * stride` must be readable for `i < len`.
unsafe fn fold_run<T: Element, R: Reducer<T>>(
    r: &R,
    p: *const T,
    len: usize,
    stride: isize,
    base: usize,
) -> R::Acc {
    if stride == 1 {
        return fold_contig(r, std::slice::from_raw_parts(p, len), base);
    }
    // Strided: still several lanes so long runs keep some accuracy and parallelism in the core.
    let mut acc = [r.init(); 4];
    let mut i = 0;
    while i + 4 <= len {
        for (k, a) in acc.iter_mut().enumerate() {
            *a = r.acc(*a, *p.offset((i + k) as isize * stride), base + i + k);
        }
        i += 4;
    }
    while i < len {
        acc[0] = r.acc(acc[0], *p.offset(i as isize * stride), base + i);
        i += 1;
    }
    r.combine(r.combine(acc[0], acc[1]), r.combine(acc[2], acc[3]))
}

/// All reduced elements behind the input position `p` (an output element's base).
unsafe fn fold_output<T: Element, R: Reducer<T>>(r: &R, g: &ReduceGeometry, p: *const T) -> R::Acc {
    let nd = g.red_shape.len();
    if nd == 0 {
        return r.acc(r.init(), *p, 0);
    }
    let (inner, inner_stride) = (g.red_shape[nd - 1], g.red_strides[nd - 1]);
    let outer: usize = g.red_shape[..nd - 1].iter().product();
    let mut acc = r.init();
    for o in 0..outer {
        let off = offset_of(o, &g.red_shape[..nd - 1], &g.red_strides[..nd - 1]);
        acc = r.combine(
            acc,
            fold_run(r, p.offset(off), inner, inner_stride, o * inner),
        );
    }
    acc
}

/// Reduces `x` (element 0 of the viewed input) over the geometry, writing `out_numel` results
/// to the contiguous `out` in row-major order of the kept dims.
///
/// # Safety
/// `g` must describe a view inside `x`'s allocation and `out` must hold `g.out_numel()` values.
pub unsafe fn reduce<T: Element, R: Reducer<T>>(
    x: *const T,
    g: &ReduceGeometry,
    r: &R,
    out: *mut R::Out,
) {
    let n_out = g.out_numel();
    let n_red = g.red_numel();
    if n_out == 0 {
        return;
    }
    let (xp, op) = (SendPtr(x as *mut T), SendPtr(out));
    if n_red == 0 {
        for i in 0..n_out {
            *out.add(i) = r.finish(r.init(), 0);
        }
        return;
    }
    let nk = g.kept_shape.len();
    let red_inner_stride = g.red_strides.last().copied().unwrap_or(1);
    if nk > 0 && g.kept_strides[nk - 1] == 1 && red_inner_stride != 1 {
        return reduce_columns(xp, g, r, op);
    }
    let total = n_out.saturating_mul(n_red);
    let per_out = |i: usize| unsafe {
        let p = xp
            .get()
            .offset(offset_of(i, &g.kept_shape, &g.kept_strides));
        *op.get().add(i) = r.finish(fold_output(r, g, p), n_red);
    };
    if total >= PARALLEL_THRESHOLD && n_out > 1 {
        let chunk = (PARALLEL_THRESHOLD / n_red).max(1);
        crate::cpu::parallel_ranges(n_out, chunk, |r| r.for_each(per_out));
    } else {
        (0..n_out).for_each(per_out);
    }
}

/// Column strategy: the innermost kept dim is contiguous, so fold input rows into a vector of
/// accumulators. Rows are folded in groups whose partial results are combined, which bounds
/// float error growth for tall inputs.
unsafe fn reduce_columns<T: Element, R: Reducer<T>>(
    xp: SendPtr<T>,
    g: &ReduceGeometry,
    r: &R,
    op: SendPtr<R::Out>,
) {
    const WIDTH: usize = 2048;
    const ROWS: usize = 128;
    let nk = g.kept_shape.len();
    let inner = g.kept_shape[nk - 1];
    let outer_kept: usize = g.kept_shape[..nk - 1].iter().product();
    let n_red = g.red_numel();
    let col_chunks = inner.div_ceil(WIDTH);
    let task = |t: usize| unsafe {
        let (ko, cc) = (t / col_chunks, t % col_chunks);
        let c0 = cc * WIDTH;
        let w = WIDTH.min(inner - c0);
        let base = xp.get().offset(
            offset_of(ko, &g.kept_shape[..nk - 1], &g.kept_strides[..nk - 1]) + c0 as isize,
        );
        let mut total = vec![r.init(); w];
        let mut part = vec![r.init(); w];
        let mut row = 0;
        while row < n_red {
            let end = (row + ROWS).min(n_red);
            part.iter_mut().for_each(|a| *a = r.init());
            for ri in row..end {
                let rp = base.offset(offset_of(ri, &g.red_shape, &g.red_strides));
                let xs = std::slice::from_raw_parts(rp, w);
                for (a, &x) in part.iter_mut().zip(xs) {
                    *a = r.acc(*a, x, ri);
                }
            }
            for (t, &p) in total.iter_mut().zip(&part) {
                *t = r.combine(*t, p);
            }
            row = end;
        }
        let o = op.get().add(ko * inner + c0);
        for (j, &a) in total.iter().enumerate() {
            *o.add(j) = r.finish(a, n_red);
        }
    };
    let tasks = outer_kept * col_chunks;
    if outer_kept * inner * n_red >= PARALLEL_THRESHOLD && tasks > 1 {
        crate::cpu::parallel_items(tasks, WIDTH.min(inner) * n_red, task);
    } else {
        (0..tasks).for_each(task);
    }
}

/// A scan (cumsum, cummax ...) along the middle dim of a contiguous `[outer, n, inner]` input,
/// writing a contiguous output of the same shape. `step(state, x, i)` returns the new state
/// and the value written; rows of `inner` are processed together so they vectorise.
///
/// # Safety
/// `x` and `out` must hold `outer * n * inner` elements.
pub unsafe fn scan<T: Element, S: Copy + Send + Sync, O: Copy + Send>(
    x: *const T,
    out: *mut O,
    (outer, n, inner): (usize, usize, usize),
    init: S,
    step: impl Fn(S, T, usize) -> (S, O) + Sync,
) {
    let (xp, op) = (SendPtr(x as *mut T), SendPtr(out));
    let line = |o: usize| unsafe {
        let mut state = vec![init; inner];
        for i in 0..n {
            let off = (o * n + i) * inner;
            let xs = std::slice::from_raw_parts(xp.get().add(off), inner);
            let os = std::slice::from_raw_parts_mut(op.get().add(off), inner);
            for ((s, y), &v) in state.iter_mut().zip(os.iter_mut()).zip(xs) {
                let (ns, val) = step(*s, v, i);
                *s = ns;
                *y = val;
            }
        }
    };
    if outer > 1 && outer * n * inner >= PARALLEL_THRESHOLD {
        let chunk = (PARALLEL_THRESHOLD / (n * inner).max(1)).max(1);
        crate::cpu::parallel_ranges(outer, chunk, |r| r.for_each(line));
    } else {
        (0..outer).for_each(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sum;
    impl Reducer<f32> for Sum {
        type Acc = f32;
        type Out = f32;
        fn init(&self) -> f32 {
            0.0
        }
        fn acc(&self, a: f32, x: f32, _: usize) -> f32 {
            a + x
        }
        fn combine(&self, a: f32, b: f32) -> f32 {
            a + b
        }
        fn finish(&self, a: f32, _: usize) -> f32 {
            a
        }
    }

    fn run(shape: &[usize], strides: &[isize], mask: &[bool], data: &[f32]) -> Vec<f32> {
        let g = ReduceGeometry::new(shape, strides, mask);
        let mut out = vec![0.0; g.out_numel()];
        unsafe { reduce(data.as_ptr(), &g, &Sum, out.as_mut_ptr()) };
        out
    }

    #[test]
    fn rows_columns_and_all() {
        let data: Vec<f32> = (0..12).map(|i| i as f32).collect();
        assert_eq!(
            run(&[3, 4], &[4, 1], &[false, true], &data),
            vec![6.0, 22.0, 38.0]
        );
        assert_eq!(
            run(&[3, 4], &[4, 1], &[true, false], &data),
            vec![12.0, 15.0, 18.0, 21.0]
        );
        assert_eq!(run(&[3, 4], &[4, 1], &[true, true], &data), vec![66.0]);
        // Transposed view: sum over its rows is a column sum of the storage.
        assert_eq!(
            run(&[4, 3], &[1, 4], &[false, true], &data),
            vec![12.0, 15.0, 18.0, 21.0]
        );
    }

    #[test]
    fn parallel_fold_is_the_serial_tree() {
        // Values whose sum depends on the order of additions.
        let data: Vec<f32> = (0..3_000_017u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 8) as f32 - 8e6) * 1e-3)
            .collect();
        for len in [PARALLEL_NODE, PARALLEL_NODE + 1, 1_000_003, data.len()] {
            let xs = &data[..len];
            let serial = fold_tree(&Sum, xs, 0);
            assert_eq!(
                fold_contig(&Sum, xs, 0).to_bits(),
                serial.to_bits(),
                "{len}"
            );
        }
    }

    #[test]
    fn long_sum_is_accurate() {
        let data = vec![0.1f32; 10_000_000];
        let s = run(&[data.len()], &[1], &[true], &data)[0] as f64;
        let exact = 0.1f32 as f64 * 1e7;
        assert!((s - exact).abs() / exact < 1e-6, "{s}");
    }
}
