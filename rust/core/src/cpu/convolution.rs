//! Convolution (not transposed) on the CPU: forward, input gradient and weight gradient, one
//! sample at a time.
//!
//! The batch's columns are never materialised: each sample is unfolded into a scratch buffer
//! the size of one sample's columns (it stays in L2 between the unfolding and the product
//! that reads it), so there is no batch-sized temporary to allocate, fault in and stream
//! through memory.
//!
//! Parallelism is over samples: the batch is cut into a few chunks per thread, each chunk a
//! task on the process's team (`cpu::parallel_map`) with its own scratch and single-threaded kernels.
//! A per-sample product of these layers is small (tens of kFLOPs to a few MFLOPs), too small
//! to split well across threads (each slice would pack the shared operand again and join once
//! per sample), but there are as many of them as samples. Only a batch smaller than the
//! thread count runs its samples in turn with every thread inside each sample's work.
//!
//! Two implementations:
//!
//! * f32 with unit stride on a CPU with AVX-512 (the 3x3/pad-1 layers of a CNN): direct
//!   kernels on a zero-padded copy of each sample, in [`avx512`].
//! * Everything else: im2col/col2im and gemm, with the products writing straight into the
//!   sample's NCHW output (`y[n] (O, L) = W (O, C*K) @ cols[n] (C*K, L)`). The weight
//!   gradient `sum_n gy[n] (O, L) @ cols[n]^T (L, C*K)` is accumulated by the products
//!   themselves (beta = 1) into one partial per task, the few partials summed at the end.
//!
//! Every kernel writes each element of its output (the callers hand in uninitialised
//! memory, `Tensor::empty_unzeroed`).

use super::gemm::{split_gemm, GemmElem, Mat, PARALLEL_FLOPS};
use super::im2col::{col2im, col2im_seq, im2col, im2col_seq, Accum, Tables, Windows};
use super::iter::SendPtr;
use crate::error::{Error, Result};
use std::ops::Range;
use std::sync::OnceLock;

// AVX-512 intrinsics and target features are stable since Rust 1.89. The workspace declares
// 1.85, but gemm's `x86-v4` feature (through pulp) already needs 1.89 to build.
#[cfg(target_arch = "x86_64")]
#[clippy::msrv = "1.89"]
mod avx512;

/// Tasks per thread: a few, so that a thread slowed by other load leaves its share of
/// chunks to the others.
const TASKS_PER_THREAD: usize = 4;

/// Whether the direct AVX-512 kernels may run where the CPU has AVX-512F: false when the
/// environment sets `FERROTORCH_DISABLE_AVX512` (to anything but "" or "0"), which runs the
/// generic kernels instead, to test or time them on an AVX-512 machine. Read once per process.
pub fn direct_allowed() -> bool {
    static ALLOWED: OnceLock<bool> = OnceLock::new();
    *ALLOWED.get_or_init(|| {
        std::env::var_os("FERROTORCH_DISABLE_AVX512").is_none_or(|v| v.is_empty() || v == "0")
    })
}

/// The sizes of one convolution over contiguous `(N, C, *in)` input, `(O, C/G, *kernel)`
/// weight and `(N, O, *out)` output.
#[derive(Clone, Debug)]
pub struct Conv {
    pub n: usize,
    pub groups: usize,
    /// Input and output channels (all groups).
    pub c: usize,
    pub o: usize,
    /// Elements of the kernel, of an input plane and of an output plane (windows).
    pub k: usize,
    pub l_in: usize,
    pub l: usize,
    /// The windows over one sample (`planes = c`).
    pub win: Windows,
    /// A 1x1 kernel with unit stride and no padding: a sample is its own columns.
    pub pointwise: bool,
    /// Whether the direct AVX-512 kernels may be used (they still need the CPU to have
    /// AVX-512F, which they check themselves); false runs im2col + gemm. See
    /// [`direct_allowed`].
    pub direct: bool,
}

