//! Scans along one dim and their rules: cumsum, cumprod (zeros included), cummax/cummin,
//! logcumsumexp, and the in-place cumsum_/cumprod_.

use super::binary::{add, div, mul, scale, sub};
use super::convert::to_dtype;
use super::number;
use super::reduce::{any_true, cmp_number, eq_mask, fill_where, sum};
use super::reduce_select::scatter_add_zeros;
use super::shape::{expand_to, reshape};
use super::shape::{narrow, permute};
use super::shape_copy::{cat, flip};
use super::unary::{exp, log, where_};
use crate::autograd::is_grad_enabled;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{inplace, needs_grad, record, record1};
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::binary::BinaryOp;
use crate::ops::reduce_scan as raw;
use crate::tensor::Tensor;
use crate::Scalar;

/// `flip(cumsum(flip(g)))`: for each position, the sum of `g` from there to the end of `dim`.
pub(crate) fn reverse_cumsum(g: &Tensor, d: usize) -> Result<Tensor> {
    let d = [d as i64];
    flip(&cumsum(&flip(g, &d)?, d[0], None)?, &d)
}

/// `x` moved one step along `d` with a 1 coming in at the front: `[1, x0, .., x(n-2)]`.
fn shift_in_one(x: &Tensor, d: usize) -> Result<Tensor> {
    let n = x.shape()[d] as i64;
    let mut one_shape = x.shape().to_vec();
    one_shape[d] = 1;
    let one = Tensor::full(&one_shape, Scalar::Float(1.0), x.dtype(), x.device())?;
    cat(&[one, narrow(x, d as i64, 0, n - 1)?], d as i64)
}

/// For each element along `d`, the product of the other elements of its line: the exclusive
/// product from the front times the one from the back. No division, so zeros are exact, and
/// every step is recorded.
pub(crate) fn exclusive_others(x: &Tensor, d: usize) -> Result<Tensor> {
    let n = x.shape()[d];
    if n <= 1 {
        return Tensor::full(x.shape(), Scalar::Float(1.0), x.dtype(), x.device());
    }
    let di = [d as i64];
    let front = cumprod(&shift_in_one(x, d)?, di[0], None)?;
    let back = flip(
        &cumprod(&shift_in_one(&flip(x, &di)?, d)?, di[0], None)?,
        &di,
    )?;
    mul(&front, &back)
}

/// `cumsum(x, dim, dtype)`: the gradient is the reversed cumulative sum of `g`.
pub fn cumsum(x: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    let out = raw::cumsum_cumprod::<true>(x, dim, dtype)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let d = wrap_dim(dim, x.ndim(), "cumsum")?;
    Ok(record1(
        "CumsumBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            if g.numel() <= 1 || g.ndim() == 0 || g.shape()[d] == 1 {
                return Ok(vec![Some(g)]);
            }
            Ok(vec![Some(reverse_cumsum(&g, d)?)])
        },
    ))
}

/// `cumprod(x, dim, dtype)`. Without zeros: `reverse_cumsum(g * y) / x`. With zeros, first
/// order: only the elements up to the first zero of a line get a gradient, the first zero's
/// being the reversed sum of `g` times the products with that zero taken out. Under
/// `create_graph`, a formula that is differentiable at zeros too (quadratic in the line length,
/// as torch's).
pub fn cumprod(x: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    if !needs_grad(&[x]) {
        return raw::cumsum_cumprod::<false>(x, dim, dtype);
    }
    if let Some(dt) = dtype.filter(|&dt| dt != x.dtype()) {
        return cumprod(&to_dtype(x, dt)?, dim, dtype);
    }
    let out = raw::cumsum_cumprod::<false>(x, dim, None)?;
    let d = wrap_dim(dim, x.ndim(), "cumprod")?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    Ok(record1(
        "CumprodBackward0",
        &[x],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            let x = a.saved(0)?;
            if x.numel() <= 1 || x.ndim() == 0 || x.shape()[d] == 1 {
                return Ok(vec![Some(g)]);
            }
            Ok(vec![Some(cumprod_backward(&g, &x, &a.saved(1)?, d)?)])
        },
    ))
}

