//! Sorting and order statistics along one dim: sort, argsort, topk, kthvalue, median,
//! nanmedian, mode, plus unique / unique_consecutive of the flattened input.
//!
//! Every per-line op moves `dim` last, makes the input contiguous, runs a line function over
//! rows in parallel and moves the dim back. NaN orders after every number (as torch).

use crate::bail;
use crate::cpu::iter::SendPtr;
use crate::cuda::sort::{median_rows, mode_rows, sort_rows};
use crate::dispatch_all;
use crate::element::Element;
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::ops::shape::{narrow, reshape, squeeze, transpose};
use crate::tensor::Tensor;
use std::cmp::Ordering;

/// Ascending order with NaN greatest (and NaNs equal to each other).
#[inline]
#[allow(clippy::eq_op)]
pub fn cmp_nan_last<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    match a.partial_cmp(b) {
        Some(o) => o,
        None => (a != a).cmp(&(b != b)),
    }
}

/// Comparator over (value, original index) pairs: by value (descending if asked), then index,
/// so unstable algorithms give stable results.
#[inline]
fn cmp_pair<T: PartialOrd>(desc: bool) -> impl Fn(&(T, usize), &(T, usize)) -> Ordering + Copy {
    move |a, b| {
        let o = if desc {
            cmp_nan_last(&b.0, &a.0)
        } else {
            cmp_nan_last(&a.0, &b.0)
        };
        o.then(a.1.cmp(&b.1))
    }
}

fn pairs<T: Copy>(line: &[T]) -> Vec<(T, usize)> {
    line.iter()
        .copied()
        .enumerate()
        .map(|(i, v)| (v, i))
        .collect()
}

/// Runs `f(line, out_a, out_b)` over every line along `dim`; outputs have `m` entries a line.
/// Returns the two outputs in the input's dim order (the dim of length `m`) and the dim.
fn per_line<T: Element, A: Element, B: Element>(
    x: &Tensor,
    dim: i64,
    op: &str,
    m: usize,
    f: impl Fn(&[T], &mut [A], &mut [B]) + Sync,
) -> Result<(Tensor, Tensor, usize)> {
    let zero_d = x.ndim() == 0;
    let d = wrap_dim(dim, x.ndim(), op)?;
    let x = if zero_d {
        x.view_with(Layout {
            shape: vec![1],
            strides: vec![1],
            offset: x.offset(),
        })?
    } else {
        x.clone()
    };
    let last = x.ndim() - 1;
    let t = transpose(&x, d as i64, last as i64)?.contiguous()?;
    let n = t.shape()[last];
    let rows: usize = t.shape()[..last].iter().product();
    let mut oshape = t.shape().to_vec();
    oshape[last] = m;
    let a = Tensor::empty(&oshape, A::DTYPE, t.device())?;
    let b = Tensor::empty(&oshape, B::DTYPE, t.device())?;
    if rows > 0 && m > 0 {
        // SAFETY: fresh or contiguous tensors with exactly rows * n / rows * m elements.
        let (xs, as_, bs) = unsafe {
            (
                std::slice::from_raw_parts(t.data_ptr::<T>() as *const T, rows * n),
                std::slice::from_raw_parts_mut(a.data_ptr::<A>(), rows * m),
                std::slice::from_raw_parts_mut(b.data_ptr::<B>(), rows * m),
            )
        };
        let work =
            |(r, (oa, ob)): (usize, (&mut [A], &mut [B]))| f(&xs[r * n..(r + 1) * n], oa, ob);
        if rows > 1 && rows * n >= crate::cpu::iter::PARALLEL_THRESHOLD {
            let (pa, pb) = (SendPtr(as_.as_mut_ptr()), SendPtr(bs.as_mut_ptr()));
            crate::cpu::parallel_items(rows, n, |r| {
                // SAFETY: row r of each output is inside it and no other task touches it.
                work((r, unsafe {
                    (
                        std::slice::from_raw_parts_mut(pa.get().add(r * m), m),
                        std::slice::from_raw_parts_mut(pb.get().add(r * m), m),
                    )
                }))
            });
        } else {
            as_.chunks_mut(m)
                .zip(bs.chunks_mut(m))
                .enumerate()
                .for_each(work);
        }
    }
    let back = |o: Tensor| -> Result<Tensor> {
        let o = transpose(&o, d as i64, last as i64)?.contiguous()?;
        if zero_d {
            reshape(&o, &[])
        } else {
            Ok(o)
        }
    };
    Ok((back(a)?, back(b)?, d))
}

