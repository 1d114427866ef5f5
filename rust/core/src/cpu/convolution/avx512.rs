//! Direct AVX-512 kernels for f32 convolutions of unit stride: the 3x3/pad-1 layers of a CNN.
//!
//! Each sample is first copied into a zero-padded buffer (its border stays zero across
//! samples, only the interior is rewritten). The output is then computed in tiles of `R` row
//! vectors (runs of up to 16 outputs along the last dim) by `Q` output channels, held in
//! `R * Q` vector registers: for every row `(c, k)` of the weight, `Q` weights are broadcast
//! and each row vector's 16 inputs are one unaligned load from the padded buffer, at the
//! output's position shifted by kernel offset `k` (no bounds tests: the padding is in the
//! buffer). Every load feeds `Q` multiply-adds, every broadcast `R`, so the loop runs at the
//! FMA units' rate; the weights are packed per block of `Q` channels so they stream through
//! L1, and the result is stored (with the bias) straight into the NCHW output with the row's
//! lane mask. Compared with im2col + gemm this skips writing and repacking the columns
//! (several times the input) and the extra pass of the bias.
//!
//! The input gradient is the same kernel: the convolution of the output gradient, padded by
//! `dilation * (kernel - 1) - padding`, with the kernel flipped and its channel dims swapped.
//! The weight gradient, a reduction over positions, stays a gemm, fed by an im2col that reads
//! the padded copy with one masked copy per row vector.
//!
//! Safety: every function here that uses AVX-512 is `#[target_feature(enable = "avx512f")]`,
//! reached only through a [`Direct`], and a `Direct` is only made after
//! `is_x86_feature_detected!("avx512f")` (in [`Direct::usable`]). Loads and stores stay
//! inside their buffers by the geometry worked out in [`Direct::new`]; the few checks that
//! this is so are asserts, which no input can fail.

use super::{zeroed, Conv, Split};
use crate::cpu::iter::SendPtr;
use crate::error::Result;
use std::any::TypeId;
use std::arch::x86_64::*;

const LANES: usize = 16;
/// Row vectors and output channels per tile: `R * Q` accumulators, `Q` broadcast weights and
/// one input vector fit the 32 vector registers. Of the shapes that fit (7x3, 6x4, 5x5, 4x6),
/// 4x6 and 5x5 measured fastest on 14x14 and 28x28 planes.
const R: usize = 4;
const Q: usize = 6;

/// A run of up to 16 outputs along the last dim.
#[derive(Clone, Copy, Debug)]
struct RowVec {
    /// Position of its first output in the padded grid (where that output's window starts).
    grid: usize,
    /// Position of its first output in the output plane.
    out: usize,
    /// Which of the 16 lanes are outputs.
    mask: u16,
}

/// One unit-stride convolution's geometry for the direct kernel, over the last three dims of
/// the planes (leading unit dims for 1-D and 2-D).
#[derive(Debug)]
pub(super) struct Direct {
    /// The input planes' extent, their padding, and the padded plane: elements between
    /// neighbours along each dim, and in all.
    size: [usize; 3],
    pad: [usize; 3],
    pitch: [usize; 3],
    plane: usize,
    /// Offset in the padded plane of each kernel offset (row-major over the kernel).
    shifts: Vec<usize>,
    rvs: Vec<RowVec>,
    /// Elements of an output plane.
    l: usize,
}

