//! Scalar math behind the unary ops that `std` lacks or does too slowly: a branch-free `exp`
//! for f32 that the compiler vectorises (the hot path of `exp`/`sigmoid`), `erf`/`erfc` from
//! libm, and `erfinv` (an initial approximation refined by Newton steps in f64).

/// Extra math on the accumulator types (`f32`, `f64`), so a float kernel is written once.
pub trait UnaryMath: Copy {
    /// `e^x`; for f32 a vectorisable polynomial within ~1 ulp, for f64 `std`'s.
    fn fast_exp(self) -> Self;
    /// `tanh(x)`; for f32 a vectorisable approximation (within 2.6e-7 relative).
    fn fast_tanh(self) -> Self;
    fn erf_(self) -> Self;
    fn erfc_(self) -> Self;
    fn erfinv_(self) -> Self;
}

impl UnaryMath for f32 {
    #[inline(always)]
    fn fast_exp(self) -> f32 {
        exp_f32(self)
    }
    #[inline(always)]
    fn fast_tanh(self) -> f32 {
        tanh_f32(self)
    }
    #[inline(always)]
    fn erf_(self) -> f32 {
        libm::erff(self)
    }
    #[inline(always)]
    fn erfc_(self) -> f32 {
        libm::erfcf(self)
    }
    #[inline(always)]
    fn erfinv_(self) -> f32 {
        // f64 keeps the Newton steps well inside f32's precision.
        erfinv_f64(self as f64) as f32
    }
}

impl UnaryMath for f64 {
    #[inline(always)]
    fn fast_exp(self) -> f64 {
        self.exp()
    }
    #[inline(always)]
    fn fast_tanh(self) -> f64 {
        self.tanh()
    }
    #[inline(always)]
    fn erf_(self) -> f64 {
        libm::erf(self)
    }
    #[inline(always)]
    fn erfc_(self) -> f64 {
        libm::erfc(self)
    }
    #[inline(always)]
    fn erfinv_(self) -> f64 {
        erfinv_f64(self)
    }
}

/// `e^x` for f32 without branches or calls, so loops over slices vectorise (Cephes `expf`):
/// `x = n ln2 + r` with `|r| <= ln2/2`, a degree-6 polynomial for `e^r`, and `2^n` built from
/// exponent bits. Results that overflow, underflow or are NaN are patched with selects.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln2 split so that n * C1 is exact for |n| < 2^15.
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to an integer (to nearest even) held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    // NaN passes through the clamp; the final select returns it.
    let xc = x.clamp(-104.0, 89.0);
    let t = xc * LOG2E + MAGIC;
    let n = t - MAGIC;
    let ni = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let r = xc - n * C1 - n * C2;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes' 5.0000001201e-1 rounds to 0.5 in f32.
    let y = p * r * r + r + 1.0;
    // 2^n in two factors: n reaches -150 (subnormal results), below a float's exponent range.
    let n1 = ni >> 1;
    let n2 = ni - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    let res = y * s1 * s2;
    if x > 88.722_84 {
        f32::INFINITY
    } else if x < -103.972_08 {
        0.0
    } else if x.is_nan() {
        x
    } else {
        res
    }
}

/// `tanh(x)` for f32 without branches or calls: for `|x| < 0.55` the odd rational approximation
/// `x P(x^2) / Q(x^2)` that Eigen uses (tiny `|x|` returns `x`), beyond it
/// `1 - 2 / (e^{2|x|} + 1)` with [`exp_f32`], which has no cancellation there. Both are computed
/// and one selected, so loops vectorise. Within 2.6e-7 relative (about 4 ulp).
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -2.760_768_5e-16,
        2.000_188e-13,
        -8.604_672e-11,
        5.122_297e-8,
        1.485_722_4e-5,
        6.372_619_3e-4,
        4.893_524_6e-3,
    ];
    const BETA: [f32; 4] = [1.198_258_4e-6, 1.185_347_1e-4, 2.268_434_6e-3, 4.893_525e-3];
    let a = x.abs();
    // Small branch: its input is clamped so the unused lanes stay finite.
    let xs = x.clamp(-0.55, 0.55);
    let x2 = xs * xs;
    let mut p = ALPHA[0];
    for &c in &ALPHA[1..] {
        p = p * x2 + c;
    }
    let mut q = BETA[0];
    for &c in &BETA[1..] {
        q = q * x2 + c;
    }
    let small = xs * p / q;
    // Large branch: tanh rounds to 1 beyond 9.01; NaN passes through `min` as 10 and is patched below.
    let e = exp_f32(2.0 * a.min(10.0));
    let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    if a < 4e-4 {
        x
    } else if a < 0.55 {
        small
    } else if x.is_nan() {
        x
    } else {
        large
    }
}

