//! Small loops shared by the indexing ops: a sequential strided walk, strided block copies and
//! the per-dtype reductions (`add`, `multiply`, `amax`, ...) of scatter and index_put.

use crate::element::Element;
use half::{bf16, f16};

/// Runs `$body` with `$T` bound to an unsigned integer of `$size` bytes: kernels that only
/// move elements do not care what the bits mean, so four instantiations cover every dtype.
#[macro_export]
macro_rules! dispatch_by_size {
    ($size:expr, $T:ident => $body:expr) => {{
        match $size {
            1 => {
                type $T = u8;
                $body
            }
            2 => {
                type $T = u16;
                $body
            }
            4 => {
                type $T = u32;
                $body
            }
            _ => {
                type $T = u64;
                $body
            }
        }
    }};
}

/// Calls `f(offset)` for every element of a strided box, in row-major order, on this thread.
/// Order matters to callers (index tables, last-write-wins scatters), so this never goes
/// parallel.
pub fn for_each_offset(shape: &[usize], strides: &[isize], mut f: impl FnMut(isize)) {
    walk(shape, [strides], |o| f(o[0]));
}

/// Copies a strided box from `src` to `dst` (same shape, own strides).
///
/// # Safety
/// Both boxes must lie inside their allocations and must not overlap.
pub unsafe fn copy_strided<T: Copy>(
    dst: *mut T,
    dst_st: &[isize],
    src: *const T,
    src_st: &[isize],
    shape: &[usize],
) {
    if let [n] = *shape {
        let (ds, ss) = (dst_st[0], src_st[0]);
        if ds == 1 && ss == 1 {
            std::ptr::copy_nonoverlapping(src, dst, n);
        } else if ds == 1 && ss == 0 {
            std::slice::from_raw_parts_mut(dst, n).fill(*src);
        } else if ss == 0 {
            let v = *src;
            for i in 0..n as isize {
                *dst.offset(i * ds) = v;
            }
        } else {
            for i in 0..n as isize {
                *dst.offset(i * ds) = *src.offset(i * ss);
            }
        }
        return;
    }
    walk2(shape, dst_st, src_st, |d, s| {
        *dst.offset(d) = *src.offset(s)
    });
}

/// `dst[i] = f(dst[i], src[i])` over a strided box, in row-major order.
///
/// # Safety
/// Both boxes must lie inside their allocations.
pub unsafe fn combine_strided<T: Copy>(
    dst: *mut T,
    dst_st: &[isize],
    src: *const T,
    src_st: &[isize],
    shape: &[usize],
    f: impl Fn(T, T) -> T,
) {
    walk2(shape, dst_st, src_st, |d, s| {
        *dst.offset(d) = f(*dst.offset(d), *src.offset(s))
    });
}

/// Calls `f(offsets, inner_strides, len)` for every innermost run of a box walked with `N`
/// stride sets, in row-major order, on this thread.
pub fn walk_runs<const N: usize>(
    shape: &[usize],
    strides: [&[isize]; N],
    mut f: impl FnMut([isize; N], [isize; N], usize),
) {
    let nd = shape.len();
    if shape.contains(&0) {
        return;
    }
    if nd == 0 {
        f([0; N], [0; N], 1);
        return;
    }
    let inner = shape[nd - 1];
    let inner_st: [isize; N] = std::array::from_fn(|k| strides[k][nd - 1]);
    let mut idx = vec![0usize; nd];
    let mut base = [0isize; N];
    loop {
        f(base, inner_st, inner);
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            for k in 0..N {
                base[k] += strides[k][d];
            }
            if idx[d] < shape[d] {
                break;
            }
            for k in 0..N {
                base[k] -= strides[k][d] * shape[d] as isize;
            }
            idx[d] = 0;
        }
    }
}

