//! Distributions drawn from the Philox stream of [`super`], written into tensors.
//!
//! Every op states its per-element layout (`words` per element, see the module docs of
//! [`crate::random`]) and how a lane's bits become a value; "`unit(bits, m)`" below means
//! `(bits >> (64 - m)) * 2^-m`, a float in `[0, 1)` with `m` random significand bits, where
//! `bits` is the lane as 64 bits with one-word lanes in the high half.

use super::{fill_blocks, lane_bits, Generator, Stream};
use crate::cpu::elementwise::map3;
use crate::dtype::{result_type, DType};
use crate::element::Element;
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::tensor::Tensor;
use crate::{bail, dispatch_all, dispatch_float};
use half::{bf16, f16};

/// The arithmetic type of a distribution (f32 for the float32/16-bit dtypes, f64 for float64).
pub trait Real: Copy + Send + Sync + PartialOrd + 'static {
    /// Random significand bits a uniform of this type carries.
    const MANT: u32;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    /// `unit(bits, m)` as documented at the top of this file.
    fn unit(bits: u64, m: u32) -> Self;
    /// Standard normal pair from two uniforms in [0, 1) (Box-Muller).
    fn box_muller(u1: Self, u2: Self) -> (Self, Self);
    /// `a + b * c`.
    fn fma_(a: Self, b: Self, c: Self) -> Self;
    fn exp_(self) -> Self;
    /// `-ln(1 - u)`: an Exp(1) draw from a uniform in [0, 1).
    fn neg_ln_1m(self) -> Self;
    /// `tan(pi * (u - 0.5))`: a standard Cauchy draw.
    fn cauchy(self) -> Self;
}

macro_rules! real {
    ($t:ty, $mant:expr, $pi:expr) => {
        impl Real for $t {
            const MANT: u32 = $mant;
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn unit(bits: u64, m: u32) -> Self {
                (bits >> (64 - m)) as $t * (-(m as i32) as $t).exp2()
            }
            #[inline(always)]
            fn box_muller(u1: Self, u2: Self) -> (Self, Self) {
                // 1 - u1 is in (0, 1], so the log is finite.
                let r = (-2.0 * (1.0 - u1).ln()).sqrt();
                let (s, c) = (2.0 * $pi * u2).sin_cos();
                (r * c, r * s)
            }
            #[inline(always)]
            fn fma_(a: Self, b: Self, c: Self) -> Self {
                a + b * c
            }
            #[inline(always)]
            fn exp_(self) -> Self {
                self.exp()
            }
            #[inline(always)]
            fn neg_ln_1m(self) -> Self {
                -(-self).ln_1p()
            }
            #[inline(always)]
            fn cauchy(self) -> Self {
                ($pi * (self - 0.5)).tan()
            }
        }
    };
}
real!(f32, 24, std::f32::consts::PI);
real!(f64, 53, std::f64::consts::PI);

/// A floating dtype as a random target: its compute type, words per draw and significand.
pub trait RandFloat: Element {
    type R: Real;
    /// 32-bit words per uniform draw (1, or 2 for float64).
    const WORDS: usize;
    /// Significand bits of the dtype (11 for float16, 8 for bfloat16, 24, 53).
    const MANT: u32;
    fn from_r(v: Self::R) -> Self;
    /// The largest value of this type below `self`.
    fn step_down(self) -> Self;
}

macro_rules! rand_float {
    ($t:ty, $r:ty, $words:expr, $mant:expr, $from:expr, $bits:ty, $to_bits:expr, $from_bits:expr) => {
        impl RandFloat for $t {
            type R = $r;
            const WORDS: usize = $words;
            const MANT: u32 = $mant;
            #[inline(always)]
            fn from_r(v: $r) -> Self {
                $from(v)
            }
            fn step_down(self) -> Self {
                let b: $bits = $to_bits(self);
                let sign: $bits = 1 << (<$bits>::BITS - 1);
                if self > <$t as Element>::zero() {
                    $from_bits(b - 1)
                } else if self == <$t as Element>::zero() {
                    $from_bits(sign | 1)
                } else {
                    $from_bits(b + 1)
                }
            }
        }
    };
}
rand_float!(f32, f32, 1, 24, |v| v, u32, f32::to_bits, f32::from_bits);
rand_float!(f64, f64, 2, 53, |v| v, u64, f64::to_bits, f64::from_bits);
rand_float!(
    f16,
    f32,
    1,
    11,
    f16::from_f32,
    u16,
    f16::to_bits,
    f16::from_bits
);
rand_float!(
    bf16,
    f32,
    1,
    8,
    bf16::from_f32,
    u16,
    bf16::to_bits,
    bf16::from_bits
);

