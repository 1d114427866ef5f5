//! Dim-wise index ops: `gather`, `scatter` (and its reductions), `index_select`, `index_add`,
//! `index_copy`, `index_fill`, `index_put`, `take`, `take_along_dim`.
//!
//! On the CPU, ops whose index addresses whole slices (`index_select`, `index_add` ...) are
//! phrased as `t[:, ..., idx]` reads/writes so they share the indexing engine's block copies;
//! on a GPU each is one gather or scatter kernel (`cuda::index`, `cuda::scatter`).

use crate::bail;
use crate::cpu::iter::{for_each_run, SendPtr};
use crate::cuda::index::any_cuda;
use crate::cuda::scatter::{scatter_reduce, Target, Values};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{broadcast_shapes, contiguous_strides, wrap_dim, Layout};
use crate::ops::index::{index, index_fill_items, index_put_items, IndexItem};
use crate::ops::index_kernels::{for_each_offset, walk, walk_runs, Combine};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{dispatch_all, dispatch_by_size};

/// Checks every value of an int64/int32 `idx` lies in `[-size, size)` (`[0, size)` unless
/// `negative`), reporting the first bad one through `err`.
fn check_values(
    idx: &Tensor,
    size: usize,
    negative: bool,
    err: impl Fn(i64) -> Error,
) -> Result<()> {
    let lo = if negative { -(size as i64) } else { 0 };
    let mut bad = None;
    dispatch_all!(idx.dtype(), T => {
        let p = idx.data_ptr::<T>();
        // SAFETY: offsets from the index tensor's validated layout.
        for_each_offset(idx.shape(), idx.strides(), |o| {
            let i = unsafe { *p.offset(o) }.to_i64();
            if (i < lo || i >= size as i64) && bad.is_none() {
                bad = Some(i);
            }
        });
    });
    match bad {
        Some(i) => Err(err(i)),
        None => Ok(()),
    }
}

use crate::element::Element;

fn is_index_dtype(d: DType) -> bool {
    matches!(d, DType::I64 | DType::I32)
}

/// `[:, :, ..., idx]` with `idx` on `dim`, as index items.
fn items_on_dim(dim: usize, idx: &Tensor) -> Result<Vec<IndexItem>> {
    let mut items = vec![IndexItem::Slice(None, None, None); dim];
    let flat = if idx.ndim() == 0 {
        idx.view_with(Layout::contiguous(&[1]))?
    } else {
        idx.clone()
    };
    items.push(IndexItem::Tensor(flat));
    Ok(items)
}

/// A 0-d tensor as a 1-element 1-D view (torch treats 0-d self like 1-D in dim-wise ops).
fn at_least_1d(t: &Tensor) -> Result<Tensor> {
    if t.ndim() == 0 {
        t.view_with(Layout {
            shape: vec![1],
            strides: vec![1],
            offset: t.offset(),
        })
    } else {
        Ok(t.clone())
    }
}

/// `torch.index_select(t, dim, index)`.
pub fn index_select(t: &Tensor, dim: i64, idx: &Tensor) -> Result<Tensor> {
    if !is_index_dtype(idx.dtype()) {
        bail!(
            Index,
            "index_select(): Expected dtype int32 or int64 for index"
        );
    }
    if idx.ndim() > 1 {
        bail!(Index, "index_select(): Index is supposed to be a vector");
    }
    let t1 = at_least_1d(t)?;
    let d = wrap_dim(dim, t.ndim(), "index_select")?;
    if t.is_cuda() || idx.is_cuda() {
        crate::ops::check_same_device("index_select", &[t, idx])?;
        let mut shape = t1.shape().to_vec();
        shape[d] = idx.numel();
        let out = Tensor::empty(&shape, t.dtype(), t.device())?;
        let (src_st, sd) = strides_without(&t1, d);
        let mut idx_st = vec![0isize; shape.len()];
        idx_st[d] = if idx.ndim() == 1 { idx.strides()[0] } else { 0 };
        crate::cuda::index::gather_dim(
            &out,
            &t1,
            &src_st,
            sd,
            t1.shape()[d],
            idx,
            &idx_st,
            false,
            || Error::index("index out of range in self"),
        )?;
        if t.ndim() == 0 {
            return out.view_with(Layout::contiguous(&[]));
        }
        return Ok(out);
    }
    check_values(idx, t1.shape()[d], false, |_| {
        Error::index("index out of range in self")
    })?;
    let out = index(&t1, &items_on_dim(d, idx)?)?;
    if t.ndim() == 0 {
        return out.view_with(Layout::contiguous(&[]));
    }
    Ok(out)
}