impl Direct {
    /// `None` when the rows are so short that most lanes would idle (out2 < 8, or just past a
    /// multiple of 16): the gemm path does better there. Also `None` when the padded plane
    /// would be much larger than the input and output planes (dilation and padding both
    /// large): the copy would cost more memory and time than the columns.
    fn new(
        size: [usize; 3],
        pad: [usize; 3],
        kernel: [usize; 3],
        dil: [usize; 3],
        out: [usize; 3],
    ) -> Option<Direct> {
        let chunks = out[2].div_ceil(LANES);
        if 2 * out[2] < chunks * LANES {
            return None;
        }
        let padded: [usize; 3] = std::array::from_fn(|d| size[d] + 2 * pad[d]);
        let plane: usize = padded.iter().product();
        let (l_in, l): (usize, usize) = (size.iter().product(), out.iter().product());
        if plane > 4 * (l_in + l) {
            return None;
        }
        let pitch = [padded[1] * padded[2], padded[2], 1];
        let mut shifts = Vec::with_capacity(kernel.iter().product());
        for k0 in 0..kernel[0] {
            for k1 in 0..kernel[1] {
                for k2 in 0..kernel[2] {
                    shifts.push(k0 * dil[0] * pitch[0] + k1 * dil[1] * pitch[1] + k2 * dil[2]);
                }
            }
        }
        let mut rvs = Vec::with_capacity(out[0] * out[1] * chunks);
        for a in 0..out[0] {
            for b in 0..out[1] {
                for ch in 0..chunks {
                    let n = LANES.min(out[2] - ch * LANES);
                    rvs.push(RowVec {
                        grid: a * pitch[0] + b * pitch[1] + ch * LANES,
                        out: (a * out[1] + b) * out[2] + ch * LANES,
                        mask: ((1u32 << n) - 1) as u16,
                    });
                }
            }
        }
        Some(Direct {
            size,
            pad,
            pitch,
            plane,
            shifts,
            rvs,
            l,
        })
    }