/// Runs `f` on a contiguous slice holding `t`'s elements in row-major order, then makes sure
/// the values land in `t` (directly when contiguous, else through a temporary). A GPU tensor
/// gets the numbers drawn on the host, so the same seed gives the same values on every device.
fn write_inplace<T: Element>(t: &Tensor, f: impl FnOnce(&mut [T])) -> Result<()> {
    if t.is_contiguous() && !t.is_cuda() {
        // SAFETY: contiguous view of numel elements of T inside its storage.
        let s = unsafe { std::slice::from_raw_parts_mut(t.data_ptr::<T>(), t.numel()) };
        f(s);
        t.storage().bump_version();
        Ok(())
    } else {
        let tmp = Tensor::empty(t.shape(), t.dtype(), crate::Device::Cpu)?;
        // SAFETY: fresh contiguous tensor.
        f(unsafe { std::slice::from_raw_parts_mut(tmp.data_ptr::<T>(), tmp.numel()) });
        t.copy_(&tmp)
    }
}

/// Fills `out` with one element per lane: `f(lane_bits)`.
fn per_lane<T: Send>(out: &mut [T], words: usize, gen: &Generator, f: impl Fn(u64) -> T + Sync) {
    let stream = gen.reserve_elems(out.len(), words);
    fill_blocks(out, 4 / words, stream, |w, _, chunk| {
        for (i, o) in chunk.iter_mut().enumerate() {
            *o = f(lane_bits(w, i, words));
        }
    });
}

fn float_only(op: &str, t: &Tensor) -> Result<()> {
    if !t.dtype().is_floating_point() {
        bail!(
            Runtime,
            "\"{}\" not implemented for '{}'",
            crate::ops::unary::kernel_name_on(op, t.device()),
            torch_type_name(t.dtype())
        );
    }
    Ok(())
}

/// torch's C++ scalar-type names used in kernel error messages (`'Long'`, `'Float'` ...).
pub fn torch_type_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "Bool",
        DType::U8 => "Byte",
        DType::I8 => "Char",
        DType::I16 => "Short",
        DType::I32 => "Int",
        DType::I64 => "Long",
        DType::F16 => "Half",
        DType::BF16 => "BFloat16",
        DType::F32 => "Float",
        DType::F64 => "Double",
    }
}

/// `uniform_(from, to)`: `WORDS` words per element; `from + unit(bits, MANT) * (to - from)`
/// computed in `R`, rounded to the dtype, and moved one step below `to` if rounding reached it.
pub fn uniform_(t: &Tensor, from: f64, to: f64, gen: &Generator) -> Result<()> {
    float_only("check_uniform_bounds", t)?;
    if from > to {
        bail!(
            Runtime,
            "uniform_ expects to return a [from, to) range, but found from={from} > to={to}"
        );
    }
    fn run<T: RandFloat>(t: &Tensor, from: f64, to: f64, gen: &Generator) -> Result<()> {
        let (lo, span) = (T::R::from_f64(from), T::R::from_f64(to - from));
        let top = T::from_f64(to);
        write_inplace::<T>(t, |s| {
            per_lane(s, T::WORDS, gen, |b| {
                let v = T::from_r(T::R::fma_(lo, T::R::unit(b, T::MANT), span));
                if v >= top && from < to {
                    top.step_down()
                } else {
                    v
                }
            })
        })
    }
    dispatch_float!(t.dtype(), T => run::<T>(t, from, to, gen), _ => Ok(()))
}

