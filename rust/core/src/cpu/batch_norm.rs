//! Batch norm on the CPU: per-channel statistics over a contiguous input seen as `[n, c, hw]`,
//! the normalising map, and the backward's per-channel sums and map. Statistics are kept in the
//! compute type (`T::Acc`: float for f16/bf16).
//!
//! Channels are independent, so the reductions run a channel per task; each sums its `n` runs
//! of `hw` contiguous elements with the blocked sums of the row kernels (results do not depend
//! on the number of threads). The maps run over `hw` runs in parallel.

use super::iter::PARALLEL_THRESHOLD;
use super::rowwise::{sum1, sum2};
use crate::element::num_like::FloatMath;
use crate::element::Float;

/// `[n, c, hw]`: batch, channels, and the product of the spatial dims.
pub type Layout = (usize, usize, usize);

/// Per-channel results of `f(channel)`, on the team when the input is large.
fn per_channel<A: Send>((n, c, hw): Layout, f: impl Fn(usize) -> A + Sync + Send) -> Vec<A> {
    if n * c * hw < PARALLEL_THRESHOLD {
        (0..c).map(f).collect()
    } else {
        let per_task = crate::cpu::items_per_task(n * hw);
        let parts = crate::cpu::parallel_map(c.div_ceil(per_task), |t| {
            (t * per_task..((t + 1) * per_task).min(c))
                .map(&f)
                .collect::<Vec<_>>()
        });
        parts.into_iter().flatten().collect()
    }
}

/// The runs of channel `ch`: `x[i, ch, :]` for each batch index `i`.
fn runs<T>(x: &[T], (n, c, hw): Layout, ch: usize) -> impl Iterator<Item = &[T]> {
    (0..n).map(move |i| &x[(i * c + ch) * hw..(i * c + ch + 1) * hw])
}

/// `(mean, var, invstd)` per channel: two passes (exact centring), biased variance,
/// `invstd = 1 / sqrt(var + eps)`. Every channel holds at least one element.
pub fn moments<T: Float>(x: &[T], l: Layout, eps: f64) -> [Vec<T::Acc>; 3] {
    let inv_m = T::Acc::from_f64(1.0 / (l.0 * l.2) as f64);
    let (eps, one) = (T::Acc::from_f64(eps), T::Acc::from_f64(1.0));
    let zero = T::Acc::from_f64(0.0);
    let stats = per_channel(l, |ch| {
        let mean = runs(x, l, ch).fold(zero, |a, r| a + sum1(r, |v: T| v.to_acc())) * inv_m;
        let var = runs(x, l, ch).fold(zero, |a, r| {
            a + sum1(r, |v: T| {
                let d = v.to_acc() - mean;
                d * d
            })
        }) * inv_m;
        (mean, var, one / (var + eps).sqrt())
    });
    [
        stats.iter().map(|s| s.0).collect(),
        stats.iter().map(|s| s.1).collect(),
        stats.iter().map(|s| s.2).collect(),
    ]
}

/// Runs `f(channel, run of out, run index)` over the `hw`-long runs of `out`, in parallel when
/// large.
fn map_runs<T: Send>(
    out: &mut [T],
    (_, c, hw): Layout,
    f: impl Fn(usize, &mut [T], usize) + Sync + Send,
) {
    if out.is_empty() || hw == 0 {
        return;
    }
    let min_runs = (PARALLEL_THRESHOLD / hw).max(1);
    let p = super::iter::SendPtr(out.as_mut_ptr());
    super::parallel_ranges(out.len() / hw, min_runs, |runs| {
        for r in runs {
            // SAFETY: run r is inside `out` and no other task touches it.
            let run = unsafe { std::slice::from_raw_parts_mut(p.get().add(r * hw), hw) };
            f(r % c, run, r)
        }
    });
}

/// `y = (x - mean) * invstd * w + b` per channel; `w`, `b` are optional per-channel slices.
pub fn apply<T: Float>(
    x: &[T],
    y: &mut [T],
    l: Layout,
    mean: &[T::Acc],
    invstd: &[T::Acc],
    w: Option<&[T]>,
    b: Option<&[T]>,
) {
    let hw = l.2;
    map_runs(y, l, |ch, out, r| {
        let scale = w.map_or(invstd[ch], |w| invstd[ch] * w[ch].to_acc());
        let shift = b.map_or(T::Acc::from_f64(0.0), |b| b[ch].to_acc());
        let mu = mean[ch];
        for (o, &v) in out.iter_mut().zip(&x[r * hw..(r + 1) * hw]) {
            *o = T::from_acc((v.to_acc() - mu) * scale + shift);
        }
    });
}

/// `(sum(g), sum(g * (x - mean)))` per channel.
pub fn grad_sums<T: Float>(g: &[T], x: &[T], l: Layout, mean: &[T::Acc]) -> [Vec<T::Acc>; 2] {
    let zero = T::Acc::from_f64(0.0);
    let sums = per_channel(l, |ch| {
        let mu = mean[ch];
        runs(g, l, ch)
            .zip(runs(x, l, ch))
            .fold((zero, zero), |(sg, sgx), (gr, xr)| {
                (
                    sg + sum1(gr, |v: T| v.to_acc()),
                    sgx + sum2(gr, xr, |gv: T, xv: T| gv.to_acc() * (xv.to_acc() - mu)),
                )
            })
    });
    [
        sums.iter().map(|s| s.0).collect(),
        sums.iter().map(|s| s.1).collect(),
    ]
}

/// The per-channel `(sum(g), sum(g * (x - mean)))` of [`grad_sums`].
pub type ChannelSums<'a, A> = (&'a [A], &'a [A]);

/// `dx`. With the batch's statistics (`sums` = `(sum_g, sum_gx)`, training):
/// `dx = invstd * w * (g - sum_g / m - (x - mean) * invstd^2 * sum_gx / m)`, `m = n * hw`;
/// with fixed statistics (eval): `dx = invstd * w * g`.
#[allow(clippy::too_many_arguments)]
pub fn backward_apply<T: Float>(
    g: &[T],
    x: &[T],
    dx: &mut [T],
    l: Layout,
    mean: &[T::Acc],
    invstd: &[T::Acc],
    w: Option<&[T]>,
    sums: Option<ChannelSums<'_, T::Acc>>,
) {
    let hw = l.2;
    let inv_m = T::Acc::from_f64(1.0 / (l.0 * hw).max(1) as f64);
    map_runs(dx, l, |ch, out, r| {
        let is = invstd[ch];
        let scale = w.map_or(is, |w| is * w[ch].to_acc());
        let mu = mean[ch];
        let (gr, xr) = (&g[r * hw..(r + 1) * hw], &x[r * hw..(r + 1) * hw]);
        match sums {
            // dx = scale * (g - k0 - (x - mean) * k1)
            Some((sg, sgx)) => {
                let (k0, k1) = (sg[ch] * inv_m, is * is * sgx[ch] * inv_m);
                for ((o, &gv), &xv) in out.iter_mut().zip(gr).zip(xr) {
                    *o = T::from_acc(scale * (gv.to_acc() - k0 - (xv.to_acc() - mu) * k1));
                }
            }
            None => {
                for (o, &gv) in out.iter_mut().zip(gr) {
                    *o = T::from_acc(scale * gv.to_acc());
                }
            }
        }
    });
}