/// Checks shared by gather and scatter: same ndim, index no larger than self (except along
/// `dim`) and than `src`.
fn check_scatter_gather(
    op: &str,
    t: &Tensor,
    d: usize,
    idx: &Tensor,
    src: Option<&Tensor>,
) -> Result<()> {
    if idx.dtype() != DType::I64 {
        bail!(Runtime, "{op}(): Expected dtype int64 for index");
    }
    if idx.ndim().max(1) != t.ndim().max(1) {
        bail!(
            Runtime,
            "Index tensor must have the same number of dimensions as input tensor"
        );
    }
    let ts = at_least_1d(t)?;
    let is = at_least_1d(idx)?;
    for k in 0..is.ndim() {
        if k != d && is.shape()[k] > ts.shape()[k] {
            bail!(
                Runtime,
                "Size does not match at dimension {k} expected index {:?} to be no larger than \
                 self {:?} apart from dimension {d}",
                idx.shape(),
                t.shape()
            );
        }
    }
    if let Some(src) = src {
        let ss = at_least_1d(src)?;
        if ss.ndim() != is.ndim() || (0..is.ndim()).any(|k| is.shape()[k] > ss.shape()[k]) {
            bail!(
                Runtime,
                "Expected index {:?} to be smaller than self {:?} apart from dimension {d} and \
                 to be smaller size than src {:?}",
                idx.shape(),
                t.shape(),
                src.shape()
            );
        }
    }
    let size = ts.shape()[d];
    if idx.is_cuda() {
        // Checked on the device by the kernel.
        return Ok(());
    }
    check_values(idx, size, false, |i| {
        Error::runtime(format!(
            "index {i} is out of bounds for dimension {d} with size {size}"
        ))
    })
}

/// Strides of `t` with the entry of `dim` zeroed (the index supplies that coordinate).
fn strides_without(t: &Tensor, d: usize) -> (Vec<isize>, isize) {
    let mut s = t.strides().to_vec();
    let sd = std::mem::replace(&mut s[d], 0);
    (s, sd)
}

/// `torch.gather(t, dim, index)`: `out[i][j] = t[index[i][j]][j]` (for dim 0).
pub fn gather(t: &Tensor, dim: i64, idx: &Tensor) -> Result<Tensor> {
    crate::ops::check_same_device("gather", &[t, idx])?;
    let d = wrap_dim(dim, t.ndim(), "gather")?;
    check_scatter_gather("gather", t, d, idx, None)?;
    let out = Tensor::empty(idx.shape(), t.dtype(), t.device())?;
    let (ts, is) = (at_least_1d(t)?, at_least_1d(idx)?);
    let (src_st, sd) = strides_without(&ts, d);
    if t.is_cuda() {
        let size = ts.shape()[d];
        crate::cuda::index::gather_dim(
            &at_least_1d(&out)?,
            &ts,
            &src_st,
            sd,
            size,
            &is,
            is.strides(),
            false,
            move || {
                Error::runtime(format!(
                    "index out of bounds for dimension {d} with size {size}"
                ))
            },
        )?;
        return Ok(out);
    }
    let out_st = contiguous_strides(is.shape());
    dispatch_by_size!(t.dtype().size(), T => {
        let (o, pi, ps) = (SendPtr(out.data_ptr_raw() as *mut T), SendPtr(is.data_ptr::<i64>()), SendPtr(ts.data_ptr_raw() as *mut T));
        for_each_run(is.shape(), [&out_st, is.strides(), &src_st], |off, st, len| unsafe {
            // SAFETY: index values were checked against the size of `dim`.
            let (o, pi, ps) = (o.get().offset(off[0]), pi.get().offset(off[1]), ps.get().offset(off[2]));
            for k in 0..len as isize {
                *o.offset(k * st[0]) = *ps.offset(k * st[2] + *pi.offset(k * st[1]) as isize * sd);
            }
        });
    });
    Ok(out)
}