/// Standard normals into `s`: block lanes pair up as (0, 1) and (2, 3) (two-word lanes: the
/// single pair (0, 1)); each pair `(u1, u2) = unit(bits, R::MANT)` gives elements
/// `2p = r cos(2 pi u2)` and `2p + 1 = r sin(2 pi u2)` with `r = sqrt(-2 ln(1 - u1))`.
fn normals<T: RandFloat>(s: &mut [T], mean: f64, std: f64, exp: bool, gen: &Generator) {
    let (words, per_block) = (T::WORDS, 4 / T::WORDS);
    let stream: Stream = gen.reserve_elems(s.len(), words);
    let (m, sd) = (T::R::from_f64(mean), T::R::from_f64(std));
    let finish = |z: T::R| {
        let v = T::R::fma_(m, sd, z);
        T::from_r(if exp { v.exp_() } else { v })
    };
    fill_blocks(s, per_block, stream, |w, _, chunk| {
        for p in 0..per_block / 2 {
            if 2 * p >= chunk.len() {
                break;
            }
            let u1 = T::R::unit(lane_bits(w, 2 * p, words), T::R::MANT);
            let u2 = T::R::unit(lane_bits(w, 2 * p + 1, words), T::R::MANT);
            let (z0, z1) = T::R::box_muller(u1, u2);
            chunk[2 * p] = finish(z0);
            if let Some(o) = chunk.get_mut(2 * p + 1) {
                *o = finish(z1);
            }
        }
    });
}

/// `normal_(mean, std)`: `mean + std * z`, z from [`normals`].
pub fn normal_(t: &Tensor, mean: f64, std: f64, gen: &Generator) -> Result<()> {
    float_only("normal_kernel_cpu", t)?;
    if std < 0.0 || std.is_nan() {
        bail!(Runtime, "normal expects std >= 0.0, but found std {std}");
    }
    dispatch_float!(t.dtype(), T => write_inplace::<T>(t, |s| normals(s, mean, std, false, gen)), _ => Ok(()))
}

/// `log_normal_(mean, std)`: `exp(mean + std * z)`, same layout as `normal_`.
pub fn log_normal_(t: &Tensor, mean: f64, std: f64, gen: &Generator) -> Result<()> {
    float_only("log_normal_cpu", t)?;
    if std <= 0.0 || std.is_nan() {
        bail!(
            Runtime,
            "log_normal_ expects std > 0.0, but found std={std}"
        );
    }
    dispatch_float!(t.dtype(), T => write_inplace::<T>(t, |s| normals(s, mean, std, true, gen)), _ => Ok(()))
}

/// `exponential_(lambd)`: `WORDS` words; `-ln(1 - unit(bits, R::MANT)) / lambd`.
pub fn exponential_(t: &Tensor, lambd: f64, gen: &Generator) -> Result<()> {
    float_only("exponential_cpu", t)?;
    if lambd.is_nan() || lambd <= 0.0 {
        bail!(
            Runtime,
            "exponential_ expects lambda > 0.0, but found lambda={lambd}"
        );
    }
    fn run<T: RandFloat>(t: &Tensor, lambd: f64, gen: &Generator) -> Result<()> {
        let inv = T::R::from_f64(1.0 / lambd);
        let zero = T::R::from_f64(0.0);
        write_inplace::<T>(t, |s| {
            per_lane(s, T::WORDS, gen, |b| {
                T::from_r(T::R::fma_(zero, T::R::unit(b, T::R::MANT).neg_ln_1m(), inv))
            })
        })
    }
    dispatch_float!(t.dtype(), T => run::<T>(t, lambd, gen), _ => Ok(()))
}

/// `cauchy_(median, sigma)`: `WORDS` words; `median + sigma * tan(pi * (unit - 0.5))`.
pub fn cauchy_(t: &Tensor, median: f64, sigma: f64, gen: &Generator) -> Result<()> {
    float_only("cauchy_cpu", t)?;
    if sigma.is_nan() || sigma <= 0.0 {
        bail!(
            Runtime,
            "cauchy_ expects sigma > 0.0, but found sigma={sigma}"
        );
    }
    fn run<T: RandFloat>(t: &Tensor, median: f64, sigma: f64, gen: &Generator) -> Result<()> {
        let (m, sd) = (T::R::from_f64(median), T::R::from_f64(sigma));
        write_inplace::<T>(t, |s| {
            per_lane(s, T::WORDS, gen, |b| {
                T::from_r(T::R::fma_(m, sd, T::R::unit(b, T::R::MANT).cauchy()))
            })
        })
    }
    dispatch_float!(t.dtype(), T => run::<T>(t, median, sigma, gen), _ => Ok(()))
}

