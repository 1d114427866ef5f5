//! Reductions: sum, prod, mean, max/min (with indices), arg-reductions, var/std, norms,
//! logsumexp, all/any. Each op validates dims and dtypes, then hands a closure-built
//! [`Reducer`] to the one engine in [`crate::cpu::reduce`].

use crate::cpu::elementwise::map2;
use crate::cpu::reduce::{fold, reduce, ReduceGeometry, Reducer};
use crate::cuda::reduce::{reduce1, reduce2};
use crate::dtype::scalar_type_name;
use crate::dtype::DType;
use crate::element::num_like::FloatMath;
use crate::element::{Element, Float};
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::binary::{prepare_binary, promote};
use crate::tensor::Tensor;
use crate::{bail, dispatch_all, dispatch_float};

/// Which dims a reduction covers; `None` or an empty list means all of them.
pub fn reduce_mask(ndim: usize, dims: Option<&[i64]>, op: &str) -> Result<Vec<bool>> {
    let mut mask = vec![false; ndim];
    match dims {
        None => mask.fill(true),
        Some([]) => mask.fill(true),
        Some(ds) => {
            for &d in ds {
                let w = wrap_dim(d, ndim, op)?;
                if ndim == 0 {
                    continue;
                }
                if mask[w] {
                    bail!(
                        Runtime,
                        "dim {w} appears multiple times in the list of dims"
                    );
                }
                mask[w] = true;
            }
        }
    }
    Ok(mask)
}

/// Output shape: reduced dims dropped, or kept as size 1 with `keepdim`.
pub fn out_shape(shape: &[usize], mask: &[bool], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .zip(mask)
        .filter_map(|(&s, &m)| {
            if !m {
                Some(s)
            } else if keepdim {
                Some(1)
            } else {
                None
            }
        })
        .collect()
}

/// Reductions built from closures run on the CPU only; CUDA tensors take `crate::cuda::reduce`.
fn refuse_cuda(x: &Tensor) -> Result<()> {
    if x.is_cuda() {
        bail!(
            NotImplemented,
            "this reduction: not implemented for CUDA tensors in ferrotorch yet"
        );
    }
    Ok(())
}

/// Runs `r` over the masked dims of `x` into a new tensor of the reducer's output type.
pub fn run<T: Element, R: Reducer<T>>(
    x: &Tensor,
    mask: &[bool],
    keepdim: bool,
    r: &R,
) -> Result<Tensor>
where
    R::Out: Element,
{
    refuse_cuda(x)?;
    let g = ReduceGeometry::new(x.shape(), x.strides(), mask);
    let out = Tensor::empty(
        &out_shape(x.shape(), mask, keepdim),
        R::Out::DTYPE,
        x.device(),
    )?;
    // SAFETY: x's layout was validated against its storage; out is fresh and contiguous.
    unsafe {
        reduce(
            x.data_ptr::<T>() as *const T,
            &g,
            r,
            out.data_ptr::<R::Out>(),
        )
    };
    Ok(out)
}

/// Like [`run`] for reducers with two outputs (values and indices, min and max ...).
pub fn run_pair<T: Element, A: Element, B: Element, R: Reducer<T, Out = (A, B)>>(
    x: &Tensor,
    mask: &[bool],
    keepdim: bool,
    r: &R,
) -> Result<(Tensor, Tensor)> {
    refuse_cuda(x)?;
    let g = ReduceGeometry::new(x.shape(), x.strides(), mask);
    let shape = out_shape(x.shape(), mask, keepdim);
    let mut buf = vec![(A::zero(), B::zero()); g.out_numel()];
    // SAFETY: as in `run`; buf holds out_numel values.
    unsafe { reduce(x.data_ptr::<T>() as *const T, &g, r, buf.as_mut_ptr()) };
    let a = Tensor::from_vec(buf.iter().map(|p| p.0).collect::<Vec<A>>(), &shape)?;
    let b = Tensor::from_vec(buf.iter().map(|p| p.1).collect::<Vec<B>>(), &shape)?;
    Ok((a, b))
}