/// The CUDA counterpart of [`per_line`]: `f` gets the input with `dim` moved last and made
/// contiguous, and returns two tensors whose last dim is the output's; they are moved back.
fn cuda_lines(
    x: &Tensor,
    dim: i64,
    op: &str,
    f: impl FnOnce(&Tensor) -> Result<(Tensor, Tensor)>,
) -> Result<(Tensor, Tensor, usize)> {
    let zero_d = x.ndim() == 0;
    let d = wrap_dim(dim, x.ndim(), op)?;
    let x = if zero_d { reshape(x, &[1])? } else { x.clone() };
    let last = x.ndim() - 1;
    let t = transpose(&x, d as i64, last as i64)?.contiguous()?;
    let (a, b) = f(&t)?;
    let back = |o: Tensor| -> Result<Tensor> {
        let o = transpose(&o, d as i64, last as i64)?.contiguous()?;
        if zero_d {
            reshape(&o, &[])
        } else {
            Ok(o)
        }
    };
    Ok((back(a)?, back(b)?, d))
}

/// Like [`line_select`] on CUDA: `f` maps the dim-last contiguous input to (values, indices)
/// with a last dim of 1.
fn cuda_select(
    x: &Tensor,
    dim: i64,
    keepdim: bool,
    op: &str,
    f: impl FnOnce(&Tensor) -> Result<(Tensor, Tensor)>,
) -> Result<(Tensor, Tensor)> {
    let (v, i, d) = cuda_lines(x, dim, op, f)?;
    Ok((
        finish_reduced(v, d, keepdim)?,
        finish_reduced(i, d, keepdim)?,
    ))
}

/// The first `len` entries from `start` of the last dim of both tensors.
fn narrow_last((v, i): (Tensor, Tensor), start: usize, len: usize) -> Result<(Tensor, Tensor)> {
    let last = v.ndim() as i64 - 1;
    Ok((
        narrow(&v, last, start as i64, len as i64)?,
        narrow(&i, last, start as i64, len as i64)?,
    ))
}

/// Drops the reduced dim unless `keepdim` (it has size 1 there).
fn finish_reduced(t: Tensor, d: usize, keepdim: bool) -> Result<Tensor> {
    if keepdim || t.ndim() == 0 {
        Ok(t)
    } else {
        squeeze(&t, Some(&[d as i64]))
    }
}

/// `torch.sort(x, dim, descending, stable)`: (values, indices). Always stable.
pub fn sort(x: &Tensor, dim: i64, descending: bool) -> Result<(Tensor, Tensor)> {
    let n = if x.ndim() == 0 {
        1
    } else {
        x.shape()[wrap_dim(dim, x.ndim(), "sort")?]
    };
    if x.is_cuda() {
        let (v, i, _) = cuda_lines(x, dim, "sort", |t| sort_rows(t, descending))?;
        return Ok((v, i));
    }
    dispatch_all!(x.dtype(), T => {
        let (v, i, _) = per_line::<T, T, i64>(x, dim, "sort", n, |line, ov, oi| {
            let mut p = pairs(line);
            p.sort_by(cmp_pair(descending));
            for (k, &(v, i)) in p.iter().enumerate() {
                ov[k] = v;
                oi[k] = i as i64;
            }
        })?;
        Ok((v, i))
    })
}

/// `torch.argsort`.
pub fn argsort(x: &Tensor, dim: i64, descending: bool) -> Result<Tensor> {
    Ok(sort(x, dim, descending)?.1)
}

/// `torch.msort`: sort along dim 0.
pub fn msort(x: &Tensor) -> Result<Tensor> {
    Ok(sort(x, 0, false)?.0)
}

/// `torch.topk(x, k, dim, largest, sorted)`: the k largest (smallest) with their indices,
/// always in sorted order.
pub fn topk(x: &Tensor, k: i64, dim: i64, largest: bool) -> Result<(Tensor, Tensor)> {
    let n = if x.ndim() == 0 {
        1
    } else {
        x.shape()[wrap_dim(dim, x.ndim(), "topk")?]
    };
    if k < 0 || k as usize > n {
        bail!(Runtime, "selected index k out of range");
    }
    let k = k as usize;
    if x.is_cuda() {
        let (v, i, _) = cuda_lines(x, dim, "topk", |t| {
            narrow_last(sort_rows(t, largest)?, 0, k)
        })?;
        return Ok((v, i));
    }
    dispatch_all!(x.dtype(), T => {
        let (v, i, _) = per_line::<T, T, i64>(x, dim, "topk", k, |line, ov, oi| {
            let mut p = pairs(line);
            let cmp = cmp_pair(largest);
            if k < p.len() {
                p.select_nth_unstable_by(k, cmp);
            }
            p[..k].sort_unstable_by(cmp);
            for (j, &(v, i)) in p[..k].iter().enumerate() {
                ov[j] = v;
                oi[j] = i as i64;
            }
        })?;
        Ok((v, i))
    })
}