/// An f64 uniform in [0, 1) from a two-word lane: `unit(bits, 53)`.
#[inline(always)]
fn unit53(b: u64) -> f64 {
    f64::unit(b, 53)
}

/// `geometric_(p)`: 2 words, any dtype; `max(1, ceil(ln(1 - u) / ln(1 - p)))`, u = unit(bits, 53).
pub fn geometric_(t: &Tensor, p: f64, gen: &Generator) -> Result<()> {
    if !(p > 0.0 && p < 1.0) {
        bail!(
            Runtime,
            "geometric_ expects p to be in (0, 1), but got p={p}"
        );
    }
    let denom = (-p).ln_1p();
    dispatch_all!(t.dtype(), T => write_inplace::<T>(t, |s| {
        per_lane(s, 2, gen, |b| <T as Element>::from_f64(((-unit53(b)).ln_1p() / denom).ceil().max(1.0)))
    }))
}

/// `bernoulli_(p)` with a number: 2 words, any dtype; `unit(bits, 53) < p`.
pub fn bernoulli_scalar_(t: &Tensor, p: f64, gen: &Generator) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        bail!(
            Runtime,
            "bernoulli_ expects p to be in [0, 1], but got p={p}"
        );
    }
    dispatch_all!(t.dtype(), T => write_inplace::<T>(t, |s| {
        per_lane(s, 2, gen, |b| T::from_i64((unit53(b) < p) as i64))
    }))
}

/// `bernoulli_(p)` with a tensor of probabilities broadcast to `t`'s shape; layout as
/// [`bernoulli_scalar_`], element i compared with `p[i]`.
pub fn bernoulli_tensor_(t: &Tensor, p: &Tensor, gen: &Generator) -> Result<()> {
    let pb = p.view_with(p.layout().broadcast_to(t.shape(), "bernoulli_")?)?;
    let probs = pb.to_vec::<f64>();
    if probs.iter().any(|&x| !(0.0..=1.0).contains(&x)) {
        bail!(Runtime, "Expected p_in >= 0 && p_in <= 1 to be true");
    }
    dispatch_all!(t.dtype(), T => write_inplace::<T>(t, |s| {
        let stream = gen.reserve_elems(s.len(), 2);
        fill_blocks(s, 2, stream, |w, first, chunk| {
            for (i, o) in chunk.iter_mut().enumerate() {
                let pr = probs.get(first + i).copied().unwrap_or(0.0);
                *o = T::from_i64((unit53(lane_bits(w, i, 2)) < pr) as i64);
            }
        });
    }))
}

/// The integer bounds `random_` may produce for `d`: ints their range, floats `[-2^m, 2^m]`.
fn dtype_bounds(d: DType) -> (i128, i128) {
    match d {
        DType::Bool => (0, 1),
        DType::U8 => (0, u8::MAX as i128),
        DType::I8 => (i8::MIN as i128, i8::MAX as i128),
        DType::I16 => (i16::MIN as i128, i16::MAX as i128),
        DType::I32 => (i32::MIN as i128, i32::MAX as i128),
        DType::I64 => (i64::MIN as i128, i64::MAX as i128),
        DType::F16 => (-(1 << 11), 1 << 11),
        DType::BF16 => (-(1 << 8), 1 << 8),
        DType::F32 => (-(1 << 24), 1 << 24),
        DType::F64 => (-(1 << 53), 1 << 53),
    }
}

/// `random_(from, to)`: integers in `[from, to)`; `to = None` means up to the dtype's maximum
/// (inclusive). Lane width: 1 word when `to - from <= 2^32`, else 2 words; value
/// `from + bits % (to - from)` with `bits` the lane's word(s) as an unsigned integer.
pub fn random_(t: &Tensor, from: i64, to: Option<i64>, gen: &Generator) -> Result<()> {
    let (lo, hi) = dtype_bounds(t.dtype());
    let from = from as i128;
    let to = match to {
        Some(v) => v as i128,
        None => hi + 1,
    };
    if from >= to {
        bail!(
            Runtime,
            "random_ expects 'from' to be less than 'to', but got from={from} >= to={to}"
        );
    }
    if from < lo || from > hi {
        bail!(Runtime, "from is out of bounds for {}", t.dtype());
    }
    if to - 1 < lo || to - 1 > hi {
        bail!(Runtime, "to - 1 is out of bounds for {}", t.dtype());
    }
    let range = (to - from) as u128;
    let words = if range <= 1 << 32 { 1 } else { 2 };
    let shift = if words == 1 { 32 } else { 0 };
    dispatch_all!(t.dtype(), T => write_inplace::<T>(t, |s| {
        per_lane(s, words, gen, |b| {
            let bits = (b >> shift) as u128;
            let v = from + (bits % range) as i128;
            T::from_i64(v as i64)
        })
    }))
}