/// The smallest and largest value of each dtype: identities of max and min.
pub trait Bounded: Element {
    const LOWEST: Self;
    const HIGHEST: Self;
}
macro_rules! bounded {
    ($($t:ty: $lo:expr, $hi:expr);* $(;)?) => {$(
        impl Bounded for $t {
            const LOWEST: Self = $lo;
            const HIGHEST: Self = $hi;
        }
    )*};
}
bounded!(
    bool: false, true;
    u8: u8::MIN, u8::MAX;
    i8: i8::MIN, i8::MAX;
    i16: i16::MIN, i16::MAX;
    i32: i32::MIN, i32::MAX;
    i64: i64::MIN, i64::MAX;
    f32: f32::NEG_INFINITY, f32::INFINITY;
    f64: f64::NEG_INFINITY, f64::INFINITY;
    half::f16: half::f16::NEG_INFINITY, half::f16::INFINITY;
    half::bf16: half::bf16::NEG_INFINITY, half::bf16::INFINITY;
);

/// Whether `x` replaces the running extreme `cur` (max when `MAX`): strictly better, or a NaN
/// over a number; a NaN is never replaced, so NaN propagates and its first index is kept.
#[inline(always)]
#[allow(clippy::eq_op)]
pub fn beats<T: PartialOrd, const MAX: bool>(cur: T, x: T) -> bool {
    let cur_nan = cur != cur;
    let x_nan = x != x;
    !cur_nan && (x_nan || if MAX { x > cur } else { x < cur })
}

/// An index no element has: marks an empty arg-accumulator.
const NO_INDEX: usize = usize::MAX;

/// Combines two (value, index) partial results: the better value, ties to the lower index.
#[inline(always)]
fn arg_combine<T: PartialOrd + Copy, const MAX: bool>(a: (T, usize), b: (T, usize)) -> (T, usize) {
    if a.1 == NO_INDEX || beats::<T, MAX>(a.0, b.0) {
        return if b.1 == NO_INDEX { a } else { b };
    }
    if b.1 == NO_INDEX || beats::<T, MAX>(b.0, a.0) {
        return a;
    }
    if b.1 < a.1 {
        b
    } else {
        a
    }
}

fn float_only(x: &Tensor, op: &str) -> Result<()> {
    if !x.dtype().is_floating_point() {
        bail!(
            Runtime,
            "{op}(): could not infer output dtype. Input dtype must be either a floating point or \
             complex dtype. Got: {}",
            scalar_type_name(x.dtype())
        );
    }
    Ok(())
}

fn cast_opt(x: &Tensor, dtype: Option<DType>) -> Result<Tensor> {
    match dtype {
        Some(d) => x.to_dtype(d),
        None => Ok(x.clone()),
    }
}

/// Sum (skipping NaN when `skip_nan`): floats accumulate in their `Acc` type, integers and
/// bool in int64.
fn sum_kernel(x: &Tensor, mask: &[bool], keepdim: bool, skip_nan: bool) -> Result<Tensor> {
    if x.is_cuda() {
        let op = if skip_nan { "nansum" } else { "sum" };
        return reduce1(x, mask, keepdim, op, 0.0, sum_dtype(x.dtype()));
    }
    dispatch_float!(x.dtype(), T => {
        let zero = acc_of::<T>(0.0);
        let finish = |a, _| T::from_acc(a);
        if skip_nan {
            run(x, mask, keepdim, &fold(zero, |a, v: T, _| {
                let v = v.to_acc();
                if v.is_nan() { a } else { a + v }
            }, |a, b| a + b, finish))
        } else {
            run(x, mask, keepdim, &fold(zero, |a, v: T, _| a + v.to_acc(), |a, b| a + b, finish))
        }
    }, _ => dispatch_all!(x.dtype(), T => run(x, mask, keepdim, &fold(
        0i64, |a: i64, v: T, _| a.wrapping_add(v.to_i64()), |a, b| a.wrapping_add(b), |a, _| a))))
}

/// The dtype sum/prod give without `dtype=`: integers and bool widen to int64.
fn sum_dtype(d: DType) -> DType {
    if d.is_floating_point() {
        d
    } else {
        DType::I64
    }
}