    /// Whether the kernels apply at all: allowed (`cv.direct`), f32, unit stride, not
    /// pointwise (the gemm path reads a pointwise input as is), and a CPU with AVX-512F: the
    /// check that makes every `Direct` method's use of AVX-512 sound.
    fn usable<T: 'static>(cv: &Conv) -> bool {
        cv.direct
            && TypeId::of::<T>() == TypeId::of::<f32>()
            && !cv.pointwise
            && cv.win.stride == [1, 1, 1]
            && std::is_x86_feature_detected!("avx512f")
    }

    /// The geometry of `cv` itself, for its forward and weight gradient.
    pub(super) fn of<T: 'static>(cv: &Conv) -> Option<Direct> {
        if !Self::usable::<T>(cv) {
            return None;
        }
        let w = &cv.win;
        Direct::new(w.size, w.pad, w.kernel, w.dil, w.out)
    }

    /// The geometry of `cv`'s input gradient: a convolution of the output gradient padded by
    /// `dilation * (kernel - 1) - padding` (so none when the padding exceeds that).
    pub(super) fn adjoint_of<T: 'static>(cv: &Conv) -> Option<Direct> {
        if !Self::usable::<T>(cv) {
            return None;
        }
        let w = &cv.win;
        let span: [usize; 3] = std::array::from_fn(|d| w.dil[d] * (w.kernel[d] - 1));
        if (0..3).any(|d| w.pad[d] > span[d]) {
            return None;
        }
        let pad = std::array::from_fn(|d| span[d] - w.pad[d]);
        Direct::new(w.out, pad, w.kernel, w.dil, w.size)
    }

    /// A zeroed buffer for `c` padded planes, with room for the last row vector's 16 lanes
    /// (the lanes past a row's end read on into the next row or this slack, and are masked
    /// off).
    pub(super) fn padded_buffer(&self, c: usize) -> Result<Vec<f32>> {
        // A size that overflows asks for usize::MAX elements, which `zeroed` refuses.
        let len = c.checked_mul(self.plane).and_then(|v| v.checked_add(LANES));
        zeroed(&[len.unwrap_or(usize::MAX)])
    }

    /// The offset of every weight row `(channel, kernel offset)` in `c` padded planes.
    fn offsets(&self, c: usize) -> Vec<usize> {
        (0..c)
            .flat_map(|ch| self.shifts.iter().map(move |&s| ch * self.plane + s))
            .collect()
    }

    /// `c` planes at `x` into the interior of `padded` (whose border is zero).
    ///
    /// # Safety
    /// `x` holds `c` contiguous input planes; the CPU has AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn pad(&self, x: *const f32, padded: &mut [f32], c: usize) {
        let [s0, s1, s2] = self.size;
        assert!(padded.len() >= c * self.plane);
        let dst = padded.as_mut_ptr();
        for ch in 0..c {
            for a in 0..s0 {
                for b in 0..s1 {
                    let to = ch * self.plane
                        + (a + self.pad[0]) * self.pitch[0]
                        + (b + self.pad[1]) * self.pitch[1]
                        + self.pad[2];
                    copy(dst.add(to), x.add(((ch * s0 + a) * s1 + b) * s2), s2);
                }
            }
        }
    }

    /// One sample's columns (`c * K` rows of `L`, im2col's layout) via its padded copy: one
    /// masked copy per row vector, the padding already in place.
    ///
    /// # Safety
    /// `x` holds `c` input planes; `padded` is from [`Direct::padded_buffer`] for `c` (its
    /// border zero); the CPU has AVX-512F (true of any `Direct`). `cols` is checked.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn im2col(
        &self,
        x: *const f32,
        padded: &mut [f32],
        cols: &mut [f32],
        c: usize,
    ) {
        self.pad(x, padded, c);
        let l = self.l;
        assert!(cols.len() >= c * self.shifts.len() * l);
        // Every load stays inside `padded`, as in `conv`.
        let offs = self.offsets(c);
        let last = self.rvs.last().map_or(0, |rv| rv.grid) + LANES;
        assert!(offs.iter().all(|&off| off + last <= padded.len()));
        let (src, dst) = (padded.as_ptr(), cols.as_mut_ptr());
        for (row, off) in offs.into_iter().enumerate() {
            let dst = dst.add(row * l);
            for rv in &self.rvs {
                // All 16 lanes where they stay inside the row of the columns: the ones past
                // the row vector land on outputs that later row vectors of the row write
                // (they go in order, and each covers the positions right after the last
                // one's), so each element's last write is its own value.
                let v = _mm512_loadu_ps(src.add(off + rv.grid));
                if rv.out + LANES <= l {
                    _mm512_storeu_ps(dst.add(rv.out), v);
                } else {
                    _mm512_mask_storeu_ps(dst.add(rv.out), rv.mask, v);
                }
            }
        }
    }

    /// `y = conv(x, w) + b` for all samples, every element of `y` written.
    ///
    /// # Safety
    /// As [`super::forward`] for f32.
    pub(super) unsafe fn forward(
        &self,
        x: *const f32,
        w: *const f32,
        b: Option<*const f32>,
        y: *mut f32,
        cv: &Conv,
        s: &Split,
    ) -> Result<()> {
        let (cg, og, ck) = (cv.cg(), cv.og(), cv.ckg());
        let w = std::slice::from_raw_parts(w, cv.o * ck);
        let packed = pack(cv.groups, og, ck, |g, o| {
            w[(g * og + o) * ck..][..ck].iter().copied()
        });
        let offs = self.offsets(cg);
        let (xp, yp) = (SendPtr(x as *mut f32), SendPtr(y));
        let bp = b.map(|b| SendPtr(b as *mut f32));
        s.run(cv.n, |samples| {
            let mut padded = self.padded_buffer(cv.c)?;
            for i in samples {
                // SAFETY: sample `i < N` of `x` and `y`, `y[i]` written by this task only;
                // the `G` groups' `O/G` planes cover `y[i]`; AVX-512F as for any `Direct`.
                unsafe {
                    self.pad(xp.get().add(i * cv.c * cv.l_in), &mut padded, cv.c);
                    for (g, wg) in packed.iter().enumerate() {
                        self.conv(
                            &padded[g * cg * self.plane..],
                            wg,
                            &offs,
                            og,
                            bp.map(|b| SendPtr(b.get().add(g * og))),
                            yp.get().add((i * cv.o + g * og) * self.l),
                            s.inner,
                        );
                    }
                }
            }
            Ok(())
        })?;
        Ok(())
    }

    /// The input gradient for all samples, every element of `gx` written: `self` is
    /// [`Direct::adjoint_of`] `cv`.
    ///
    /// # Safety
    /// As [`super::backward_input`] for f32.
    pub(super) unsafe fn backward_input(
        &self,
        gy: *const f32,
        w: *const f32,
        gx: *mut f32,
        cv: &Conv,
        s: &Split,
    ) -> Result<()> {
        let (cg, og, k) = (cv.cg(), cv.og(), cv.k);
        // Row `(o, k)` of input channel `c`'s weights is w[o, c] at the mirrored offset.
        let w = std::slice::from_raw_parts(w, cv.o * cg * k);
        let packed = pack(cv.groups, cg, og * k, |g, c| {
            (0..og).flat_map(move |o| w[((g * og + o) * cg + c) * k..][..k].iter().rev().copied())
        });
        let offs = self.offsets(og);
        let (gyp, gxp) = (SendPtr(gy as *mut f32), SendPtr(gx));
        s.run(cv.n, |samples| {
            let mut padded = self.padded_buffer(cv.o)?;
            for i in samples {
                // SAFETY: sample `i < N` of `gy` and `gx`, `gx[i]` written by this task only;
                // the `G` groups' `C/G` planes (of the adjoint's output size, the input's)
                // cover `gx[i]`; AVX-512F as for any `Direct`.
                unsafe {
                    self.pad(gyp.get().add(i * cv.o * cv.l), &mut padded, cv.o);
                    for (g, wg) in packed.iter().enumerate() {
                        self.conv(
                            &padded[g * og * self.plane..],
                            wg,
                            &offs,
                            cg,
                            None,
                            gxp.get().add((i * cv.c + g * cg) * self.l),
                            s.inner,
                        );
                    }
                }
            }
            Ok(())
        })?;
        Ok(())
    }

    /// One sample and group: `o` output planes at `y` from the padded input `x`, weights `w`
    /// packed by [`pack`] with rows at `offs`; the blocks of channels on every thread if
    /// `inner`. Every element of the `o` planes is written: each block of up to `Q` channels
    /// stores every row vector of the plane, which together cover it.
    ///
    /// # Safety
    /// `y` holds `o` output planes written by no one else meanwhile; `w` holds `o` outputs
    /// packed by [`pack`] for `offs.len()` rows; `bias` (if any) `o` values; the CPU has
    /// AVX-512F (true of any `Direct`).
    #[allow(clippy::too_many_arguments)]
    unsafe fn conv(
        &self,
        x: &[f32],
        w: &[f32],
        offs: &[usize],
        o: usize,
        bias: Option<SendPtr<f32>>,
        y: *mut f32,
        inner: bool,
    ) {
        let (ck, l) = (offs.len(), self.l);
        // Every load of the tiles stays inside `x`: the largest offset plus the last row
        // vector's position and 16 lanes is at most the planes plus the buffer's slack.
        let last = self.rvs.last().map_or(0, |rv| rv.grid) + LANES;
        assert!(offs.iter().all(|&off| off + last <= x.len()));
        let (xp, yp) = (SendPtr(x.as_ptr() as *mut f32), SendPtr(y));
        let block = |blk: usize| {
            let (o0, qn) = (blk * Q, Q.min(o - blk * Q));
            let wb = w.as_ptr().add(blk * ck * Q);
            let b = bias.map(|b| b.get().add(o0) as *const f32);
            for rv in self.rvs.chunks(R) {
                tile_of(rv.len(), qn)(xp.get(), rv, offs, wb, b, yp.get().add(o0 * l), l);
            }
        };
        // Blocks write disjoint planes of `y`.
        let blocks = o.div_ceil(Q);
        if inner {
            crate::cpu::parallel_for(blocks, block);
        } else {
            (0..blocks).for_each(block);
        }
    }
}