impl Conv {
    fn cg(&self) -> usize {
        self.c / self.groups
    }
    fn og(&self) -> usize {
        self.o / self.groups
    }
    /// Rows of one group's columns (`C/G * K`).
    fn ckg(&self) -> usize {
        self.cg() * self.k
    }
    /// Multiply-adds of one sample's products.
    fn work(&self) -> usize {
        self.o.saturating_mul(self.ckg()).saturating_mul(self.l)
    }
    /// A scratch buffer for one sample's columns (none when the input is its own columns).
    fn scratch<T: Copy + Default>(&self) -> Result<Vec<T>> {
        if self.pointwise {
            Ok(Vec::new())
        } else {
            zeroed(&[self.c, self.k, self.l])
        }
    }
}

/// A zeroed buffer of `prod(dims)` elements, or an error (not an abort, as `vec!` would) when
/// the size overflows or the memory is not there: the columns of a large kernel over a large
/// input can be many times the tensors' own size.
fn zeroed<T: Copy + Default>(dims: &[usize]) -> Result<Vec<T>> {
    let len = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let mut v = Vec::new();
    len.and_then(|len| v.try_reserve_exact(len).ok().map(|()| len))
        .map(|len| v.resize(len, T::default()))
        .ok_or_else(|| {
            Error::runtime(format!(
                "convolution: not enough memory for scratch of {dims:?} elements"
            ))
        })?;
    Ok(v)
}

/// How the batch is cut: `tasks` chunks of `chunk` samples run in parallel with
/// single-threaded kernels, unless `inner`: then the samples run in turn and each sample's
/// work uses every thread.
struct Split {
    tasks: usize,
    chunk: usize,
    inner: bool,
}

impl Split {
    fn new(cv: &Conv) -> Split {
        let threads = crate::cpu::threads();
        let serial = Split {
            tasks: 1,
            chunk: cv.n,
            inner: false,
        };
        if threads <= 1 || cv.n.saturating_mul(cv.work()) < PARALLEL_FLOPS {
            return serial;
        }
        if cv.n < threads {
            return Split {
                inner: cv.work() >= PARALLEL_FLOPS,
                ..serial
            };
        }
        let chunk = cv.n.div_ceil(cv.n.min(threads * TASKS_PER_THREAD));
        Split {
            tasks: cv.n.div_ceil(chunk),
            chunk,
            inner: false,
        }
    }

    /// `f(samples)` for every chunk, in parallel on the process's team when there are
    /// several; the results in chunk order, or the first error.
    fn run<R: Send>(
        &self,
        n: usize,
        f: impl Fn(Range<usize>) -> Result<R> + Sync + Send,
    ) -> Result<Vec<R>> {
        if self.tasks == 1 {
            return Ok(vec![f(0..n)?]);
        }
        crate::cpu::parallel_map(self.tasks, |t| {
            f(t * self.chunk..((t + 1) * self.chunk).min(n))
        })
        .into_iter()
        .collect()
    }

    /// `dst = lhs @ rhs` (or `dst += lhs @ rhs` with `acc`), on every thread if `inner`.
    ///
    /// # Safety
    /// As [`GemmElem::gemm`].
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm<T: GemmElem>(
        &self,
        m: usize,
        n: usize,
        k: usize,
        dst: Mat<T>,
        lhs: Mat<T>,
        rhs: Mat<T>,
        acc: bool,
    ) {
        let beta = acc.then(T::one);
        if self.inner {
            split_gemm(m, n, k, dst, lhs, rhs, T::one(), beta);
        } else {
            T::gemm(m, n, k, dst, lhs, rhs, T::one(), beta, false);
        }
    }

    /// One sample's columns (`C * K` rows of `L`) into `cols`.
    ///
    /// # Safety
    /// `x` holds one contiguous sample (`C * L_in` elements); `cols` holds `C * K * L`.
    unsafe fn im2col<T: Copy + Default + Send + Sync>(
        &self,
        x: *const T,
        cols: &mut [T],
        cv: &Conv,
        tables: &Tables,
    ) {
        if self.inner {
            im2col(x, cols.as_mut_ptr(), &cv.win);
        } else {
            let x = std::slice::from_raw_parts(x, cv.c * cv.l_in);
            im2col_seq(x, cols, &cv.win, tables);
        }
    }
}