/// `torch.sum(x, dim, keepdim, dtype=)`.
pub fn sum(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, "sum")?;
    let xin = cast_opt(x, dtype)?;
    sum_kernel(&xin, &mask, keepdim, false)?.to_dtype(dtype.unwrap_or(sum_dtype(x.dtype())))
}

/// `torch.nansum`: NaN counts as zero.
pub fn nansum(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, "nansum")?;
    let xin = cast_opt(x, dtype)?;
    sum_kernel(&xin, &mask, keepdim, true)?.to_dtype(dtype.unwrap_or(sum_dtype(x.dtype())))
}

/// `torch.prod(x, dim, keepdim, dtype=)`.
pub fn prod(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, "prod")?;
    let x2 = cast_opt(x, dtype)?;
    let (x, mask) = (&x2, &mask);
    if x.is_cuda() {
        return reduce1(x, mask, keepdim, "prod", 0.0, sum_dtype(x.dtype()))?
            .to_dtype(dtype.unwrap_or(sum_dtype(x.dtype())));
    }
    let r = dispatch_float!(x.dtype(), T => {
        let one = acc_of::<T>(1.0);
        run(x, mask, keepdim, &fold(one, |a, v: T, _| a * v.to_acc(), |a, b| a * b, |a, _| T::from_acc(a)))
    }, _ => dispatch_all!(x.dtype(), T => run(x, mask, keepdim, &fold(
        1i64, |a: i64, v: T, _| a.wrapping_mul(v.to_i64()), |a, b| a.wrapping_mul(b), |a, _| a))))?;
    r.to_dtype(dtype.unwrap_or(sum_dtype(x2.dtype())))
}

/// `torch.mean`: floating inputs only (or `dtype=` a floating dtype).
pub fn mean(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, "mean")?;
    let x = cast_opt(x, dtype)?;
    float_only(&x, "mean")?;
    if x.is_cuda() {
        return reduce1(&x, &mask, keepdim, "mean", 0.0, x.dtype());
    }
    dispatch_float!(x.dtype(), T => {
        let zero = acc_of::<T>(0.0);
        run(&x, &mask, keepdim, &fold(zero, |a, v: T, _| a + v.to_acc(), |a, b| a + b,
            |a, n| T::from_acc(a / acc_of::<T>(n as f64))))
    }, _ => unreachable!("checked floating above"))
}

/// `torch.nanmean`: the mean of the non-NaN elements.
pub fn nanmean(
    x: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, "nanmean")?;
    let x = cast_opt(x, dtype)?;
    if !x.dtype().is_floating_point() {
        bail!(
            Runtime,
            "nanmean(): expected input to have floating point or complex dtype but got {}",
            scalar_type_name(x.dtype())
        );
    }
    if x.is_cuda() {
        return reduce1(&x, &mask, keepdim, "nanmean", 0.0, x.dtype());
    }
    dispatch_float!(x.dtype(), T => {
        let zero = acc_of::<T>(0.0);
        run(&x, &mask, keepdim, &fold((zero, 0usize), |(s, c), v: T, _| {
            let v = v.to_acc();
            if v.is_nan() { (s, c) } else { (s + v, c + 1) }
        }, |a, b| (a.0 + b.0, a.1 + b.1),
            |(s, c), _| T::from_acc(s / acc_of::<T>(c as f64))))
    }, _ => unreachable!("checked floating above"))
}

/// `v` in the accumulator type of float `T`.
#[inline(always)]
pub fn acc_of<T: Float>(v: f64) -> T::Acc {
    <T::Acc as FloatMath>::from_f64(v)
}

/// Fails like torch when a max/min-like reduction meets an empty reduced dim.
fn check_nonempty(x: &Tensor, mask: &[bool], op: &str, all_dims: bool) -> Result<()> {
    if all_dims && x.numel() == 0 {
        let hint = if op == "argmax" || op == "argmin" {
            ""
        } else {
            " Specify the reduction dim with the 'dim' argument."
        };
        bail!(
            Index,
            "{op}(): Expected reduction dim to be specified for input.numel() == 0.{hint}"
        );
    }
    for (d, (&s, &m)) in x.shape().iter().zip(mask).enumerate() {
        if m && s == 0 {
            bail!(
                Index,
                "{op}(): Expected reduction dim {d} to have non-zero size."
            );
        }
    }
    Ok(())
}