/// `torch.normal(mean, std)` with tensors (or 0-d wrapped numbers): broadcast shapes, result
/// dtype of the two, elements `mean[i] + std[i] * z[i]` with `z` from [`normals`].
pub fn normal_tensors(mean: &Tensor, std: &Tensor, gen: &Generator) -> Result<Tensor> {
    let dt = result_type(&[mean.operand(), std.operand()]);
    if !dt.is_floating_point() {
        bail!(
            Runtime,
            "\"normal_kernel_cpu\" not implemented for '{}'",
            torch_type_name(dt)
        );
    }
    if mean.is_cuda() || std.is_cuda() {
        // Drawn on the host (as every GPU tensor's random numbers are), then moved.
        // A 0-d host tensor (a wrapped number) may go with a GPU one, as in elementwise ops.
        if mean.ndim() > 0 && std.ndim() > 0 {
            crate::ops::check_same_device("normal", &[mean, std])?;
        }
        let device = if mean.is_cuda() {
            mean.device()
        } else {
            std.device()
        };
        let (m, s) = (
            crate::cuda::index::host(mean)?,
            crate::cuda::index::host(std)?,
        );
        return normal_tensors(&m, &s, gen)?.to_device(device);
    }
    if std.to_vec::<f64>().iter().any(|&x| x < 0.0 || x.is_nan()) {
        bail!(Runtime, "normal expects all elements of std >= 0.0");
    }
    let shape = broadcast_shapes(mean.shape(), std.shape(), "normal")?;
    let z = Tensor::empty(&shape, dt, mean.device())?;
    normal_(&z, 0.0, 1.0, gen)?;
    let m = mean.to_dtype(dt)?;
    let m = m.view_with(m.layout().broadcast_to(&shape, "normal")?)?;
    let s = std.to_dtype(dt)?;
    let s = s.view_with(s.layout().broadcast_to(&shape, "normal")?)?;
    let out = Tensor::empty(&shape, dt, mean.device())?;
    dispatch_float!(dt, T => map3::<T, T, T, T>(&out, &m, &s, &z, shift_scale::<T>), _ => ());
    Ok(out)
}

/// `mean + std * z` in the distribution's arithmetic type.
#[inline(always)]
fn shift_scale<T: RandFloat>(mean: T, std: T, z: T) -> T {
    let r = |v: T| T::R::from_f64(v.to_f64());
    T::from_r(T::R::fma_(r(mean), r(std), r(z)))
}

/// A zero-filled vector whose allocation failure is an error, not an abort (sizes come from
/// users).
fn try_zeroed<T: Default + Clone>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        crate::error::Error::runtime(format!(
            "DefaultCPUAllocator: not enough memory: you tried to allocate {} bytes.",
            n.saturating_mul(std::mem::size_of::<T>())
        ))
    })?;
    v.resize(n, T::default());
    Ok(v)
}

/// `torch.randperm(n)`: 2 words per element; a forward Fisher-Yates shuffle of `0..n` where
/// step `i` swaps position `i` with `i + bits_i % (n - i)`, `bits_i` being element i's lane.
pub fn randperm(n: usize, dtype: DType, gen: &Generator) -> Result<Tensor> {
    if dtype == DType::Bool || (n > 0 && (n - 1) as i128 > dtype_bounds(dtype).1) {
        bail!(
            Runtime,
            "n is too large for result tensor type: '{}'",
            torch_type_name(dtype)
        );
    }
    let mut bits = try_zeroed::<u64>(n)?;
    per_lane(&mut bits, 2, gen, |b| b);
    let mut perm = try_zeroed::<i64>(n)?;
    perm.iter_mut().enumerate().for_each(|(i, v)| *v = i as i64);
    for (i, &b) in bits.iter().enumerate().take(n.saturating_sub(1)) {
        let j = i + (b % (n - i) as u64) as usize;
        perm.swap(i, j);
    }
    Tensor::from_vec(perm, &[n])?.to_dtype(dtype)
}

