//! Matrix-product kernels: `dst = beta * dst + alpha * lhs @ rhs` over strided, batched,
//! possibly broadcast (stride 0) operands.
//!
//! f32/f64/f16 go straight to the `gemm` crate with the operands' own strides (it packs
//! whatever layout it gets, so transposed or sliced views need no copy here); bf16 is widened
//! to f32 around the f32 kernel; integers use a cache-blocked loop with wrapping arithmetic,
//! as torch's CPU fallback does. Parallelism (on the process's team, `cpu::threads`): a large
//! product is split over the threads, small ones run single-threaded (spawning costs more
//! than a 32x32 product), batches in parallel when each matrix is small but there are many.

use super::iter::SendPtr;
use crate::element::Element;
use gemm::Parallelism;
use half::{bf16, f16};

/// Products with fewer multiply-adds than this run on the calling thread.
pub const PARALLEL_FLOPS: usize = 1 << 20;

/// One matrix operand: pointer to element `[0, 0]`, row stride and column stride (elements).
#[derive(Clone, Copy, Debug)]
pub struct Mat<T> {
    pub ptr: *mut T,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: a Mat is an address plus strides; kernels that share one across threads write
// disjoint elements through it (the same contract as `SendPtr`).
unsafe impl<T> Send for Mat<T> {}
unsafe impl<T> Sync for Mat<T> {}

impl<T> Mat<T> {
    /// Pointer to element `[i, j]`.
    #[inline(always)]
    unsafe fn at(self, i: usize, j: usize) -> *mut T {
        self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }
    #[inline(always)]
    fn shifted(self, off: isize) -> Mat<T> {
        Mat {
            ptr: self.ptr.wrapping_offset(off),
            ..self
        }
    }
}

/// Element types with a matrix-product kernel.
pub trait GemmElem: Element {
    /// `dst (m x n) = beta * dst + alpha * lhs (m x k) @ rhs (k x n)`; with `beta = None`
    /// `dst` is only written (NaNs in it do not propagate, as torch's `beta=0`).
    ///
    /// # Safety
    /// All three views must lie inside their allocations; `dst` must not overlap the inputs
    /// and must not map two indices to one address.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        dst: Mat<Self>,
        lhs: Mat<Self>,
        rhs: Mat<Self>,
        alpha: Self,
        beta: Option<Self>,
        parallel: bool,
    );
}

fn parallelism(parallel: bool) -> Parallelism {
    if parallel {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    }
}

macro_rules! gemm_crate_elem {
    ($t:ty) => {
        impl GemmElem for $t {
            unsafe fn gemm(
                m: usize,
                n: usize,
                k: usize,
                dst: Mat<Self>,
                lhs: Mat<Self>,
                rhs: Mat<Self>,
                alpha: Self,
                beta: Option<Self>,
                parallel: bool,
            ) {
                // The crate's naming is the other way round: its `alpha` scales dst, its
                // `beta` the product.
                gemm::gemm(
                    m,
                    n,
                    k,
                    dst.ptr,
                    dst.cs,
                    dst.rs,
                    beta.is_some(),
                    lhs.ptr as *const $t,
                    lhs.cs,
                    lhs.rs,
                    rhs.ptr as *const $t,
                    rhs.cs,
                    rhs.rs,
                    beta.unwrap_or(<$t as Element>::zero()),
                    alpha,
                    false,
                    false,
                    false,
                    parallelism(parallel),
                )
            }
        }
    };
}
gemm_crate_elem!(f32);
gemm_crate_elem!(f64);
gemm_crate_elem!(f16);

/// Copies an `r x c` strided matrix into a row-major f32 buffer.
unsafe fn widen(src: Mat<bf16>, r: usize, c: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(r * c);
    for i in 0..r {
        if src.cs == 1 {
            let row = std::slice::from_raw_parts(src.at(i, 0) as *const bf16, c);
            out.extend(row.iter().map(|v| v.to_f32()));
        } else {
            out.extend((0..c).map(|j| (*src.at(i, j)).to_f32()));
        }
    }
    out
}