fn amax_kernel<const MAX: bool>(x: &Tensor, mask: &[bool], keepdim: bool) -> Result<Tensor> {
    if x.is_cuda() {
        let op = if MAX { "amax" } else { "amin" };
        return reduce1(x, mask, keepdim, op, 0.0, x.dtype());
    }
    fn go<T: Bounded, const MAX: bool>(x: &Tensor, mask: &[bool], keepdim: bool) -> Result<Tensor> {
        let init = if MAX { T::LOWEST } else { T::HIGHEST };
        let pick = |a: T, v: T| if beats::<T, MAX>(a, v) { v } else { a };
        run(
            x,
            mask,
            keepdim,
            &fold(init, move |a, v: T, _| pick(a, v), pick, |a, _| a),
        )
    }
    dispatch_all!(x.dtype(), T => go::<T, MAX>(x, mask, keepdim))
}

/// `torch.amax` / `torch.amin` (`MAX` picks which) over `dims` (all when empty).
pub fn amax_amin<const MAX: bool>(x: &Tensor, dims: &[i64], keepdim: bool) -> Result<Tensor> {
    let op = if MAX { "amax" } else { "amin" };
    let mask = reduce_mask(x.ndim(), Some(dims), op)?;
    check_nonempty(x, &mask, op, false)?;
    amax_kernel::<MAX>(x, &mask, keepdim)
}

/// `torch.max(x)` / `torch.min(x)` without a dim: the extreme value as a 0-d tensor.
pub fn max_min_all<const MAX: bool>(x: &Tensor) -> Result<Tensor> {
    let op = if MAX { "max" } else { "min" };
    let mask = vec![true; x.ndim()];
    check_nonempty(x, &mask, op, true)?;
    amax_kernel::<MAX>(x, &mask, false)
}

fn arg_kernel<const MAX: bool>(
    x: &Tensor,
    mask: &[bool],
    keepdim: bool,
) -> Result<(Tensor, Tensor)> {
    if x.is_cuda() {
        let op = if MAX { "argmax" } else { "argmin" };
        return reduce2(x, mask, keepdim, op, 0.0, (x.dtype(), DType::I64));
    }
    fn go<T: Bounded, const MAX: bool>(
        x: &Tensor,
        mask: &[bool],
        keepdim: bool,
    ) -> Result<(Tensor, Tensor)> {
        let init = (if MAX { T::LOWEST } else { T::HIGHEST }, NO_INDEX);
        run_pair(
            x,
            mask,
            keepdim,
            &fold(
                init,
                |a: (T, usize), v: T, i| {
                    if a.1 == NO_INDEX || beats::<T, MAX>(a.0, v) {
                        (v, i)
                    } else {
                        a
                    }
                },
                arg_combine::<T, MAX>,
                |a, _| (a.0, a.1 as i64),
            ),
        )
    }
    dispatch_all!(x.dtype(), T => go::<T, MAX>(x, mask, keepdim))
}

/// `torch.max(x, dim, keepdim)` / `min`: values and the index of the first extreme.
pub fn max_min_dim<const MAX: bool>(
    x: &Tensor,
    dim: i64,
    keepdim: bool,
) -> Result<(Tensor, Tensor)> {
    let op = if MAX { "max" } else { "min" };
    let mask = reduce_mask(x.ndim(), Some(&[dim]), op)?;
    check_nonempty(x, &mask, op, false)?;
    arg_kernel::<MAX>(x, &mask, keepdim)
}

/// `torch.argmax` / `argmin`: over all elements (flat index) or one dim.
pub fn argmax_argmin<const MAX: bool>(
    x: &Tensor,
    dim: Option<i64>,
    keepdim: bool,
) -> Result<Tensor> {
    let op = if MAX { "argmax" } else { "argmin" };
    let dims = dim.map(|d| [d]);
    let mask = reduce_mask(x.ndim(), dims.as_ref().map(|d| &d[..]), op)?;
    check_nonempty(x, &mask, op, dim.is_none())?;
    // Without a dim, keepdim keeps every dim as size 1 (as torch).
    arg_kernel::<MAX>(x, &mask, keepdim).map(|p| p.1)
}