/// How scatter combines a source value with the destination.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reduce {
    Assign,
    Sum,
    Prod,
    Mean,
    Amax,
    Amin,
}

impl Reduce {
    /// The `reduce=` of `scatter` (`add`/`multiply`).
    pub fn for_scatter(name: Option<&str>) -> Result<Reduce> {
        Ok(match name {
            None => Reduce::Assign,
            Some("add") => Reduce::Sum,
            Some("multiply") => Reduce::Prod,
            Some(_) => bail!(Runtime, "reduce argument must be either add or multiply."),
        })
    }

    /// The `reduce=` of `scatter_reduce`.
    pub fn for_scatter_reduce(name: &str) -> Result<Reduce> {
        Ok(match name {
            "sum" => Reduce::Sum,
            "prod" => Reduce::Prod,
            "mean" => Reduce::Mean,
            "amax" => Reduce::Amax,
            "amin" => Reduce::Amin,
            other => bail!(
                Runtime,
                "reduce argument must be either sum, prod, mean, amax or amin, got {other}"
            ),
        })
    }
}

#[inline(always)]
fn apply<T: Combine>(r: Reduce, old: T, new: T) -> T {
    match r {
        Reduce::Assign => new,
        Reduce::Sum | Reduce::Mean => old.combine_add(new),
        Reduce::Prod => old.combine_mul(new),
        Reduce::Amax => old.combine_max(new),
        Reduce::Amin => old.combine_min(new),
    }
}

/// `self.scatter_(dim, index, src, reduce=...)` / `scatter_reduce_(..., include_self)`, in
/// place. `src` is a tensor of self's dtype, or a 0-d value broadcast everywhere. On the CPU
/// writes go in row-major order of `index`, so for duplicates the last write wins; on a GPU
/// one of them wins, unspecified which (as in torch), and reductions combine atomically.
pub fn scatter_(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    src: &Tensor,
    reduce: Reduce,
    include_self: bool,
) -> Result<()> {
    // A 0-d host `src` is a number (scatter's `value=`), usable with any device.
    if src.ndim() == 0 && !src.is_cuda() {
        crate::ops::check_same_device("scatter_", &[t, idx])?;
    } else {
        crate::ops::check_same_device("scatter_", &[t, idx, src])?;
    }
    let d = wrap_dim(dim, t.ndim(), "scatter")?;
    let is_value = src.ndim() == 0 && t.ndim() > 0;
    if src.dtype() != t.dtype() {
        bail!(
            Runtime,
            "scatter(): Expected self.dtype to be equal to src.dtype"
        );
    }
    check_scatter_gather(
        "scatter",
        t,
        d,
        idx,
        if is_value { None } else { Some(src) },
    )?;
    if t.is_cuda() {
        return scatter_on_device(t, d, idx, src, is_value, reduce, include_self);
    }
    let is = at_least_1d(idx)?;
    let src_st = if is_value {
        vec![0isize; is.ndim()]
    } else {
        at_least_1d(src)?.strides().to_vec()
    };
    let simple = matches!(reduce, Reduce::Assign | Reduce::Sum | Reduce::Prod) && include_self;
    // Reductions that need per-position counts work on a contiguous copy written back at the end.
    let work = if simple {
        at_least_1d(t)?
    } else {
        t.copy_to_new(t.dtype())?
            .view_with(Layout::contiguous(at_least_1d(t)?.shape()))?
    };
    let (dst_st, sd) = strides_without(&work, d);
    let mut counts = if simple {
        Vec::new()
    } else {
        vec![0i64; work.numel()]
    };
    dispatch_all!(t.dtype(), T => {
        let (pd, pi, ps) = (work.data_ptr::<T>(), is.data_ptr::<i64>(), src.data_ptr::<T>());
        let strides = [&dst_st[..], is.strides(), &src_st[..]];
        if simple {
            // SAFETY (all kernels): index values were checked against the size of `dim`; src
            // offsets come from src's layout, at least as large as the index in every dim.
            match reduce {
                Reduce::Sum => unsafe { scatter_runs(is.shape(), strides, pd, pi, ps, sd, T::combine_add) },
                Reduce::Prod => unsafe { scatter_runs(is.shape(), strides, pd, pi, ps, sd, T::combine_mul) },
                _ => unsafe { scatter_runs(is.shape(), strides, pd, pi, ps, sd, |_, v| v) },
            }
        } else {
            walk(is.shape(), strides, |o| unsafe {
                let pos = o[0] + *pi.offset(o[1]) as isize * sd;
                let v = *ps.offset(o[2]);
                let dst = pd.offset(pos);
                let c = &mut counts[pos as usize];
                *dst = if *c == 0 && !include_self { v } else { apply(reduce, *dst, v) };
                *c += 1;
            });
        }
        if reduce == Reduce::Mean {
            // SAFETY: `work` is contiguous with `counts.len()` elements.
            let xs = unsafe { std::slice::from_raw_parts_mut(pd, counts.len()) };
            for (x, &c) in xs.iter_mut().zip(&counts) {
                let n = c + i64::from(include_self);
                if c > 0 {
                    *x = x.div_count(n);
                }
            }
        }
    });
    if simple {
        t.storage().bump_version();
        Ok(())
    } else {
        t.copy_(&work.view_with(Layout::contiguous(t.shape()))?)
    }
}