impl GemmElem for bf16 {
    unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        dst: Mat<Self>,
        lhs: Mat<Self>,
        rhs: Mat<Self>,
        alpha: Self,
        beta: Option<Self>,
        parallel: bool,
    ) {
        // No bf16 kernel in the crate: compute in f32 and round once at the end, which is
        // also what torch's CPU kernels (f32 accumulation) give.
        let mut a = widen(lhs, m, k);
        let mut b = widen(rhs, k, n);
        let mut d = if beta.is_some() {
            widen(dst, m, n)
        } else {
            vec![0.0f32; m * n]
        };
        let mat = |p: &mut Vec<f32>, cols: usize| Mat {
            ptr: p.as_mut_ptr(),
            rs: cols as isize,
            cs: 1,
        };
        let (da, ma, mb) = (mat(&mut d, n), mat(&mut a, k), mat(&mut b, n));
        f32::gemm(
            m,
            n,
            k,
            da,
            ma,
            mb,
            alpha.to_f32(),
            beta.map(|v| v.to_f32()),
            parallel,
        );
        for i in 0..m {
            for j in 0..n {
                *dst.at(i, j) = bf16::from_f32(d[i * n + j]);
            }
        }
    }
}

/// Wrapping integer arithmetic (torch's integer matmul overflows silently).
pub trait WrappingInt: Element {
    fn wadd(self, o: Self) -> Self;
    fn wmul(self, o: Self) -> Self;
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl WrappingInt for $t {
            #[inline(always)]
            fn wadd(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)]
            fn wmul(self, o: Self) -> Self { self.wrapping_mul(o) }
        }
        impl GemmElem for $t {
            unsafe fn gemm(
                m: usize, n: usize, k: usize,
                dst: Mat<Self>, lhs: Mat<Self>, rhs: Mat<Self>,
                alpha: Self, beta: Option<Self>, parallel: bool,
            ) {
                int_gemm(m, n, k, dst, lhs, rhs, alpha, beta, parallel)
            }
        }
    )*};
}
int_elem!(u8, i8, i16, i32, i64);

/// Bytes of `rhs` one column block may occupy: about half an L2 cache.
const INT_BLOCK_BYTES: usize = 256 * 1024;
/// Rows of `dst` per parallel task.
const INT_ROWS_PER_TASK: usize = 16;

/// The integer kernel: `rhs` made row-major (copied if its rows are strided), then for each
/// block of columns that fits in cache, each row of `dst` accumulates `lhs[i, p] * rhs[p, :]`
/// over `p` into a contiguous buffer -- an axpy the compiler vectorises.
#[allow(clippy::too_many_arguments)]
unsafe fn int_gemm<T: WrappingInt>(
    m: usize,
    n: usize,
    k: usize,
    dst: Mat<T>,
    lhs: Mat<T>,
    rhs: Mat<T>,
    alpha: T,
    beta: Option<T>,
    parallel: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    let packed: Vec<T>;
    let (rp, rrs) = if rhs.cs == 1 {
        (SendPtr(rhs.ptr), rhs.rs)
    } else {
        packed = (0..k)
            .flat_map(|p| (0..n).map(move |j| *rhs.at(p, j)))
            .collect();
        (SendPtr(packed.as_ptr() as *mut T), n as isize)
    };
    let nc = (INT_BLOCK_BYTES / (k.max(1) * std::mem::size_of::<T>())).clamp(16, n.max(16));
    let rows = |r0: usize, r1: usize, acc: &mut Vec<T>| {
        let mut j0 = 0;
        while j0 < n {
            let w = nc.min(n - j0);
            for i in r0..r1 {
                acc.clear();
                acc.resize(w, T::zero());
                for p in 0..k {
                    let a = *lhs.at(i, p);
                    if a == T::zero() {
                        continue;
                    }
                    let b = std::slice::from_raw_parts(
                        rp.get().offset(p as isize * rrs + j0 as isize),
                        w,
                    );
                    for (c, &bv) in acc.iter_mut().zip(b) {
                        *c = c.wadd(a.wmul(bv));
                    }
                }
                for (j, &c) in acc.iter().enumerate() {
                    let d = dst.at(i, j0 + j);
                    let prod = alpha.wmul(c);
                    *d = match beta {
                        None => prod,
                        Some(b) => b.wmul(*d).wadd(prod),
                    };
                }
            }
            j0 += w;
        }
    };
    if parallel && m > INT_ROWS_PER_TASK {
        let tasks = m.div_ceil(INT_ROWS_PER_TASK);
        super::parallel_for_init(tasks, Vec::new, |acc, t| {
            let r0 = t * INT_ROWS_PER_TASK;
            rows(r0, (r0 + INT_ROWS_PER_TASK).min(m), acc)
        });
    } else {
        rows(0, m, &mut Vec::new());
    }
}