fn cumprod_backward(g: &Tensor, x: &Tensor, y: &Tensor, d: usize) -> Result<Tensor> {
    let zero = cmp_number(BinaryOp::Eq, x, 0.0)?;
    if !any_true(&zero)? {
        return div(&reverse_cumsum(&mul(g, y)?, d)?, x);
    }
    if is_grad_enabled() {
        return cumprod_backward_quadratic(g, x, d);
    }
    let zeros_so_far = raw::cumsum_cumprod::<true>(&zero, d as i64, None)?;
    let before = cmp_number(BinaryOp::Eq, &zeros_so_far, 0.0)?;
    let first = crate::ops::binary::binary(
        BinaryOp::LogicalAnd,
        &cmp_number(BinaryOp::Eq, &zeros_so_far, 1.0)?,
        &zero,
    )?;
    let not_before = crate::ops::unary_misc::logical_not(&before, None)?;
    // Before the first zero: reverse_cumsum(g * y) / x (y is zero from the first zero on).
    let x_safe = fill_where(&not_before, 1.0, x)?;
    let early = fill_where(
        &not_before,
        0.0,
        &div(&reverse_cumsum(&mul(g, y)?, d)?, &x_safe)?,
    )?;
    // At the first zero: the same sum with that zero replaced by one.
    let y1 = cumprod(&fill_where(&first, 1.0, x)?, d as i64, None)?;
    let at_zero = where_(&first, &reverse_cumsum(&mul(g, &y1)?, d)?, &number(0.0)?)?;
    add(&early, &at_zero)
}

/// `grad_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i`, built from recorded ops on an extra
/// leading dim `k` of size `n`: `cumprod(x with x_k set to 1)` masked to `j >= k`.
fn cumprod_backward_quadratic(g: &Tensor, x: &Tensor, d: usize) -> Result<Tensor> {
    let n = x.shape()[d];
    let nd = x.ndim();
    let mut big: Vec<usize> = vec![n];
    big.extend_from_slice(x.shape());
    // Index grids over (k, j) placed at dims 0 and d + 1 of the big shape.
    let mut kshape = vec![1usize; nd + 1];
    kshape[0] = n;
    let mut jshape = vec![1usize; nd + 1];
    jshape[d + 1] = n;
    let ks =
        Tensor::from_vec((0..n as i64).collect::<Vec<i64>>(), &kshape)?.to_device(x.device())?;
    let js =
        Tensor::from_vec((0..n as i64).collect::<Vec<i64>>(), &jshape)?.to_device(x.device())?;
    let diag = eq_mask(&ks, &js)?;
    let upper = crate::ops::binary::binary(BinaryOp::Ge, &js, &ks)?;
    let mut lead: Vec<i64> = vec![1];
    lead.extend(x.shape().iter().map(|&s| s as i64));
    let xe = expand_to(&reshape(x, &lead)?, &big)?;
    let t = cumprod(&fill_where(&diag, 1.0, &xe)?, d as i64 + 1, None)?;
    let ge = reshape(g, &lead)?;
    let w = where_(&upper, &mul(&ge, &t)?, &number(0.0)?)?;
    // s[k, ..] over the dims of x without d; put k back at position d.
    let s = sum(&w, Some(&[d as i64 + 1]), false, None)?;
    let mut perm: Vec<i64> = (1..nd as i64).collect();
    perm.insert(d, 0);
    permute(&s, &perm)
}

