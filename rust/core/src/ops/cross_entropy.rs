//! Cross entropy straight from `(N, C)` logits and class-index targets: torch's
//! `cross_entropy` without class weights or label smoothing, fused. One read of each row gives
//! its log-sum-exp and the target's term, so the `N x C` log-probabilities of
//! `nll_loss(log_softmax(x))` are never written (nor, under autocast, a float32 copy of
//! 16-bit logits); the backward writes `softmax - one_hot` in the logits' dtype in one pass.
//! Losses and row statistics are carried in float32 (float64 for float64 logits), so 16-bit
//! logits give what torch computes under autocast, which widens them to float32 first.

use crate::cpu::cross_entropy as cpu;
use crate::cpu::loss::first_out_of_bounds;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::binary::{binary, BinaryOp};
use crate::ops::check_same_device;
use crate::ops::loss::{out_of_bounds, Reduction};
use crate::ops::reduce::sum;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// What the forward keeps per row for the backward, in the compute dtype.
pub struct RowStats {
    /// The row's largest logit.
    pub max: Tensor,
    /// `log(sum(exp(x - max)))` of the row.
    pub log_sum: Tensor,
}

/// The dtype losses and statistics are carried in for logits of dtype `d`.
pub fn compute_dtype(d: DType) -> DType {
    if d == DType::F64 {
        d
    } else {
        DType::F32
    }
}

fn check(x: &Tensor, target: &Tensor) -> Result<()> {
    check_same_device("cross_entropy", &[x, target])?;
    let ok = x.ndim() == 2
        && x.dtype().is_floating_point()
        && target.ndim() == 1
        && target.dtype() == DType::I64
        && target.shape()[0] == x.shape()[0];
    if !ok {
        bail!(
            Runtime,
            "cross_entropy: expected (N, C) floating logits and (N,) int64 targets, got logits \
             {:?} of {:?} and targets {:?} of {:?}",
            x.shape(),
            x.dtype(),
            target.shape(),
            target.dtype()
        );
    }
    Ok(())
}

/// The loss of each row, `logsumexp(x[r]) - x[r, target[r]]` (0 where the target is
/// `ignore_index`), and the statistics the backward needs. A target outside `[0, C)` raises
/// torch's `IndexError`.
pub fn cross_entropy_rows(
    x: &Tensor,
    target: &Tensor,
    ignore_index: i64,
) -> Result<(Tensor, RowStats)> {
    check(x, target)?;
    let (xc, tc) = (x.contiguous()?, target.contiguous()?);
    let rows = x.shape()[0];
    let acc = compute_dtype(x.dtype());
    let out = || Tensor::empty(&[rows], acc, x.device());
    let (loss, max, log_sum) = (out()?, out()?, out()?);
    if xc.is_cuda() {
        crate::cuda::rowwise::cross_entropy(&xc, &tc, ignore_index, [&loss, &max, &log_sum])?;
        return Ok((loss, RowStats { max, log_sum }));
    }
    // SAFETY: tc is a contiguous CPU int64 tensor of `rows` elements.
    let targets = unsafe { std::slice::from_raw_parts(tc.data_ptr::<i64>(), rows) };
    if let Some(t) = first_out_of_bounds(targets, x.shape()[1], ignore_index) {
        return Err(out_of_bounds(t));
    }
    let stat = |t: &Tensor| t.data_ptr_raw();
    // SAFETY: xc holds rows * C elements; the three outputs hold `rows` values of T::Acc (the
    // compute dtype); every target was checked above.
    dispatch_float!(x.dtype(), T => unsafe {
        cpu::forward::<T>(
            xc.data_ptr::<T>(), targets, x.shape()[1], ignore_index,
            [&loss, &max, &log_sum].map(|t| stat(t) as *mut <T as crate::element::Float>::Acc),
        )
    }, _ => {});
    Ok((loss, RowStats { max, log_sum }))
}