/// Rows (or columns) of one thread's slice of a parallel product are a multiple of this,
/// so every slice keeps whole micro-kernel tiles.
const SPLIT_ALIGN: usize = 16;

/// One product on every thread of the team: `dst` is cut into a grid of `gm x gn` blocks, one
/// per thread, each a single-threaded gemm. A block packs its own rows of `lhs` and columns of
/// `rhs`, so the grid is the factor pair of the thread count that packs least
/// (`gn * m * k + gm * k * n`), a slab of rows (or columns) when there is no better one. On two
/// threads that is a slab each; on 16 a 4x4 grid packs half of what 16 slabs do (matmul 1024
/// f32 on a 16-core Xeon: 0.68x -> 0.91x torch's speed). The crate's own rayon mode, which
/// shares the packing, left threads idle: 0.49-0.73x there.
///
/// # Safety
/// As [`GemmElem::gemm`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn split_gemm<T: GemmElem>(
    m: usize,
    n: usize,
    k: usize,
    d: Mat<T>,
    l: Mat<T>,
    r: Mat<T>,
    alpha: T,
    beta: Option<T>,
) {
    let (gm, gn) = grid(m, n, super::threads());
    let rows = m.div_ceil(gm).next_multiple_of(SPLIT_ALIGN);
    let cols = n.div_ceil(gn).next_multiple_of(SPLIT_ALIGN);
    let (bm, bn) = (m.div_ceil(rows), n.div_ceil(cols));
    super::parallel_for(bm * bn, |t| {
        let (r0, c0) = ((t / bn) * rows, (t % bn) * cols);
        let (r1, c1) = ((r0 + rows).min(m), (c0 + cols).min(n));
        let (ri, ci) = (r0 as isize, c0 as isize);
        T::gemm(
            r1 - r0,
            c1 - c0,
            k,
            d.shifted(ri * d.rs + ci * d.cs),
            l.shifted(ri * l.rs),
            r.shifted(ci * r.cs),
            alpha,
            beta,
            false,
        );
    });
}

/// [`split_gemm`]'s grid for `threads`: the `(gm, gn)` with `gm * gn = threads` that packs
/// least, starting from slabs along the longer side (kept on ties).
fn grid(m: usize, n: usize, threads: usize) -> (usize, usize) {
    let t = threads.max(1);
    let packed = |(gm, gn): (usize, usize)| gn * m + gm * n;
    let slabs = if m >= n { (t, 1) } else { (1, t) };
    (1..=t)
        .filter(|a| t % a == 0)
        .map(|a| (a, t / a))
        .fold(
            slabs,
            |best, g| if packed(g) < packed(best) { g } else { best },
        )
}