/// Size of `dim`, failing like torch when it is empty.
fn nonempty_dim(x: &Tensor, dim: i64, op: &str) -> Result<usize> {
    if x.ndim() == 0 {
        wrap_dim(dim, 0, op)?;
        return Ok(1);
    }
    let d = wrap_dim(dim, x.ndim(), op)?;
    if x.shape()[d] == 0 {
        bail!(
            Index,
            "{op}(): Expected reduction dim {d} to have non-zero size."
        );
    }
    Ok(x.shape()[d])
}

/// A (value, index) reduction along `dim` computed by `f(line) -> (value, index)`.
fn line_select<T: Element>(
    x: &Tensor,
    dim: i64,
    keepdim: bool,
    op: &str,
    f: impl Fn(&[T]) -> (T, usize) + Sync,
) -> Result<(Tensor, Tensor)> {
    let (v, i, d) = per_line::<T, T, i64>(x, dim, op, 1, |line, ov, oi| {
        let (v, i) = f(line);
        ov[0] = v;
        oi[0] = i as i64;
    })?;
    Ok((
        finish_reduced(v, d, keepdim)?,
        finish_reduced(i, d, keepdim)?,
    ))
}

/// `torch.kthvalue(x, k, dim, keepdim)`: the k-th smallest (1-based).
pub fn kthvalue(x: &Tensor, k: i64, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    let n = if x.ndim() == 0 {
        1
    } else {
        x.shape()[wrap_dim(dim, x.ndim(), "kthvalue")?]
    };
    if k < 1 || k as usize > n {
        bail!(
            Runtime,
            "kthvalue(): selected number k out of range for dimension {dim}"
        );
    }
    if x.is_cuda() {
        return cuda_select(x, dim, keepdim, "kthvalue", |t| {
            narrow_last(sort_rows(t, false)?, k as usize - 1, 1)
        });
    }
    dispatch_all!(x.dtype(), T => line_select::<T>(x, dim, keepdim, "kthvalue", |line| {
        let mut p = pairs(line);
        let (_, &mut kth, _) = p.select_nth_unstable_by(k as usize - 1, cmp_pair(false));
        kth
    }))
}

/// The lower median of a line: NaN (first NaN's index) if any unless `skip_nan`, in which case
/// NaNs are ignored (all-NaN lines give NaN).
#[allow(clippy::eq_op)]
fn median_line<T: Element>(line: &[T], skip_nan: bool) -> (T, usize) {
    let mut p = pairs(line);
    let nans = p.iter().filter(|q| q.0 != q.0).count();
    if nans > 0 && (!skip_nan || nans == p.len()) {
        return p.into_iter().find(|q| q.0 != q.0).unwrap_or((T::zero(), 0));
    }
    let m = p.len() - nans;
    let (_, &mut med, _) = p.select_nth_unstable_by((m - 1) / 2, cmp_pair(false));
    med
}

/// `torch.median(x, dim, keepdim)` / `nanmedian` (`skip_nan`): lower median with its index.
pub fn median_dim(x: &Tensor, dim: i64, keepdim: bool, skip_nan: bool) -> Result<(Tensor, Tensor)> {
    let op = if skip_nan { "nanmedian" } else { "median" };
    nonempty_dim(x, dim, op)?;
    if x.is_cuda() {
        return cuda_select(x, dim, keepdim, op, |t| median_rows(t, skip_nan));
    }
    dispatch_all!(x.dtype(), T => line_select::<T>(x, dim, keepdim, op, |line| median_line(line, skip_nan)))
}

/// `torch.median(x)` / `nanmedian(x)`: the lower median of all elements (NaN when empty).
pub fn median_all(x: &Tensor, skip_nan: bool) -> Result<Tensor> {
    if x.numel() == 0 {
        if !x.dtype().is_floating_point() {
            bail!(Runtime, "median() input tensor cannot be empty");
        }
        return Tensor::scalar(crate::Scalar::Float(f64::NAN), x.dtype());
    }
    let flat = reshape(x, &[-1])?;
    let (v, _) = median_dim(&flat, 0, false, skip_nan)?;
    Ok(v)
}