/// Giles' single-precision approximation of `erfinv(a) / a` ("Approximating the erfinv
/// function", GPU Computing Gems, 2011), as a function of `w = -ln((1 - a)(1 + a))`.
fn giles(w: f64) -> f64 {
    const SMALL: [f64; 9] = [
        2.810_226_36e-08,
        3.432_739_39e-07,
        -3.523_387_7e-06,
        -4.391_506_54e-06,
        0.000_218_580_87,
        -0.001_253_725_03,
        -0.004_177_681_64,
        0.246_640_727,
        1.501_409_41,
    ];
    const LARGE: [f64; 9] = [
        -0.000_200_214_257,
        0.000_100_950_558,
        0.001_349_343_22,
        -0.003_673_428_44,
        0.005_739_507_73,
        -0.007_622_461_3,
        0.009_438_870_47,
        1.001_674_06,
        2.832_976_82,
    ];
    let (coef, w) = if w < 5.0 {
        (&SMALL, w - 2.5)
    } else {
        (&LARGE, w.sqrt() - 3.0)
    };
    coef.iter().fold(0.0, |p, &c| p * w + c)
}

/// The inverse error function, to about 1e-15 relative. Giles' polynomial (or, deep in the tail
/// where it was not fitted, the asymptotic `erfc(x) ~ e^{-x^2} / (x sqrt(pi))`) gives a start
/// that Newton's method refines: on `erf(x) - a` near 0, and on `ln erfc(x) - ln(1 - a)` for
/// `a > 0.5`, where `1 - a` is exact and the log form stays well conditioned as `a -> 1`.
pub fn erfinv_f64(y: f64) -> f64 {
    const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
    let a = y.abs();
    if a.is_nan() || a > 1.0 {
        return f64::NAN;
    }
    if a == 1.0 {
        return f64::INFINITY.copysign(y);
    }
    if a == 0.0 {
        return y;
    }
    let w = -((1.0 - a) * (1.0 + a)).ln();
    let (mut x, steps) = if w < 16.0 {
        (a * giles(w), 3)
    } else {
        ((w - (std::f64::consts::PI * w).sqrt().ln()).sqrt(), 4)
    };
    if a <= 0.5 {
        for _ in 0..steps {
            x -= (libm::erf(x) - a) / (TWO_OVER_SQRT_PI * (-x * x).exp());
        }
    } else {
        let lq = (1.0 - a).ln();
        for _ in 0..steps {
            let e = libm::erfc(x);
            x += (e.ln() - lq) * e / (TWO_OVER_SQRT_PI * (-x * x).exp());
        }
    }
    x.copysign(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_matches_std() {
        let mut worst = 0.0f64;
        let mut x = -110.0f32;
        while x < 95.0 {
            let (got, want) = (exp_f32(x) as f64, (x as f64).exp());
            if want > f32::MIN_POSITIVE as f64 && want < f32::MAX as f64 {
                worst = worst.max(((got - want) / want).abs());
            }
            x += 0.0173;
        }
        assert!(worst < 2.5e-7, "worst relative error {worst}");
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
        // Subnormal results are produced, not flushed.
        assert!(exp_f32(-100.0) > 0.0);
    }

    #[test]
    fn tanh_f32_matches_std() {
        let mut x = -12.0f32;
        while x < 12.0 {
            let (got, want) = (tanh_f32(x) as f64, (x as f64).tanh());
            assert!(
                (got - want).abs() <= 3.5e-7 * want.abs() + 1e-30,
                "{x}: {got} vs {want}"
            );
            x += 0.000_731;
        }
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
        assert_eq!(tanh_f32(1e-30), 1e-30);
    }

    #[test]
    fn erfinv_inverts_erf() {
        for i in -999..1000 {
            let y = i as f64 / 1000.0;
            let x = erfinv_f64(y);
            assert!(
                (libm::erf(x) - y).abs() <= 1e-15 * y.abs().max(1e-300) + 1e-300,
                "{y} {x}"
            );
        }
        for q in [1e-8, 1e-12, 1e-16] {
            // The tail is measured against the `1 - y` that f64 actually holds.
            let y = 1.0 - q;
            let (x, q) = (erfinv_f64(y), 1.0 - y);
            assert!(((libm::erfc(x) - q) / q).abs() < 1e-13, "{q}");
        }
        assert!((erfinv_f64(0.5) - 0.476_936_276_204_470_3).abs() < 1e-15);
        assert_eq!(erfinv_f64(1.0), f64::INFINITY);
        assert_eq!(erfinv_f64(-1.0), f64::NEG_INFINITY);
        assert!(erfinv_f64(1.5).is_nan());
    }
}