/// `torch.aminmax(x, dim=, keepdim=)`: (min, max).
pub fn aminmax(x: &Tensor, dim: Option<i64>, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let dims = dim.map(|d| [d]);
    let mask = reduce_mask(x.ndim(), dims.as_ref().map(|d| &d[..]), "aminmax")?;
    if x.shape().iter().zip(&mask).any(|(&s, &m)| m && s == 0) || (dim.is_none() && x.numel() == 0)
    {
        bail!(
            Runtime,
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no \
             identity."
        );
    }
    if x.is_cuda() {
        return reduce2(x, &mask, keepdim, "aminmax", 0.0, (x.dtype(), x.dtype()));
    }
    fn go<T: Bounded>(x: &Tensor, mask: &[bool], keepdim: bool) -> Result<(Tensor, Tensor)> {
        let lo = |a: T, v: T| if beats::<T, false>(a, v) { v } else { a };
        let hi = |a: T, v: T| if beats::<T, true>(a, v) { v } else { a };
        run_pair(
            x,
            mask,
            keepdim,
            &fold(
                (T::HIGHEST, T::LOWEST),
                move |a: (T, T), v: T, _| (lo(a.0, v), hi(a.1, v)),
                move |a, b| (lo(a.0, b.0), hi(a.1, b.1)),
                |a, _| a,
            ),
        )
    }
    dispatch_all!(x.dtype(), T => go::<T>(x, &mask, keepdim))
}

/// `torch.maximum` / `minimum` (and `max(a, b)`): elementwise, NaN propagating.
pub fn maximum_minimum<const MAX: bool>(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = promote(a, b);
    let op = if MAX { "maximum" } else { "minimum" };
    let (out, a, b) = prepare_binary(op, a, b, dt, dt)?;
    if out.is_cuda() {
        crate::cuda::reduce::maximum_minimum::<MAX>(&out, &a, &b)?;
        return Ok(out);
    }
    dispatch_all!(dt, T => map2::<T, T, T>(&out, &a, &b, |x, y| if beats::<T, MAX>(x, y) { y } else { x }));
    Ok(out)
}

/// Welford accumulator: (count, mean, sum of squared deviations).
type Welford = (f64, f64, f64);

#[inline(always)]
fn welford_combine(a: Welford, b: Welford) -> Welford {
    if a.0 == 0.0 {
        return b;
    }
    if b.0 == 0.0 {
        return a;
    }
    let n = a.0 + b.0;
    let d = b.1 - a.1;
    (n, a.1 + d * b.0 / n, a.2 + b.2 + d * d * a.0 * b.0 / n)
}

/// `torch.var_mean` / `std_mean` (`sqrt` gives std): (var or std, mean), Welford in f64.
pub fn var_mean(
    x: &Tensor,
    dims: Option<&[i64]>,
    correction: f64,
    keepdim: bool,
    sqrt: bool,
) -> Result<(Tensor, Tensor)> {
    let op = if sqrt { "std" } else { "var" };
    let mask = reduce_mask(x.ndim(), dims, op)?;
    if !x.dtype().is_floating_point() {
        bail!(
            Runtime,
            "std and var only support floating point and complex dtypes"
        );
    }
    if x.is_cuda() {
        let op = if sqrt { "std_mean" } else { "var_mean" };
        return reduce2(x, &mask, keepdim, op, correction, (x.dtype(), x.dtype()));
    }
    let (v, m) = dispatch_float!(x.dtype(), T => run_pair(x, &mask, keepdim, &fold(
        (0.0, 0.0, 0.0),
        |(n, m, m2): Welford, v: T, _| {
            let x = Element::to_f64(v);
            let n1 = n + 1.0;
            let d = x - m;
            let m1 = m + d / n1;
            (n1, m1, m2 + d * (x - m1))
        },
        welford_combine,
        |(n, m, m2), _| {
            let var = m2 / (n - correction).max(0.0);
            (if sqrt { var.sqrt() } else { var }, if n == 0.0 { f64::NAN } else { m })
        })), _ => unreachable!("checked floating above"))?;
    Ok((v.to_dtype(x.dtype())?, m.to_dtype(x.dtype())?))
}