/// `torch.multinomial(input, num_samples, replacement)` over the rows of a 1-D or 2-D weight
/// tensor; returns int64 indices. 2 words per element, u = unit(bits, 53).
/// With replacement: element `(r, s)` (index `r * num_samples + s`) is the first category whose
/// cumulative weight exceeds `u * total`. Without replacement: element `(r, k)` (index
/// `r * categories + k`) gives category k the key `w_k / -ln(1 - u)`; the `num_samples` largest
/// keys, in decreasing order, are the sample (the exponential-race form of weighted sampling
/// without replacement, as torch uses).
pub fn multinomial(
    probs: &Tensor,
    num_samples: usize,
    replacement: bool,
    gen: &Generator,
) -> Result<Tensor> {
    if probs.ndim() != 1 && probs.ndim() != 2 {
        bail!(Runtime, "prob_dist must be 1 or 2 dim");
    }
    if !probs.dtype().is_floating_point() {
        bail!(
            Runtime,
            "multinomial only supports floating-point dtypes for input, got: {}",
            torch_type_name(probs.dtype())
        );
    }
    if num_samples == 0 {
        bail!(Runtime, "cannot sample n_sample <= 0 samples");
    }
    let k = probs.shape()[probs.ndim() - 1];
    let rows = if probs.ndim() == 2 {
        probs.shape()[0]
    } else {
        1
    };
    if !replacement && num_samples > k {
        bail!(
            Runtime,
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        );
    }
    if k > 1 << 24 {
        bail!(Runtime, "number of categories cannot exceed 2^24");
    }
    let w = probs.to_vec::<f64>();
    for r in 0..rows {
        let row = &w[r * k..(r + 1) * k];
        if row.iter().any(|&x| !x.is_finite() || x < 0.0) {
            bail!(
                Runtime,
                "probability tensor contains either `inf`, `nan` or element < 0"
            );
        }
        let total: f64 = row.iter().sum();
        if total <= 0.0 {
            bail!(
                Runtime,
                "invalid multinomial distribution (sum of probabilities <= 0)"
            );
        }
        if !replacement && row.iter().filter(|&&x| x > 0.0).count() < num_samples {
            bail!(
                Runtime,
                "invalid multinomial distribution (with replacement=False, not enough non-negative \
                 category to sample)"
            );
        }
    }
    let mut out = try_zeroed::<i64>(rows.saturating_mul(num_samples))?;
    if replacement {
        let mut u = try_zeroed::<f64>(rows * num_samples)?;
        per_lane(&mut u, 2, gen, unit53);
        for r in 0..rows {
            let mut cum = w[r * k..(r + 1) * k].to_vec();
            for i in 1..k {
                cum[i] += cum[i - 1];
            }
            let total = cum[k - 1];
            let last_nonzero = w[r * k..(r + 1) * k]
                .iter()
                .rposition(|&x| x > 0.0)
                .unwrap_or(0);
            for s in 0..num_samples {
                let target = u[r * num_samples + s] * total;
                let idx = cum.partition_point(|&c| c <= target).min(last_nonzero);
                out[r * num_samples + s] = idx as i64;
            }
        }
    } else {
        let mut u = try_zeroed::<f64>(rows * k)?;
        per_lane(&mut u, 2, gen, unit53);
        let mut keys: Vec<(f64, usize)> = Vec::with_capacity(k);
        for r in 0..rows {
            keys.clear();
            for c in 0..k {
                let wc = w[r * k + c];
                if wc > 0.0 {
                    keys.push((wc / (-(-u[r * k + c]).ln_1p()), c));
                }
            }
            // Largest keys first; NaN cannot occur (w > 0, and u = 0 gives +inf).
            keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for s in 0..num_samples {
                out[r * num_samples + s] = keys[s].1 as i64;
            }
        }
    }
    let shape: Vec<usize> = if probs.ndim() == 2 {
        vec![rows, num_samples]
    } else {
        vec![num_samples]
    };
    Tensor::from_vec(out, &shape)?.to_device(probs.device())
}