/// The weights of a convolution, `o` outputs of `ck` rows per group (`row(g, o)` yields one
/// output's `ck` weights in order), packed per group into blocks of `Q` outputs: `ck` rows of
/// `Q` (zero past `o`), the order in which a tile broadcasts them. Runs once per call, on one
/// thread: written as iterator walks, as index arithmetic per element cost a third of a
/// small batch's convolution.
fn pack<I: Iterator<Item = f32>>(
    groups: usize,
    o: usize,
    ck: usize,
    row: impl Fn(usize, usize) -> I,
) -> Vec<Vec<f32>> {
    (0..groups)
        .map(|g| {
            let mut out = vec![0.0; o.div_ceil(Q) * ck * Q];
            for (blk, block) in out.chunks_exact_mut(ck * Q).enumerate() {
                for q in 0..Q.min(o - blk * Q) {
                    for (d, v) in block[q..].iter_mut().step_by(Q).zip(row(g, blk * Q + q)) {
                        *d = v;
                    }
                }
            }
            out
        })
        .collect()
}

/// `n` elements from `src` to `dst`, 16 per step, the last step masked (so neither side is
/// touched past `n`).
///
/// # Safety
/// `src` and `dst` hold `n` elements; the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn copy(dst: *mut f32, src: *const f32, n: usize) {
    let mut i = 0;
    while i + LANES <= n {
        _mm512_storeu_ps(dst.add(i), _mm512_loadu_ps(src.add(i)));
        i += LANES;
    }
    if i < n {
        let m = ((1u32 << (n - i)) - 1) as u16;
        _mm512_mask_storeu_ps(dst.add(i), m, _mm512_maskz_loadu_ps(m, src.add(i)));
    }
}