/// The order of a vector norm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormOrd(pub f64);

/// `torch.linalg.vector_norm(x, ord, dim, keepdim, dtype=)`.
pub fn vector_norm(
    x: &Tensor,
    ord: NormOrd,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let op = "linalg.vector_norm";
    let mask = reduce_mask(x.ndim(), dims, op)?;
    if !x.dtype().is_floating_point() {
        bail!(
            Runtime,
            "{op}: Expected a floating point or complex tensor as input. Got {}",
            scalar_type_name(x.dtype())
        );
    }
    if let Some(d) = dtype {
        if !d.is_floating_point() {
            bail!(
                Runtime,
                "{op}: dtype should be floating point or complex, but got {d}"
            );
        }
    }
    let x = cast_opt(x, dtype)?;
    let p = ord.0;
    let red: usize = x
        .shape()
        .iter()
        .zip(&mask)
        .filter(|(_, &m)| m)
        .map(|(&s, _)| s)
        .product();
    if p.is_infinite() && red == 0 {
        bail!(
            Runtime,
            "{op} cannot compute the {} norm on an empty tensor because the operation does not \
             have an identity",
            if p > 0.0 { "inf" } else { "-inf" }
        );
    }
    let (x, mask) = (&x, &mask[..]);
    if x.is_cuda() {
        let op = if p == 2.0 {
            "norm2"
        } else if p == 1.0 {
            "norm1"
        } else if p == 0.0 {
            "norm0"
        } else if p == f64::INFINITY {
            "norm_inf"
        } else if p == f64::NEG_INFINITY {
            "norm_ninf"
        } else {
            "norm_p"
        };
        return reduce1(x, mask, keepdim, op, p, x.dtype());
    }
    dispatch_float!(x.dtype(), T => {
        type A = <T as Float>::Acc;
        let (zero, one) = (acc_of::<T>(0.0), acc_of::<T>(1.0));
        let add = |a: A, b: A| a + b;
        let done = |a: A, _| T::from_acc(a);
        let bigger = |a: A, b: A| if b > a || b.is_nan() { b } else { a };
        let smaller = |a: A, b: A| if b < a || b.is_nan() { b } else { a };
        if p == 2.0 {
            run(x, mask, keepdim, &fold(zero, |a, v: T, _| { let v = v.to_acc(); a + v * v }, add,
                |a: A, _| T::from_acc(a.sqrt())))
        } else if p == 1.0 {
            run(x, mask, keepdim, &fold(zero, |a, v: T, _| a + v.to_acc().abs(), add, done))
        } else if p == f64::INFINITY {
            run(x, mask, keepdim, &fold(zero, move |a, v: T, _| bigger(a, v.to_acc().abs()), bigger, done))
        } else if p == f64::NEG_INFINITY {
            let inf = acc_of::<T>(f64::INFINITY);
            run(x, mask, keepdim, &fold(inf, move |a, v: T, _| smaller(a, v.to_acc().abs()), smaller, done))
        } else if p == 0.0 {
            run(x, mask, keepdim, &fold(zero, move |a, v: T, _| {
                let v = v.to_acc();
                if v == zero { a } else { a + one }
            }, add, done))
        } else {
            let pa = acc_of::<T>(p);
            let inv = acc_of::<T>(1.0 / p);
            run(x, mask, keepdim, &fold(zero, move |a, v: T, _| a + v.to_acc().abs().powf(pa), add,
                move |a: A, _| T::from_acc(a.powf(inv))))
        }
    }, _ => unreachable!("checked floating above"))
}