fn mat<T>(ptr: *const T, rs: usize, cs: usize) -> Mat<T> {
    Mat {
        ptr: ptr as *mut T,
        rs: rs as isize,
        cs: cs as isize,
    }
}

/// `y = conv(x, w) + b`, every element of `y` written.
///
/// # Safety
/// `x`, `w`, `b` (O elements) and `y` are contiguous buffers of the sizes `cv` describes; `y`
/// overlaps none of the others.
pub unsafe fn forward<T: GemmElem + Accum>(
    x: *const T,
    w: *const T,
    b: Option<*const T>,
    y: *mut T,
    cv: &Conv,
) -> Result<()> {
    let s = Split::new(cv);
    #[cfg(target_arch = "x86_64")]
    if let Some(d) = avx512::Direct::of::<T>(cv) {
        // `Direct::of` is `Some` only for T = f32, so the casts keep the element type.
        let f = |p: *const T| p as *const f32;
        return d.forward(f(x), f(w), b.map(f), y as *mut f32, cv, &s);
    }
    let (og, ckg, l) = (cv.og(), cv.ckg(), cv.l);
    let (xp, wp, yp) = (SendPtr(x as *mut T), SendPtr(w as *mut T), SendPtr(y));
    let bp = b.map(|b| SendPtr(b as *mut T));
    let tables = cv.win.tables();
    s.run(cv.n, |samples| {
        let mut buf = cv.scratch::<T>()?;
        for i in samples {
            // SAFETY: sample `i < N` of `x` and `y` (caller's sizes); `buf` holds one sample's
            // columns; each sample's output is written by one task only, and `beta = None`
            // products write their whole `(O/G, L)` block without reading it, so the `G`
            // groups' blocks cover `y[i]`; the bias is added after them.
            unsafe {
                let xs = xp.get().add(i * cv.c * cv.l_in);
                let cols = if cv.pointwise {
                    xs
                } else {
                    s.im2col(xs, &mut buf, cv, &tables);
                    buf.as_mut_ptr()
                };
                let ys = yp.get().add(i * cv.o * l);
                for g in 0..cv.groups {
                    s.gemm(
                        og,
                        l,
                        ckg,
                        mat(ys.add(g * og * l), l, 1),
                        mat(wp.get().add(g * og * ckg), ckg, 1),
                        mat(cols.add(g * ckg * l), l, 1),
                        false,
                    );
                }
                // The bias while the sample's output is still in cache, not as a pass of its own.
                if let Some(bp) = bp {
                    let out = std::slice::from_raw_parts_mut(ys, cv.o * l);
                    for (o, row) in out.chunks_exact_mut(l).enumerate() {
                        let bv = (*bp.get().add(o)).widen();
                        for v in row {
                            *v = T::narrow(T::add(v.widen(), bv));
                        }
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// `gx = col2im(W^T @ gy)`, the input gradient, every element of `gx` written.
///
/// # Safety
/// `gy`, `w` and `gx` are contiguous buffers of the sizes `cv` describes; `gx` overlaps
/// neither of the others.
pub unsafe fn backward_input<T: GemmElem + Accum>(
    gy: *const T,
    w: *const T,
    gx: *mut T,
    cv: &Conv,
) -> Result<()> {
    let s = Split::new(cv);
    #[cfg(target_arch = "x86_64")]
    if let Some(d) = avx512::Direct::adjoint_of::<T>(cv) {
        // `Direct::adjoint_of` is `Some` only for T = f32.
        let f = |p: *const T| p as *const f32;
        return d.backward_input(f(gy), f(w), gx as *mut f32, cv, &s);
    }
    let (og, ckg, l) = (cv.og(), cv.ckg(), cv.l);
    let (gyp, wp, gxp) = (SendPtr(gy as *mut T), SendPtr(w as *mut T), SendPtr(gx));
    let tables = cv.win.tables();
    s.run(cv.n, |samples| {
        let mut buf = cv.scratch::<T>()?;
        let mut acc = Vec::new();
        for i in samples {
            // SAFETY: sample `i < N` of `gy` and `gx` (caller's sizes), written by this task
            // only. A pointwise kernel's products write `gx[i]` whole (`G` blocks of
            // `(C/G, L)`, `beta = None`); otherwise they write the columns' gradient into
            // `buf`, and col2im writes every element of `gx[i]` (zero where no window
            // reaches: stride > 1 can skip inputs).
            unsafe {
                let gys = gyp.get().add(i * cv.o * l);
                let gxs = gxp.get().add(i * cv.c * cv.l_in);
                let gcols = if cv.pointwise { gxs } else { buf.as_mut_ptr() };
                for g in 0..cv.groups {
                    // W[g]^T: element [r, o] of the (C/G * K, O/G) matrix is w[g][o * ckg + r].
                    s.gemm(
                        ckg,
                        l,
                        og,
                        mat(gcols.add(g * ckg * l), l, 1),
                        mat(wp.get().add(g * og * ckg), 1, ckg),
                        mat(gys.add(g * og * l), l, 1),
                        false,
                    );
                }
                if cv.pointwise {
                    continue;
                }
                if s.inner {
                    col2im(buf.as_ptr(), gxs, &cv.win);
                } else {
                    let out = std::slice::from_raw_parts_mut(gxs, cv.c * cv.l_in);
                    col2im_seq(&buf, out, &mut acc, &cv.win, &tables);
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// `gw = sum_n gy[n] @ cols[n]^T`, the weight gradient, every element of `gw` written.
///
/// # Safety
/// `gy`, `x` and `gw` are contiguous buffers of the sizes `cv` describes; `gw` overlaps
/// neither of the others.
pub unsafe fn backward_weight<T: GemmElem + Accum>(
    gy: *const T,
    x: *const T,
    gw: *mut T,
    cv: &Conv,
) -> Result<()> {
    let s = Split::new(cv);
    #[cfg(target_arch = "x86_64")]
    let direct = avx512::Direct::of::<T>(cv);
    let (og, ckg, l) = (cv.og(), cv.ckg(), cv.l);
    let (gyp, xp) = (SendPtr(gy as *mut T), SendPtr(x as *mut T));
    let tables = cv.win.tables();
    // Each task's partial is the transposed weight gradient, (C/G * K, O) per group: the
    // product then runs along O in the gemm's vector direction, which measured 20-30% faster
    // for these shapes than (O, C/G * K).
    let len = cv.o * ckg;
    let partials = s.run(cv.n, |samples| {
        let mut part = zeroed::<T>(&[len])?;
        let mut buf = cv.scratch::<T>()?;
        #[cfg(target_arch = "x86_64")]
        let mut padded = direct.as_ref().map(|d| d.padded_buffer(cv.c)).transpose()?;
        for (j, i) in samples.enumerate() {
            // SAFETY: sample `i < N` of `x` and `gy` (caller's sizes); `buf` holds one
            // sample's columns and `part` the (C/G * K, O) partial, both this task's own.
            // The first product (`j == 0`, `beta = None`) writes all of `part`, later ones
            // add to it.
            unsafe {
                let xs = xp.get().add(i * cv.c * cv.l_in);
                let cols = if cv.pointwise {
                    xs
                } else {
                    let mut unfold = || {
                        #[cfg(target_arch = "x86_64")]
                        if let (Some(d), Some(p)) = (&direct, &mut padded) {
                            // `direct` is `Some` only for T = f32 (so `buf` is f32) and on a
                            // CPU with AVX-512F, which `Direct::im2col` needs.
                            let b = std::slice::from_raw_parts_mut(
                                buf.as_mut_ptr() as *mut f32,
                                buf.len(),
                            );
                            return d.im2col(xs as *const f32, p, b, cv.c);
                        }
                        s.im2col(xs, &mut buf, cv, &tables);
                    };
                    unfold();
                    buf.as_mut_ptr()
                };
                let gys = gyp.get().add(i * cv.o * l);
                for g in 0..cv.groups {
                    // cols[g]^T: element [l, r] of the (L, C/G * K) matrix is cols[g][r * L + l].
                    s.gemm(
                        og,
                        ckg,
                        l,
                        mat(part.as_mut_ptr().add(g * og), 1, cv.o),
                        mat(gys.add(g * og * l), l, 1),
                        mat(cols.add(g * ckg * l), 1, l),
                        j > 0,
                    );
                }
            }
        }
        Ok(part)
    })?;
    // The partials summed in their own layout (contiguous, vectorised), then transposed once:
    // this part runs on one thread, and summing them in `gw`'s order instead (a strided read
    // per element per partial) cost a tenth of the whole gradient. `N >= 1` (the caller
    // sends no empty batch), so there is at least one partial.
    let mut partials = partials.into_iter();
    let mut sum = match partials.next() {
        Some(p) => p,
        None => zeroed(&[len])?,
    };
    for part in partials {
        for (d, &p) in sum.iter_mut().zip(&part) {
            *d = T::narrow(T::add(d.widen(), p.widen()));
        }
    }
    // SAFETY: `gw` holds `O * C/G * K` elements (caller's contract), all written here.
    let out = unsafe { std::slice::from_raw_parts_mut(gw, len) };
    for (o, row) in out.chunks_exact_mut(ckg).enumerate() {
        for (r, d) in row.iter_mut().enumerate() {
            *d = sum[r * cv.o + o];
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test case: (N, C, O, groups) and per dim (over three, leading unit dims for 1-D and
    /// 2-D) the input size, kernel, stride, padding and dilation.
    struct Case {
        n: usize,
        c: usize,
        o: usize,
        groups: usize,
        size: [usize; 3],
        kernel: [usize; 3],
        stride: [usize; 3],
        pad: [usize; 3],
        dil: [usize; 3],
    }

    impl Case {
        fn conv(&self, direct: bool) -> Conv {
            let out: [usize; 3] = std::array::from_fn(|d| {
                (self.size[d] + 2 * self.pad[d] - self.dil[d] * (self.kernel[d] - 1) - 1)
                    / self.stride[d]
                    + 1
            });
            Conv {
                n: self.n,
                groups: self.groups,
                c: self.c,
                o: self.o,
                k: self.kernel.iter().product(),
                l_in: self.size.iter().product(),
                l: out.iter().product(),
                win: Windows {
                    planes: self.c,
                    size: self.size,
                    out,
                    kernel: self.kernel,
                    stride: self.stride,
                    pad: self.pad,
                    dil: self.dil,
                },
                pointwise: self.kernel == [1; 3] && self.stride == [1; 3] && self.pad == [0; 3],
                direct,
            }
        }
    }

    /// y, gx and gw by direct summation over every (sample, output, window, channel, kernel
    /// offset), in f64.
    fn naive(cv: &Conv, x: &[f64], w: &[f64], gy: &[f64]) -> [Vec<f64>; 3] {
        let g = &cv.win;
        let (cg, og) = (cv.c / cv.groups, cv.o / cv.groups);
        let mut out = [
            vec![0.0; cv.n * cv.o * cv.l],
            vec![0.0; x.len()],
            vec![0.0; w.len()],
        ];
        let grid = |e: [usize; 3]| {
            (0..e[0] * e[1] * e[2]).map(move |i| [i / (e[1] * e[2]), i / e[2] % e[1], i % e[2]])
        };
        for n in 0..cv.n {
            for o in 0..cv.o {
                for (p, pos) in grid(g.out).enumerate() {
                    let yi = (n * cv.o + o) * cv.l + p;
                    for ci in 0..cg {
                        let c = o / og * cg + ci;
                        for (k, off) in grid(g.kernel).enumerate() {
                            let at: [isize; 3] = std::array::from_fn(|d| {
                                (pos[d] * g.stride[d] + off[d] * g.dil[d]) as isize
                                    - g.pad[d] as isize
                            });
                            if (0..3).any(|d| at[d] < 0 || at[d] as usize >= g.size[d]) {
                                continue;
                            }
                            let [a0, a1, a2] = at.map(|v| v as usize);
                            let xi =
                                (n * cv.c + c) * cv.l_in + (a0 * g.size[1] + a1) * g.size[2] + a2;
                            let wi = (o * cg + ci) * cv.k + k;
                            out[0][yi] += w[wi] * x[xi];
                            out[1][xi] += w[wi] * gy[yi];
                            out[2][wi] += x[xi] * gy[yi];
                        }
                    }
                }
            }
        }
        out
    }

    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104729) % 2001) as f64 / 1000.0 - 1.0)
            .collect()
    }

    /// Shorthand for a case with stride 1, no padding and no dilation.
    fn case(
        n: usize,
        c: usize,
        o: usize,
        groups: usize,
        size: [usize; 3],
        kernel: [usize; 3],
    ) -> Case {
        Case {
            n,
            c,
            o,
            groups,
            size,
            kernel,
            stride: [1; 3],
            pad: [0; 3],
            dil: [1; 3],
        }
    }

    /// Every path of the kernels against the direct sums, in f32 and f64: the direct AVX-512
    /// kernels (where the CPU has AVX-512F) and the generic im2col + gemm ones (forced with
    /// `direct: false`), each serial, split across samples and split inside one sample.
    #[test]
    fn kernels_match_direct_sums() {
        let cases = [
            // 2-D, rows narrower than a vector (masked stores), a 3x3/pad-1 layer.
            Case {
                pad: [0, 1, 1],
                ..case(3, 4, 7, 1, [1, 9, 12], [1, 3, 3])
            },
            // Two vectors per row, dilation, groups.
            Case {
                pad: [0, 2, 2],
                dil: [1, 2, 2],
                ..case(6, 6, 10, 2, [1, 11, 20], [1, 3, 3])
            },
            // One sample with enough work to be split inside it.
            Case {
                pad: [0, 1, 1],
                ..case(1, 16, 24, 1, [1, 30, 30], [1, 3, 3])
            },
            // A batch in chunks across threads; a 5x5 kernel.
            Case {
                pad: [0, 2, 2],
                ..case(40, 3, 8, 1, [1, 16, 16], [1, 5, 5])
            },
            // Padding past the kernel's span (the input gradient is not a direct kernel).
            Case {
                pad: [0, 3, 3],
                ..case(4, 4, 4, 1, [1, 10, 10], [1, 3, 3])
            },
            // Stride 2 (generic only).
            Case {
                stride: [1, 2, 2],
                pad: [0, 1, 1],
                ..case(5, 4, 6, 1, [1, 13, 11], [1, 3, 3])
            },
            // 1-D with dilation; a row of 33 (three vectors, the last one lane).
            Case {
                pad: [0, 0, 2],
                dil: [1, 1, 2],
                ..case(7, 3, 5, 1, [1, 1, 37], [1, 1, 5])
            },
            // 3-D with groups.
            Case {
                pad: [1, 1, 1],
                ..case(2, 4, 6, 2, [5, 6, 18], [3, 3, 3])
            },
            // Depthwise, a row of 17 (a 1-lane tail).
            Case {
                pad: [0, 1, 1],
                ..case(8, 6, 6, 6, [1, 9, 17], [1, 3, 3])
            },
            // Depthwise with multiplier 2, more output channels than one tile.
            Case {
                pad: [0, 1, 1],
                ..case(3, 4, 8, 4, [1, 8, 16], [1, 3, 3])
            },
            // Pointwise (a sample is its own columns), and 1x1 with padding (not pointwise).
            case(3, 5, 4, 1, [1, 6, 7], [1, 1, 1]),
            Case {
                pad: [0, 1, 1],
                ..case(2, 3, 4, 1, [1, 5, 14], [1, 1, 1])
            },
            // Every parameter at once: stride, padding past the kernel, dilation, groups.
            Case {
                stride: [2, 1, 2],
                pad: [1, 4, 2],
                dil: [1, 3, 1],
                ..case(2, 2, 4, 2, [3, 7, 9], [2, 2, 2])
            },
            // Rows of 6 (too short for the direct kernels).
            Case {
                pad: [0, 1, 1],
                ..case(4, 3, 5, 1, [1, 6, 6], [1, 3, 3])
            },
            // Dilation and padding so large that the padded copy would dwarf the planes.
            Case {
                pad: [0, 20, 20],
                dil: [1, 20, 20],
                ..case(2, 2, 3, 1, [1, 8, 16], [1, 3, 3])
            },
        ];
        let avx512 = std::is_x86_feature_detected!("avx512f");
        let mut direct_runs = 0;
        for case in &cases {
            let cv = case.conv(true);
            let (xl, wl) = (cv.n * cv.c * cv.l_in, cv.o * cv.ckg());
            let (x, w, gy) = (values(xl, 1), values(wl, 2), values(cv.n * cv.o * cv.l, 3));
            let want = naive(&cv, &x, &w, &gy);
            macro_rules! check {
                ($t:ty, $direct:expr, $tol:expr) => {{
                    let cv = case.conv($direct);
                    let cast = |v: &[f64]| v.iter().map(|&a| a as $t).collect::<Vec<$t>>();
                    let (x, w, gy) = (cast(&x), cast(&w), cast(&gy));
                    // NaN-filled outputs: an element a kernel does not write fails the test.
                    let mut got = [
                        vec![<$t>::NAN; want[0].len()],
                        vec![<$t>::NAN; xl],
                        vec![<$t>::NAN; wl],
                    ];
                    // SAFETY: buffers of exactly the sizes `cv` describes.
                    unsafe {
                        forward(x.as_ptr(), w.as_ptr(), None, got[0].as_mut_ptr(), &cv).unwrap();
                        backward_input(gy.as_ptr(), w.as_ptr(), got[1].as_mut_ptr(), &cv).unwrap();
                        backward_weight(gy.as_ptr(), x.as_ptr(), got[2].as_mut_ptr(), &cv).unwrap();
                    }
                    for (g, e) in got.iter().zip(&want) {
                        let scale = e.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                        for (a, b) in g.iter().zip(e) {
                            assert!(
                                (*a as f64 - b).abs() <= $tol * scale,
                                "{cv:?} ({}): {a} vs {b}",
                                stringify!($t)
                            );
                        }
                    }
                }};
            }
            check!(f32, false, 1e-5);
            check!(f32, true, 1e-5);
            check!(f64, true, 1e-12);
            #[cfg(target_arch = "x86_64")]
            if avx512::Direct::of::<f32>(&cv).is_some() {
                direct_runs += 1;
            }
        }
        // The direct kernels took the cases meant for them (none fell back by mistake).
        if avx512 {
            assert_eq!(direct_runs, 10);
        }
    }

    /// Bias: added by both paths, per output channel.
    #[test]
    fn bias_is_added_per_channel() {
        let case = Case {
            pad: [0, 1, 1],
            ..case(2, 3, 7, 1, [1, 5, 18], [1, 3, 3])
        };
        let cv = case.conv(true);
        let x = values(cv.n * cv.c * cv.l_in, 4);
        let w = values(cv.o * cv.ckg(), 5);
        let b: Vec<f64> = (0..cv.o).map(|o| o as f64 - 3.0).collect();
        let [want, _, _] = naive(&cv, &x, &w, &vec![0.0; cv.n * cv.o * cv.l]);
        for direct in [false, true] {
            let cv = case.conv(direct);
            let cast = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
            let (x, w, b) = (cast(&x), cast(&w), cast(&b));
            let mut y = vec![f32::NAN; want.len()];
            // SAFETY: buffers of exactly the sizes `cv` describes.
            unsafe {
                forward(
                    x.as_ptr(),
                    w.as_ptr(),
                    Some(b.as_ptr()),
                    y.as_mut_ptr(),
                    &cv,
                )
                .unwrap()
            };
            for (i, (a, e)) in y.iter().zip(&want).enumerate() {
                let e = e + (i / cv.l % cv.o) as f64 - 3.0;
                assert!((*a as f64 - e).abs() <= 1e-4, "direct={direct}: {a} vs {e}");
            }
        }
    }

    /// Scratch that cannot exist is an error, not an abort.
    #[test]
    fn impossible_scratch_is_an_error() {
        assert!(zeroed::<f32>(&[usize::MAX, 2]).is_err());
        assert!(zeroed::<f32>(&[usize::MAX / 2]).is_err());
        assert_eq!(zeroed::<f64>(&[3, 2]).unwrap(), vec![0.0; 6]);
    }
}