/// `cummax(x, dim)` / `cummin` (`MAX` picks): (values, indices); the gradient of each output
/// position goes to the element its index names (summed where indices repeat).
pub fn cummax_cummin<const MAX: bool>(x: &Tensor, dim: i64) -> Result<(Tensor, Tensor)> {
    let (v, i) = raw::cummax_cummin::<MAX>(x, dim)?;
    if !needs_grad(&[x]) {
        return Ok((v, i));
    }
    let name = if MAX {
        "CummaxBackward0"
    } else {
        "CumminBackward0"
    };
    let d = wrap_dim(dim, x.ndim(), name)?;
    let shape = x.shape().to_vec();
    let saves = vec![Save::Tensor(i.clone())];
    let mut outs = record(name, &[x], vec![v, i], saves, move |a: &BackwardArgs| {
        let g = a.grad(0)?;
        if shape.is_empty() {
            return Ok(vec![Some(g)]);
        }
        Ok(vec![Some(scatter_add_zeros(&g, d, &a.saved(0)?, &shape)?)])
    });
    let i = outs.pop().expect("two outputs");
    Ok((outs.pop().expect("two outputs"), i))
}

/// The lowest finite value of a float dtype (torch's `grad_min` in logcumsumexp's backward).
fn lowest(dt: DType) -> f64 {
    match dt {
        DType::F16 => half::f16::MIN.to_f64(),
        DType::BF16 => half::bf16::MIN.to_f64(),
        DType::F32 => f32::MIN as f64,
        _ => f64::MIN,
    }
}

/// `logcumsumexp(x, dim)`. The backward works in log space on the positive and negative parts
/// of `g` separately (torch's formula), so it neither overflows nor loses small terms.
pub fn logcumsumexp(x: &Tensor, dim: i64) -> Result<Tensor> {
    let out = raw::logcumsumexp(x, dim)?;
    if !needs_grad(&[x]) {
        return Ok(out);
    }
    let d = wrap_dim(dim, x.ndim(), "logcumsumexp")?;
    let saves = vec![Save::Tensor(x.clone()), Save::Output(0)];
    Ok(record1(
        "LogcumsumexpBackward0",
        &[x],
        out,
        saves,
        move |a: &BackwardArgs| {
            let g = a.grad(0)?;
            if g.ndim() == 0 || g.numel() == 0 {
                return Ok(vec![Some(g)]);
            }
            let (x, r) = (a.saved(0)?, a.saved(1)?);
            let low = lowest(g.dtype());
            let di = [d as i64];
            // log|g| where g has the sign asked for, the lowest value elsewhere.
            let log_part = |op: BinaryOp, sign: f64| -> Result<Tensor> {
                let m = cmp_number(op, &g, 0.0)?;
                let not_m = crate::ops::unary_misc::logical_not(&m, None)?;
                let mag = fill_where(&not_m, 1.0, &scale(&g, sign)?)?;
                fill_where(&not_m, low, &log(&mag)?)
            };
            let side = |lg: Tensor| -> Result<Tensor> {
                let rev = flip(&logcumsumexp(&flip(&sub(&lg, &r)?, &di)?, di[0])?, &di)?;
                exp(&add(&rev, &x)?)
            };
            let pos = side(log_part(BinaryOp::Gt, 1.0)?)?;
            let neg = side(log_part(BinaryOp::Lt, -1.0)?)?;
            Ok(vec![Some(sub(&pos, &neg)?)])
        },
    ))
}

/// `x.cumsum_(dim, dtype)` / `x.cumprod_(dim, dtype)` (`SUM` picks), in place.
pub fn cumsum_cumprod_<const SUM: bool>(x: &Tensor, dim: i64, dtype: Option<DType>) -> Result<()> {
    inplace(
        x,
        &[],
        || {
            let r = raw::cumsum_cumprod::<SUM>(x, dim, dtype)?;
            crate::ops::binary::check_cast(r.dtype(), x.dtype())?;
            x.copy_(&r)
        },
        |old| {
            if SUM {
                cumsum(old, dim, dtype)
            } else {
                cumprod(old, dim, dtype)
            }
        },
    )
}