/// The reduced loss from the rows' losses: their sum, or their mean over the targets that are
/// not ignored (NaN when all are), or the rows as they are. Also returns that count of targets
/// (in the compute dtype) for the backward of the mean.
pub fn reduce(
    rows: &Tensor,
    target: &Tensor,
    ignore_index: i64,
    reduction: Reduction,
) -> Result<(Tensor, Option<Tensor>)> {
    match reduction {
        Reduction::None => Ok((rows.clone(), None)),
        Reduction::Sum => Ok((sum(rows, None, false, None)?, None)),
        Reduction::Mean => {
            let count = counted(target, ignore_index, rows.dtype())?;
            let total = sum(rows, None, false, None)?;
            Ok((binary(BinaryOp::Div, &total, &count)?, Some(count)))
        }
    }
}

/// Which targets are not `ignore_index` (bool).
pub fn kept(target: &Tensor, ignore_index: i64) -> Result<Tensor> {
    let ignore = Tensor::full(&[], Scalar::Int(ignore_index), DType::I64, target.device())?;
    binary(BinaryOp::Ne, target, &ignore)
}

/// How many targets are not `ignore_index`, as a 0-d tensor of `dtype`.
fn counted(target: &Tensor, ignore_index: i64, dtype: DType) -> Result<Tensor> {
    sum(&kept(target, ignore_index)?, None, false, Some(dtype))
}

/// Each row's share of the gradient `g` of the reduced loss (`[rows]`, compute dtype): `g`
/// itself per row for `None`, `g` for every row for `Sum`, `g / count` for `Mean`. Ignored
/// rows get whatever: the backward writes 0 there.
pub fn row_grads(
    g: &Tensor,
    rows: usize,
    dtype: DType,
    reduction: Reduction,
    count: Option<&Tensor>,
) -> Result<Tensor> {
    let g = g.to_dtype(dtype)?;
    let g = match (reduction, count) {
        (Reduction::Mean, Some(count)) => binary(BinaryOp::Div, &g, count)?,
        _ => g,
    };
    if reduction == Reduction::None {
        return g.contiguous();
    }
    crate::ops::shape::expand(&g, &[rows as i64])?.contiguous()
}

/// The gradient for the logits: `w[r] * (softmax(x[r]) - one_hot(target[r]))` in `x`'s dtype,
/// zero on ignored rows, from the forward's statistics and the rows' gradients `w`.
pub fn cross_entropy_backward(
    x: &Tensor,
    target: &Tensor,
    ignore_index: i64,
    stats: &RowStats,
    w: &Tensor,
) -> Result<Tensor> {
    check(x, target)?;
    check_same_device("cross_entropy_backward", &[x, &stats.max, w])?;
    let (xc, tc) = (x.contiguous()?, target.contiguous()?);
    let (max, log_sum, w) = (
        stats.max.contiguous()?,
        stats.log_sum.contiguous()?,
        w.contiguous()?,
    );
    if xc.is_cuda() {
        return crate::cuda::rowwise::cross_entropy_backward(
            &xc,
            &tc,
            ignore_index,
            [&max, &log_sum, &w],
        );
    }
    let dx = Tensor::empty_unzeroed(x.shape(), x.dtype())?;
    // SAFETY: tc is a contiguous CPU int64 tensor with one target per row.
    let targets = unsafe { std::slice::from_raw_parts(tc.data_ptr::<i64>(), tc.numel()) };
    let stat = |t: &Tensor| t.data_ptr_raw() as *const u8;
    // SAFETY: xc and dx hold rows * C elements; the statistics and w hold `rows` values of the
    // compute dtype; the forward checked every target.
    dispatch_float!(x.dtype(), T => unsafe {
        cpu::backward::<T>(
            xc.data_ptr::<T>(), targets, x.shape()[1], ignore_index,
            [&max, &log_sum, &w].map(|t| stat(t) as *const <T as crate::element::Float>::Acc),
            dx.data_ptr::<T>(),
        )
    }, _ => {});
    Ok(dx)
}