/// `torch.logsumexp(x, dim, keepdim)`: one pass with a running maximum, so it never overflows.
pub fn logsumexp(x: &Tensor, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, "logsumexp")?;
    let x = if x.dtype().is_floating_point() {
        x.clone()
    } else {
        x.to_dtype(crate::dtype::default_float())?
    };
    if x.is_cuda() {
        return reduce1(&x, &mask, keepdim, "logsumexp", 0.0, x.dtype());
    }
    dispatch_float!(x.dtype(), T => {
        type A = <T as Float>::Acc;
        let (zero, one, ninf) = (acc_of::<T>(0.0), acc_of::<T>(1.0), acc_of::<T>(f64::NEG_INFINITY));
        // (running max m, sum of exp(x - m)).
        let merge = move |(m1, s1): (A, A), (m2, s2): (A, A)| {
            if m1.is_nan() || m2.is_nan() {
                (acc_of::<T>(f64::NAN), s1)
            } else if m2 == ninf {
                (m1, s1)
            } else if m1 == ninf {
                (m2, s2)
            } else if m1 >= m2 {
                (m1, s1 + s2 * (m2 - m1).exp())
            } else {
                (m2, s2 + s1 * (m1 - m2).exp())
            }
        };
        run(&x, &mask, keepdim, &fold((ninf, zero), move |a, v: T, _| merge(a, (v.to_acc(), one)), merge,
            move |(m, s): (A, A), _| {
                if m.is_nan() || m == ninf || m == -ninf { T::from_acc(m) } else { T::from_acc(m + s.ln()) }
            }))
    }, _ => unreachable!("converted to floating above"))
}

/// `torch.all` / `torch.any` (`ALL` picks): bool results, except uint8 inputs give uint8.
pub fn all_any<const ALL: bool>(x: &Tensor, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, if ALL { "all" } else { "any" })?;
    let r = if x.is_cuda() {
        let op = if ALL { "all" } else { "any" };
        reduce1(x, &mask, keepdim, op, 0.0, DType::Bool)
    } else {
        dispatch_all!(x.dtype(), T => {
            let z = T::zero();
            if ALL {
                run(x, &mask, keepdim, &fold(true, move |a, v: T, _| a & (v != z), |a, b| a & b, |a, _| a))
            } else {
                run(x, &mask, keepdim, &fold(false, move |a, v: T, _| a | (v != z), |a, b| a | b, |a, _| a))
            }
        })
    }?;
    if x.dtype() == DType::U8 {
        r.to_dtype(DType::U8)
    } else {
        Ok(r)
    }
}

/// `torch.count_nonzero(x, dim)`: int64 counts.
pub fn count_nonzero(x: &Tensor, dims: Option<&[i64]>) -> Result<Tensor> {
    let mask = reduce_mask(x.ndim(), dims, "count_nonzero")?;
    if x.is_cuda() {
        return reduce1(x, &mask, false, "count_nonzero", 0.0, DType::I64);
    }
    dispatch_all!(x.dtype(), T => {
        let z = T::zero();
        run(x, &mask, false, &fold(0i64, move |a, v: T, _| a + (v != z) as i64, |a, b| a + b, |a, _| a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_dtypes_and_dims() {
        let x = Tensor::from_vec((0..6).collect::<Vec<i32>>(), &[2, 3]).unwrap();
        let s = sum(&x, Some(&[1]), false, None).unwrap();
        assert_eq!(s.dtype(), DType::I64);
        assert_eq!(s.to_vec::<i64>(), vec![3, 12]);
        assert_eq!(sum(&x, None, true, None).unwrap().shape(), &[1, 1]);
        assert!(mean(&x, None, false, None).is_err());
        assert!(sum(&x, Some(&[0, -2]), false, None).is_err());
    }

    #[test]
    fn argmax_first_occurrence_and_nan() {
        let x = Tensor::from_vec(vec![1.0f32, 3.0, 3.0, f32::NAN, 2.0, f32::NAN], &[6]).unwrap();
        assert_eq!(
            argmax_argmin::<true>(&x, None, false)
                .unwrap()
                .to_vec::<i64>(),
            vec![3]
        );
        let y = Tensor::from_vec(vec![1.0f32, 3.0, 3.0, 2.0], &[4]).unwrap();
        assert_eq!(
            argmax_argmin::<true>(&y, None, false)
                .unwrap()
                .to_vec::<i64>(),
            vec![1]
        );
        assert!(max_min_all::<true>(&x).unwrap().to_vec::<f32>()[0].is_nan());
    }
}