/// `torch.mode(x, dim, keepdim)`: the most frequent value (the smallest on ties) and the last
/// index where it occurs.
pub fn mode(x: &Tensor, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    nonempty_dim(x, dim, "mode")?;
    if x.is_cuda() {
        return cuda_select(x, dim, keepdim, "mode", mode_rows);
    }
    dispatch_all!(x.dtype(), T => line_select::<T>(x, dim, keepdim, "mode", |line| {
        let mut p = pairs(line);
        p.sort_by(cmp_pair(false));
        let (mut best, mut best_len) = (p[0], 0usize);
        let mut start = 0;
        for j in 1..=p.len() {
            if j == p.len() || cmp_nan_last(&p[j].0, &p[start].0) != Ordering::Equal {
                if j - start > best_len {
                    best_len = j - start;
                    best = p[j - 1];
                }
                start = j;
            }
        }
        best
    }))
}

/// Values of `x` flattened to a contiguous vector.
fn flat_values<T: Element>(x: &Tensor) -> Result<Vec<T>> {
    Ok(x.to_vec::<T>())
}

/// Runs `f` on a host copy of the CUDA tensor `x` and moves its results back: the output
/// sizes depend on the values, so the host must see them anyway (torch synchronises too).
fn via_host(
    x: &Tensor,
    f: fn(&Tensor) -> Result<(Tensor, Tensor, Tensor)>,
) -> Result<(Tensor, Tensor, Tensor)> {
    let (a, b, c) = f(&x.to_device(crate::Device::Cpu)?)?;
    let dev = x.device();
    Ok((a.to_device(dev)?, b.to_device(dev)?, c.to_device(dev)?))
}

/// `torch.unique(x, sorted, return_inverse, return_counts)` over all elements:
/// (values, inverse shaped like `x`, counts). Output is always sorted.
pub fn unique(x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    if x.is_cuda() {
        return via_host(x, unique);
    }
    dispatch_all!(x.dtype(), T => {
        let mut p = pairs(&flat_values::<T>(x)?);
        p.sort_by(cmp_pair(false));
        let mut vals: Vec<T> = Vec::new();
        let mut counts: Vec<i64> = Vec::new();
        let mut inverse = vec![0i64; p.len()];
        for (j, &(v, i)) in p.iter().enumerate() {
            if j == 0 || cmp_nan_last(&v, &p[j - 1].0) != Ordering::Equal {
                vals.push(v);
                counts.push(0);
            }
            let u = vals.len() - 1;
            counts[u] += 1;
            inverse[i] = u as i64;
        }
        let n = vals.len();
        Ok((Tensor::from_vec(vals, &[n])?, Tensor::from_vec(inverse, x.shape())?, Tensor::from_vec(counts, &[n])?))
    })
}

/// `torch.unique_consecutive(x)` over all elements: (values, inverse, counts).
pub fn unique_consecutive(x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    if x.is_cuda() {
        return via_host(x, unique_consecutive);
    }
    dispatch_all!(x.dtype(), T => {
        let xs = flat_values::<T>(x)?;
        let mut vals: Vec<T> = Vec::new();
        let mut counts: Vec<i64> = Vec::new();
        let mut inverse = Vec::with_capacity(xs.len());
        for (j, &v) in xs.iter().enumerate() {
            if j == 0 || v != xs[j - 1] {
                vals.push(v);
                counts.push(0);
            }
            let u = vals.len() - 1;
            counts[u] += 1;
            inverse.push(u as i64);
        }
        let n = vals.len();
        Ok((Tensor::from_vec(vals, &[n])?, Tensor::from_vec(inverse, x.shape())?, Tensor::from_vec(counts, &[n])?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_puts_nan_last_and_is_stable() {
        let x = Tensor::from_vec(vec![2.0f32, f32::NAN, 1.0, 2.0], &[4]).unwrap();
        let (v, i) = sort(&x, -1, false).unwrap();
        let v = v.to_vec::<f32>();
        assert_eq!(&v[..3], &[1.0, 2.0, 2.0]);
        assert!(v[3].is_nan());
        assert_eq!(i.to_vec::<i64>(), vec![2, 0, 3, 1]);
        let (_, i) = sort(&x, -1, true).unwrap();
        assert_eq!(i.to_vec::<i64>(), vec![1, 0, 3, 2]);
    }

    #[test]
    fn topk_and_median_along_dim0() {
        let x = Tensor::from_vec(vec![3i64, 1, 4, 1, 5, 9], &[3, 2]).unwrap();
        let (v, i) = topk(&x, 2, 0, true).unwrap();
        assert_eq!(v.to_vec::<i64>(), vec![5, 9, 4, 1]);
        assert_eq!(i.to_vec::<i64>(), vec![2, 2, 1, 0]);
        let (m, _) = median_dim(&x, 0, false, false).unwrap();
        assert_eq!(m.to_vec::<i64>(), vec![4, 1]);
    }
}