type Tile =
    unsafe fn(*const f32, &[RowVec], &[usize], *const f32, Option<*const f32>, *mut f32, usize);

/// The tile kernel for `rn <= R` row vectors and `qn <= Q` channels.
fn tile_of(rn: usize, qn: usize) -> Tile {
    macro_rules! qs {
        ($r:literal) => {
            match qn {
                1 => tile::<$r, 1>,
                2 => tile::<$r, 2>,
                3 => tile::<$r, 3>,
                4 => tile::<$r, 4>,
                5 => tile::<$r, 5>,
                _ => tile::<$r, 6>,
            }
        };
    }
    match rn {
        1 => qs!(1),
        2 => qs!(2),
        3 => qs!(3),
        _ => qs!(4),
    }
}

/// `RN` row vectors of `QN` output planes at `y` (planes `l` apart): the sum over the weight
/// rows of broadcast weight times the input vector at the row's offset, plus the bias; stored
/// with each row vector's mask.
///
/// # Safety
/// `x + off + rv.grid + 16` inside the padded input for every offset and row vector; `w`
/// holds `offs.len()` rows of `Q`; `bias` (if any) `QN` values; `y`'s planes hold every
/// masked lane; the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn tile<const RN: usize, const QN: usize>(
    x: *const f32,
    rvs: &[RowVec],
    offs: &[usize],
    w: *const f32,
    bias: Option<*const f32>,
    y: *mut f32,
    l: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); RN]; QN];
    let bases: [*const f32; RN] = std::array::from_fn(|r| x.add(rvs[r].grid));
    for (ck, &off) in offs.iter().enumerate() {
        let wr = w.add(ck * Q);
        let ws: [__m512; QN] = std::array::from_fn(|q| _mm512_set1_ps(*wr.add(q)));
        for (r, base) in bases.iter().enumerate() {
            let xv = _mm512_loadu_ps(base.add(off));
            for q in 0..QN {
                acc[q][r] = _mm512_fmadd_ps(ws[q], xv, acc[q][r]);
            }
        }
    }
    for (q, row) in acc.iter().enumerate() {
        let b = bias.map(|b| _mm512_set1_ps(*b.add(q)));
        for (rv, &v) in rvs.iter().zip(row) {
            let v = b.map_or(v, |b| _mm512_add_ps(v, b));
            _mm512_mask_storeu_ps(y.add(q * l + rv.out), rv.mask, v);
        }
    }
}