/// The scatter loop for one combine function: `dst[.., index, ..] = f(dst[..], src[..])`.
///
/// # Safety
/// Index values must be in range for `dim`; all three views must be valid for `shape`.
unsafe fn scatter_runs<T: Copy>(
    shape: &[usize],
    strides: [&[isize]; 3],
    pd: *mut T,
    pi: *const i64,
    ps: *const T,
    sd: isize,
    f: impl Fn(T, T) -> T,
) {
    walk_runs(shape, strides, |o, st, len| {
        for k in 0..len as isize {
            let dst = pd.offset(o[0] + k * st[0] + *pi.offset(o[1] + k * st[1]) as isize * sd);
            *dst = f(*dst, *ps.offset(o[2] + k * st[2]));
        }
    });
}

/// `x`, or a copy of it if it shares `t`'s storage: a kernel writing `t` in parallel must
/// not read what it writes.
fn apart(x: &Tensor, t: &Tensor) -> Result<Tensor> {
    if x.shares_storage(t) {
        x.copy_to_new(x.dtype())
    } else {
        Ok(x.clone())
    }
}

/// `scatter_` of a tensor on a GPU, arguments checked: one thread per index element.
fn scatter_on_device(
    t: &Tensor,
    d: usize,
    idx: &Tensor,
    src: &Tensor,
    is_value: bool,
    reduce: Reduce,
    include_self: bool,
) -> Result<()> {
    let work = at_least_1d(t)?;
    let is = apart(&at_least_1d(idx)?, t)?;
    let (dst_st, sd) = strides_without(&work, d);
    let src = apart(&at_least_1d(src)?, t)?;
    let values = if !src.is_cuda() {
        Values::of_number(&src)?
    } else if is_value {
        Values::Tensor(&src, vec![0; is.ndim()])
    } else {
        Values::Tensor(&src, src.strides().to_vec())
    };
    let size = work.shape()[d];
    let target = Target {
        shape: is.shape(),
        dst: &work,
        dst_strides: &dst_st,
        dim_stride: sd,
        idx: &is,
        idx_strides: is.strides(),
        size,
        wrap: false,
    };
    scatter_reduce(&target, d, &values, reduce, include_self, move |i| {
        Error::runtime(format!(
            "index {i} is out of bounds for dimension {d} with size {size}"
        ))
    })
}