/// Calls `f(offsets)` for every element of a box walked with `N` stride sets, in row-major
/// order, on this thread.
pub fn walk<const N: usize>(
    shape: &[usize],
    strides: [&[isize]; N],
    mut f: impl FnMut([isize; N]),
) {
    walk_runs(shape, strides, |base, st, len| {
        for i in 0..len as isize {
            f(std::array::from_fn(|k| base[k] + i * st[k]));
        }
    });
}

/// [`walk`] over two stride sets.
pub fn walk2(shape: &[usize], a: &[isize], b: &[isize], mut f: impl FnMut(isize, isize)) {
    walk(shape, [a, b], |o| f(o[0], o[1]));
}

/// The reductions scatter, index_add and index_put combine elements with, per dtype. Integer
/// arithmetic wraps as torch's does; 16-bit floats compute in f32; max/min propagate NaN.
pub trait Combine: Element {
    fn combine_add(self, o: Self) -> Self;
    fn combine_mul(self, o: Self) -> Self;
    /// `self / n` for a mean: true division for floats, floor division for integers.
    fn div_count(self, n: i64) -> Self;
    #[inline(always)]
    #[allow(clippy::eq_op)]
    fn combine_max(self, o: Self) -> Self {
        if self != self || o > self {
            if self != self {
                self
            } else {
                o
            }
        } else if o != o {
            o
        } else {
            self
        }
    }
    #[inline(always)]
    #[allow(clippy::eq_op)]
    fn combine_min(self, o: Self) -> Self {
        if self != self {
            self
        } else if o != o || o < self {
            o
        } else {
            self
        }
    }
}

macro_rules! combine_int {
    ($($t:ty),*) => {$(
        impl Combine for $t {
            #[inline(always)] fn combine_add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn combine_mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline(always)]
            fn div_count(self, n: i64) -> Self {
                // Counts are positive, so Euclidean division is floor division.
                if n <= 0 { return self; }
                (self as i64).div_euclid(n) as $t
            }
        }
    )*};
}
combine_int!(u8, i8, i16, i32, i64);

macro_rules! combine_float {
    ($($t:ty),*) => {$(
        impl Combine for $t {
            #[inline(always)] fn combine_add(self, o: Self) -> Self { self + o }
            #[inline(always)] fn combine_mul(self, o: Self) -> Self { self * o }
            #[inline(always)] fn div_count(self, n: i64) -> Self { self / (n as $t) }
        }
    )*};
}
combine_float!(f32, f64);

macro_rules! combine_half {
    ($($t:ty),*) => {$(
        impl Combine for $t {
            #[inline(always)]
            fn combine_add(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() + o.to_f32()) }
            #[inline(always)]
            fn combine_mul(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() * o.to_f32()) }
            #[inline(always)]
            fn div_count(self, n: i64) -> Self { <$t>::from_f32(self.to_f32() / n as f32) }
        }
    )*};
}
combine_half!(f16, bf16);

impl Combine for bool {
    #[inline(always)]
    fn combine_add(self, o: Self) -> Self {
        self | o
    }
    #[inline(always)]
    fn combine_mul(self, o: Self) -> Self {
        self & o
    }
    fn div_count(self, _n: i64) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_row_major_order() {
        let mut seen = Vec::new();
        for_each_offset(&[2, 3], &[1, 2], |o| seen.push(o));
        assert_eq!(seen, vec![0, 2, 4, 1, 3, 5]);
        let mut n = 0;
        for_each_offset(&[], &[], |_| n += 1);
        assert_eq!(n, 1);
        for_each_offset(&[3, 0], &[1, 1], |_| n += 1);
        assert_eq!(n, 1);
    }

    #[test]
    fn reductions() {
        assert_eq!((-7i64).div_count(2), -4);
        assert_eq!(7i64.div_count(2), 3);
        assert!(f32::NAN.combine_max(1.0).is_nan());
        assert!(1.0f32.combine_max(f32::NAN).is_nan());
        assert_eq!(2i32.combine_min(-3), -3);
        assert_eq!(200u8.combine_add(100), 44);
    }
}