/// A batched matrix operand: [`Mat`] plus one stride per batch dimension.
#[derive(Clone, Debug)]
pub struct Batched<T> {
    pub mat: Mat<T>,
    pub batch_strides: Vec<isize>,
}

/// Drops size-1 batch dims and fuses neighbours that every operand steps through as one.
fn collapse_batch<T>(batch: &[usize], ops: &mut [&mut Batched<T>; 3]) -> Vec<usize> {
    let mut shape: Vec<usize> = Vec::with_capacity(batch.len());
    let mut strides: [Vec<isize>; 3] = Default::default();
    for (d, &size) in batch.iter().enumerate() {
        if size == 1 {
            continue;
        }
        let fusable = !shape.is_empty()
            && (0..3).all(|o| {
                strides[o].last().copied() == Some(ops[o].batch_strides[d] * size as isize)
            });
        if fusable {
            let last = shape.len() - 1;
            shape[last] *= size;
            for o in 0..3 {
                strides[o][last] = ops[o].batch_strides[d];
            }
        } else {
            shape.push(size);
            for o in 0..3 {
                strides[o].push(ops[o].batch_strides[d]);
            }
        }
    }
    for (o, s) in strides.into_iter().enumerate() {
        ops[o].batch_strides = s;
    }
    shape
}