/// The slice-wise writes of `index_add_`/`index_copy_`/`index_fill_` on a GPU: element `e` of
/// `shape` (`t`'s shape with `d` resized to the index length) goes to `t` at `e`'s coordinates
/// with the one along `d` replaced by `idx[e_d]`.
#[allow(clippy::too_many_arguments)]
fn index_scatter_on_device(
    t: &Tensor,
    d: usize,
    idx: &Tensor,
    shape: &[usize],
    values: &Values,
    reduce: Reduce,
    wrap: bool,
    err: impl FnOnce(i64) -> Error + Send + 'static,
) -> Result<()> {
    let t1 = at_least_1d(t)?;
    let idx = apart(&idx.to_dtype(DType::I64)?, t)?;
    let (dst_st, sd) = strides_without(&t1, d);
    let mut idx_st = vec![0isize; t1.ndim()];
    idx_st[d] = if idx.ndim() == 1 { idx.strides()[0] } else { 0 };
    let target = Target {
        shape,
        dst: &t1,
        dst_strides: &dst_st,
        dim_stride: sd,
        idx: &idx,
        idx_strides: &idx_st,
        size: t1.shape()[d],
        wrap,
    };
    scatter_reduce(&target, d, values, reduce, true, err)
}

/// Out-of-place `scatter`/`scatter_reduce`: a copy of `t` scattered into.
pub fn scatter(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    src: &Tensor,
    reduce: Reduce,
    include_self: bool,
) -> Result<Tensor> {
    let out = t.copy_to_new(t.dtype())?;
    scatter_(&out, dim, idx, src, reduce, include_self)?;
    Ok(out)
}

/// Checks of index_add_/index_copy_: a vector index of int32/int64, a source of self's dtype
/// shaped like self with `dim` resized to the index length.
fn check_index_source(op: &str, t: &Tensor, d: usize, idx: &Tensor, source: &Tensor) -> Result<()> {
    if !is_index_dtype(idx.dtype()) {
        bail!(Runtime, "{op}(): Expected dtype int32/int64 for index");
    }
    if idx.ndim() > 1 {
        bail!(Index, "{op}(): Index is supposed to be a vector");
    }
    if source.dtype() != t.dtype() {
        bail!(
            Runtime,
            "{op}(): self ({}) and source ({}) must have the same scalar type",
            t.dtype().name(),
            source.dtype().name()
        );
    }
    let mut want = at_least_1d(t)?.shape().to_vec();
    want[d] = idx.numel();
    if at_least_1d(source)?.shape() != want.as_slice() {
        bail!(
            Runtime,
            "{op}(): source tensor shape {:?} must match self shape {:?} except along dim {d} \
             where it must equal the index length {}",
            source.shape(),
            t.shape(),
            idx.numel()
        );
    }
    let size = at_least_1d(t)?.shape()[d];
    if idx.is_cuda() {
        // Checked on the device.
        return Ok(());
    }
    check_values(idx, size, false, |i| out_of_bounds(op, i, d, size))
}

/// The error of `index_add_`/`index_copy_` for an index out of range.
fn out_of_bounds(op: &str, i: i64, d: usize, size: usize) -> Error {
    Error::index(format!(
        "{op}(): index {i} is out of bounds for dimension {d} with size {size}"
    ))
}

