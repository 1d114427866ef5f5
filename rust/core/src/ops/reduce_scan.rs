//! Scans along one dim: cumsum, cumprod, cummax, cummin, on the engine's
//! [`crate::cpu::reduce::scan`] (contiguous `[outer, n, inner]` with rows of `inner` at a time).

use crate::cpu::reduce::scan;
use crate::dtype::DType;
use crate::element::{Element, Float};
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::tensor::Tensor;
use crate::{dispatch_all, dispatch_float};

/// The input made contiguous and its `(outer, n, inner)` split around `dim`.
fn split(x: &Tensor, dim: i64, op: &str) -> Result<(Tensor, (usize, usize, usize))> {
    let d = wrap_dim(dim, x.ndim(), op)?;
    let x = x.contiguous()?;
    if x.ndim() == 0 {
        return Ok((x, (1, 1, 1)));
    }
    let s = x.shape();
    Ok((
        x.clone(),
        (s[..d].iter().product(), s[d], s[d + 1..].iter().product()),
    ))
}

/// `torch.cumsum` / `cumprod` (`SUM` picks): integer and bool inputs give int64 unless `dtype=`.
pub fn cumsum_cumprod<const SUM: bool>(
    x: &Tensor,
    dim: i64,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let out_dt = dtype.unwrap_or(if x.dtype().is_floating_point() {
        x.dtype()
    } else {
        DType::I64
    });
    let (x, dims) = split(
        &x.to_dtype(out_dt)?,
        dim,
        if SUM { "cumsum" } else { "cumprod" },
    )?;
    if x.is_cuda() {
        let op = if SUM { "cumsum" } else { "cumprod" };
        return Ok(crate::cuda::scan::scan(&x, dims, op, out_dt, None)?.0);
    }
    let out = Tensor::empty(x.shape(), out_dt, x.device())?;
    // SAFETY: both contiguous with outer * n * inner elements.
    unsafe {
        dispatch_float!(out_dt, T => {
            let init = crate::ops::reduce::acc_of::<T>(if SUM { 0.0 } else { 1.0 });
            scan(x.data_ptr::<T>(), out.data_ptr::<T>(), dims, init, |s, v: T, _| {
                let s = if SUM { s + v.to_acc() } else { s * v.to_acc() };
                (s, T::from_acc(s))
            })
        }, _ => dispatch_all!(out_dt, T => {
            scan(x.data_ptr::<T>(), out.data_ptr::<T>(), dims, if SUM { 0i64 } else { 1 }, |s: i64, v: T, _| {
                let s = if SUM { s.wrapping_add(v.to_i64()) } else { s.wrapping_mul(v.to_i64()) };
                (s, T::from_i64(s))
            })
        }))
    };
    Ok(out)
}

/// `torch.cummax` / `cummin` (`MAX` picks): (values, indices). As torch, a value equal to the
/// running extreme moves the index to the later element, and NaN sticks once seen.
pub fn cummax_cummin<const MAX: bool>(x: &Tensor, dim: i64) -> Result<(Tensor, Tensor)> {
    let op = if MAX { "cummax" } else { "cummin" };
    let (xc, dims) = split(x, dim, op)?;
    if xc.is_cuda() {
        let (v, i) = crate::cuda::scan::scan(&xc, dims, op, xc.dtype(), Some(DType::I64))?;
        let i = i.ok_or_else(|| crate::Error::runtime(format!("{op}: indices missing")))?;
        return Ok((v, i));
    }
    fn go<T: Element, const MAX: bool>(
        x: &Tensor,
        dims: (usize, usize, usize),
    ) -> Result<(Tensor, Tensor)> {
        let mut buf = vec![(T::zero(), 0i64); x.numel()];
        #[allow(clippy::eq_op)]
        let step = |(cur, ci): (T, i64), v: T, i: usize| {
            let take = i == 0 || v != v || if MAX { v >= cur } else { v <= cur };
            let s = if take { (v, i as i64) } else { (cur, ci) };
            (s, s)
        };
        // SAFETY: x is contiguous with numel elements; buf holds numel pairs.
        unsafe {
            scan(
                x.data_ptr::<T>(),
                buf.as_mut_ptr(),
                dims,
                (T::zero(), 0i64),
                step,
            )
        };
        let v = Tensor::from_vec(buf.iter().map(|p| p.0).collect::<Vec<T>>(), x.shape())?;
        let i = Tensor::from_vec(buf.iter().map(|p| p.1).collect::<Vec<i64>>(), x.shape())?;
        Ok((v, i))
    }
    dispatch_all!(xc.dtype(), T => go::<T, MAX>(&xc, dims))
}

/// `log(exp(a) + exp(b))` without overflow; NaN propagates and equal infinities stay as they
/// are (torch's `_log_add_exp_helper`).
#[inline(always)]
fn log_add_exp(a: f64, b: f64) -> f64 {
    // f64::min and max drop a NaN; torch's running NaN sticks.
    if a.is_nan() {
        return a;
    }
    let (lo, hi) = if b.is_nan() {
        (b, b)
    } else {
        (a.min(b), a.max(b))
    };
    if lo != hi || lo.is_finite() {
        (lo - hi).exp().ln_1p() + hi
    } else {
        a
    }
}

/// `torch.logcumsumexp(x, dim)`: floating inputs only; a running log-add-exp, in f64.
pub fn logcumsumexp(x: &Tensor, dim: i64) -> Result<Tensor> {
    if !x.dtype().is_floating_point() {
        crate::bail!(
            NotImplemented,
            "\"logcumsumexp_out_cpu\" not implemented for '{}'",
            crate::dtype::scalar_type_name(x.dtype())
        );
    }
    let (x, dims) = split(x, dim, "logcumsumexp")?;
    if x.is_cuda() {
        return Ok(crate::cuda::scan::scan(&x, dims, "logcumsumexp", x.dtype(), None)?.0);
    }
    let out = Tensor::empty(x.shape(), x.dtype(), x.device())?;
    // SAFETY: both contiguous with outer * n * inner elements.
    unsafe {
        dispatch_float!(x.dtype(), T => {
            scan(x.data_ptr::<T>(), out.data_ptr::<T>(), dims, f64::NEG_INFINITY, |s, v: T, _| {
                let s = log_add_exp(s, Element::to_f64(v));
                (s, <T as Element>::from_f64(s))
            })
        }, _ => unreachable!("checked floating above"))
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumsum_rows_and_columns() {
        let x = Tensor::from_vec((1..=6).collect::<Vec<i32>>(), &[2, 3]).unwrap();
        let c = cumsum_cumprod::<true>(&x, 1, None).unwrap();
        assert_eq!(c.dtype(), DType::I64);
        assert_eq!(c.to_vec::<i64>(), vec![1, 3, 6, 4, 9, 15]);
        let c = cumsum_cumprod::<true>(&x, 0, None).unwrap();
        assert_eq!(c.to_vec::<i64>(), vec![1, 2, 3, 5, 7, 9]);
        let (v, i) = cummax_cummin::<true>(
            &Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 3.0], &[4]).unwrap(),
            0,
        )
        .unwrap();
        assert_eq!(v.to_vec::<f32>(), vec![1.0, 3.0, 3.0, 3.0]);
        assert_eq!(i.to_vec::<i64>(), vec![0, 1, 1, 3]);
    }
}