/// `dst[b] = beta * dst[b] + alpha * lhs[b] @ rhs[b]` for every batch index `b` of `batch`.
///
/// Batch dims over which `rhs` is broadcast (stride 0) and `lhs`/`dst` step by whole matrices
/// are folded into `m`, so `(B, m, k) @ (k, n)` is one large product, not `B` small ones.
///
/// # Safety
/// Every operand, at every batch index, must lie inside its allocation; `dst` must not
/// overlap the inputs nor itself across batch indices.
#[allow(clippy::too_many_arguments)]
pub unsafe fn batched_gemm<T: GemmElem>(
    batch: &[usize],
    mut m: usize,
    n: usize,
    k: usize,
    mut dst: Batched<T>,
    mut lhs: Batched<T>,
    mut rhs: Batched<T>,
    alpha: T,
    beta: Option<T>,
) {
    let mut shape = collapse_batch(batch, &mut [&mut dst, &mut lhs, &mut rhs]);
    if m == 0 || n == 0 || shape.contains(&0) {
        return;
    }
    while let Some(&size) = shape.last() {
        let (ls, ds, rs) = (
            *lhs.batch_strides.last().unwrap_or(&0),
            *dst.batch_strides.last().unwrap_or(&0),
            *rhs.batch_strides.last().unwrap_or(&0),
        );
        let fold =
            rs == 0 && (m == 1 || (ls == m as isize * lhs.mat.rs && ds == m as isize * dst.mat.rs));
        if !fold {
            break;
        }
        if m == 1 {
            lhs.mat.rs = ls;
            dst.mat.rs = ds;
        }
        m *= size;
        shape.pop();
        lhs.batch_strides.pop();
        dst.batch_strides.pop();
        rhs.batch_strides.pop();
    }
    let count: usize = shape.iter().product();
    let work = m.saturating_mul(n).saturating_mul(k.max(1));
    let offsets = |mut b: usize| {
        let mut off = [0isize; 3];
        for d in (0..shape.len()).rev() {
            let i = (b % shape[d]) as isize;
            b /= shape[d];
            off[0] += i * dst.batch_strides[d];
            off[1] += i * lhs.batch_strides[d];
            off[2] += i * rhs.batch_strides[d];
        }
        off
    };
    let (dm, lm, rm) = (dst.mat, lhs.mat, rhs.mat);
    let one = |b: usize, parallel: bool| {
        let off = offsets(b);
        let (d, l, r) = (dm.shifted(off[0]), lm.shifted(off[1]), rm.shifted(off[2]));
        if parallel {
            split_gemm(m, n, k, d, l, r, alpha, beta);
        } else {
            T::gemm(m, n, k, d, l, r, alpha, beta, false);
        }
    };
    let big = work >= PARALLEL_FLOPS;
    let many = count > 1 && count.saturating_mul(work) >= PARALLEL_FLOPS;
    if super::threads() <= 1 || !(big || many) {
        (0..count).for_each(|b| one(b, false));
    } else if big {
        (0..count).for_each(|b| one(b, true));
    } else {
        // Enough products per task that claiming one costs little against them.
        let per_task = (PARALLEL_FLOPS / 16 / work.max(1)).max(1);
        super::parallel_ranges(count, per_task, |r| r.for_each(|b| one(b, false)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn check<T: GemmElem>(m: usize, n: usize, k: usize) {
        let a: Vec<T> = (0..m * k)
            .map(|i| T::from_i64((i % 7) as i64 - 3))
            .collect();
        let b: Vec<T> = (0..k * n)
            .map(|i| T::from_i64((i % 5) as i64 - 2))
            .collect();
        let mut d = vec![T::from_i64(1); m * n];
        let af: Vec<f64> = a.iter().map(|v| v.to_f64()).collect();
        let bf: Vec<f64> = b.iter().map(|v| v.to_f64()).collect();
        let expected = naive(m, n, k, &af, &bf);
        // rhs read transposed: element [p, j] of b lives at j * k + p of its transpose.
        let bt: Vec<T> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let mat = |p: *const T, rs: usize, cs: usize| Mat {
            ptr: p as *mut T,
            rs: rs as isize,
            cs: cs as isize,
        };
        unsafe {
            T::gemm(
                m,
                n,
                k,
                mat(d.as_mut_ptr(), n, 1),
                mat(a.as_ptr(), k, 1),
                mat(bt.as_ptr(), 1, k),
                T::from_i64(2),
                Some(T::from_i64(3)),
                m * n * k > PARALLEL_FLOPS,
            )
        };
        for (got, want) in d.iter().zip(&expected) {
            assert_eq!(got.to_f64(), 3.0 + 2.0 * want, "{:?} {m}x{n}x{k}", T::DTYPE);
        }
    }

    #[test]
    fn grid_packs_least() {
        assert_eq!(grid(256, 256, 2), (2, 1));
        assert_eq!(grid(64, 512, 2), (1, 2));
        assert_eq!(grid(1024, 1024, 16), (4, 4));
        assert_eq!(grid(4096, 64, 16), (16, 1));
        assert_eq!(grid(100, 100, 1), (1, 1));
        assert_eq!(grid(100, 100, 7), (7, 1));
    }

    #[test]
    fn every_kernel_matches_naive() {
        for &(m, n, k) in &[(1, 1, 1), (3, 5, 4), (17, 33, 9), (70, 80, 90)] {
            check::<f32>(m, n, k);
            check::<f64>(m, n, k);
            check::<i64>(m, n, k);
            check::<i32>(m, n, k);
            check::<i16>(m, n, k);
        }
        check::<f16>(4, 3, 5);
        check::<bf16>(4, 3, 5);
    }

    #[test]
    fn batched_folds_broadcast_rhs() {
        let (bsz, m, n, k) = (3, 2, 4, 5);
        let a: Vec<f64> = (0..bsz * m * k).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i % 3) as f64).collect();
        let mut d = vec![0.0; bsz * m * n];
        let op = |p: *const f64, rs: usize, bs: isize| Batched {
            mat: Mat {
                ptr: p as *mut f64,
                rs: rs as isize,
                cs: 1,
            },
            batch_strides: vec![bs],
        };
        unsafe {
            batched_gemm(
                &[bsz],
                m,
                n,
                k,
                op(d.as_mut_ptr(), n, (m * n) as isize),
                op(a.as_ptr(), k, (m * k) as isize),
                op(b.as_ptr(), n, 0),
                1.0,
                None,
            )
        };
        assert_eq!(d, naive(bsz * m, n, k, &a, &b));
    }
}