/// `self.index_add_(dim, index, source, alpha=alpha)`: duplicates accumulate.
pub fn index_add_(
    t: &Tensor,
    dim: i64,
    idx: &Tensor,
    source: &Tensor,
    alpha: Scalar,
) -> Result<()> {
    crate::ops::check_same_device("index_add_", &[t, idx, source])?;
    let d = wrap_dim(dim, t.ndim(), "index_add_")?;
    check_index_source("index_add_", t, d, idx, source)?;
    if alpha.is_float() && !t.dtype().is_floating_point() {
        bail!(
            Runtime,
            "For integral input tensors, argument alpha must not be a floating point number."
        );
    }
    let src = if alpha == Scalar::Int(1) {
        source.clone()
    } else {
        crate::ops::binary::mul(source, &Tensor::wrapped_scalar(alpha)?)?.to_dtype(t.dtype())?
    };
    let (t1, s1) = (at_least_1d(t)?, at_least_1d(&src)?);
    if t.is_cuda() {
        let s1 = apart(&s1, t)?;
        let values = Values::Tensor(&s1, s1.strides().to_vec());
        let size = t1.shape()[d];
        return index_scatter_on_device(
            t,
            d,
            idx,
            s1.shape(),
            &values,
            Reduce::Sum,
            false,
            move |i| out_of_bounds("index_add_", i, d, size),
        );
    }
    index_put_items(&t1, &items_on_dim(d, idx)?, &s1, true)
}

/// `self.index_copy_(dim, index, source)`.
pub fn index_copy_(t: &Tensor, dim: i64, idx: &Tensor, source: &Tensor) -> Result<()> {
    if idx.dtype() != DType::I64 {
        bail!(
            Index,
            "index_copy_(): Expected a long tensor for index, but got {}",
            idx.dtype().name()
        );
    }
    crate::ops::check_same_device("index_copy_", &[t, idx, source])?;
    let d = wrap_dim(dim, t.ndim(), "index_copy_")?;
    check_index_source("index_copy_", t, d, idx, source)?;
    let (t1, s1) = (at_least_1d(t)?, at_least_1d(source)?);
    if t.is_cuda() {
        let s1 = apart(&s1, t)?;
        let values = Values::Tensor(&s1, s1.strides().to_vec());
        let size = t1.shape()[d];
        return index_scatter_on_device(
            t,
            d,
            idx,
            s1.shape(),
            &values,
            Reduce::Assign,
            false,
            move |i| out_of_bounds("index_copy_", i, d, size),
        );
    }
    index_put_items(&t1, &items_on_dim(d, idx)?, &s1, false)
}

/// `self.index_fill_(dim, index, value)`; negative indices count from the end.
pub fn index_fill_(t: &Tensor, dim: i64, idx: &Tensor, value: Scalar) -> Result<()> {
    if idx.dtype() != DType::I64 {
        bail!(Index, "index_fill_(): Expected dtype int64 for index.");
    }
    if idx.ndim() > 1 {
        bail!(Index, "index_fill_(): Index is supposed to be a vector");
    }
    crate::ops::check_same_device("index_fill_", &[t, idx])?;
    let d = wrap_dim(dim, t.ndim(), "index_fill_")?;
    let t1 = at_least_1d(t)?;
    let size = t1.shape()[d];
    let err = move |i| {
        Error::index(format!(
            "index {i} is out of bounds for dimension {d} with size {size}"
        ))
    };
    if t.is_cuda() {
        let mut shape = t1.shape().to_vec();
        shape[d] = idx.numel();
        let bits = dispatch_all!(t.dtype(), T => crate::element::to_bits::<T>(value.to_elem()));
        let values = Values::Bits(bits);
        return index_scatter_on_device(t, d, idx, &shape, &values, Reduce::Assign, true, err);
    }
    check_values(idx, size, true, err)?;
    index_fill_items(&t1, &items_on_dim(d, idx)?, value)
}

/// `self.index_put_(indices, values, accumulate)`: `t[indices] = values` (or `+=`); a `None`
/// index stands for a full slice.
pub fn index_put_(
    t: &Tensor,
    indices: &[Option<Tensor>],
    values: &Tensor,
    accumulate: bool,
) -> Result<()> {
    if values.dtype() != t.dtype() {
        bail!(
            Runtime,
            "Index put requires the source and destination dtypes match, got {} for the \
             destination and {} for the source.",
            t.dtype().name(),
            values.dtype().name()
        );
    }
    for ix in indices.iter().flatten() {
        if !matches!(
            ix.dtype(),
            DType::I64 | DType::I32 | DType::Bool | DType::U8
        ) {
            bail!(
                Index,
                "tensors used as indices must be long, int, byte or bool tensors"
            );
        }
    }
    // 0-d integer indices are advanced indices here (index_put never makes views).
    let items: Vec<IndexItem> = indices
        .iter()
        .map(|ix| match ix {
            None => Ok(IndexItem::Slice(None, None, None)),
            Some(ix) if ix.ndim() == 0 && is_index_dtype(ix.dtype()) => ix
                .view_with(Layout::contiguous(&[1]))
                .map(IndexItem::Tensor),
            Some(ix) => Ok(IndexItem::Tensor(ix.clone())),
        })
        .collect::<Result<_>>()?;
    index_put_items(t, &items, values, accumulate)
}

/// `torch.take(t, index)`: indexes `t` as if flattened; the result has the index's shape.
pub fn take(t: &Tensor, idx: &Tensor) -> Result<Tensor> {
    if idx.dtype() != DType::I64 {
        bail!(
            Runtime,
            "take(): Expected a long tensor for index, but got {}",
            idx.dtype().name()
        );
    }
    let n = t.numel();
    let flat = crate::ops::shape::reshape(t, &[-1])?;
    if any_cuda(&[t, idx]) {
        crate::ops::check_same_device("take", &[t, idx])?;
        // Every output element reads flat[idx[e]]: a gather whose source has no other dims.
        let out = Tensor::empty(idx.shape(), t.dtype(), t.device())?;
        let zeros = vec![0isize; idx.ndim()];
        crate::cuda::index::gather_dim(
            &out,
            &flat,
            &zeros,
            flat.strides()[0],
            n,
            idx,
            idx.strides(),
            true,
            move || {
                Error::index(format!(
                    "out of range: tried to access an index on a tensor of {n} elements."
                ))
            },
        )?;
        return Ok(out);
    }
    check_values(idx, n, true, |i| {
        Error::index(format!(
            "out of range: tried to access index {i} on a tensor of {n} elements."
        ))
    })?;
    let i1 = at_least_1d(idx)?;
    let out = index(&flat, &[IndexItem::Tensor(i1)])?;
    out.view_with(Layout::contiguous(idx.shape()))
}

/// `torch.take_along_dim(t, indices, dim)`: `gather` after broadcasting all dims but `dim`;
/// without `dim`, both are flattened.
pub fn take_along_dim(t: &Tensor, idx: &Tensor, dim: Option<i64>) -> Result<Tensor> {
    if idx.dtype() != DType::I64 {
        bail!(
            Runtime,
            "torch.take_along_dim(): dtype of indices should be Long but got {}",
            idx.dtype().name()
        );
    }
    let Some(dim) = dim else {
        let flat = crate::ops::shape::reshape(t, &[-1])?;
        let fi = crate::ops::shape::reshape(idx, &[-1])?;
        return gather(&flat, 0, &fi);
    };
    if t.ndim() != idx.ndim() {
        bail!(
            Runtime,
            "torch.take_along_dim(): input and indices should have the same number of \
             dimensions, but got {} dimensions for input, and {} dimensions for indices",
            t.ndim(),
            idx.ndim()
        );
    }
    let d = wrap_dim(dim, t.ndim(), "take_along_dim")?;
    if t.ndim() == 0 {
        return gather(t, 0, idx);
    }
    let (mut a, mut b) = (t.shape().to_vec(), idx.shape().to_vec());
    a[d] = 1;
    b[d] = 1;
    let mut s = broadcast_shapes(&a, &b, "take_along_dim")?;
    s[d] = t.shape()[d];
    let te = crate::ops::shape::broadcast_to(t, &s)?;
    s[d] = idx.shape()[d];
    let ie = crate::ops::shape::broadcast_to(idx, &s)?;
    gather(&te, d as i64, &ie)
}
