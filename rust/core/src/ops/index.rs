//! `Tensor.__getitem__` / `__setitem__`: torch's indexing semantics.
//!
//! An index tuple is applied in two phases, as torch's `applySlicing` does. Basic items (ints,
//! slices, None, Ellipsis) turn the tensor into a view with `select`/`slice`/`unsqueeze`;
//! advanced items (integer tensors, masks, Python bools) are recorded against dims of that
//! view. When advanced items exist, the result is a copy gathered through a table of storage
//! offsets (one per element of the broadcast index shape), so the kernel never re-reads the
//! index tensors and every index is bounds-checked before anything is read or written.

use crate::bail;
use crate::cpu::iter::{Geometry, SendPtr, PARALLEL_THRESHOLD};
use crate::cuda::index as cuda;
use crate::cuda::scatter::{scatter, IndexCheck, ScatterOp, Target, Values};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{broadcast_shapes, contiguous_strides};
use crate::ops::index_kernels::{combine_strided, copy_strided, for_each_offset, walk2, Combine};
use crate::ops::index_mask::nonzero;
use crate::ops::shape::{select, slice, unsqueeze};
use crate::tensor::Tensor;
use crate::{dispatch_all, dispatch_by_size};

/// One item of an index tuple, already parsed from Python.
#[derive(Clone, Debug)]
pub enum IndexItem {
    /// An integer: selects one position and removes the dim.
    Int(i64),
    /// `start:stop:step` with Python's defaults for `None`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `None`: inserts a dim of size 1.
    NewAxis,
    /// `...`: as many full slices as needed.
    Ellipsis,
    /// A Python bool: a new dim of size 1 that is kept (`True`) or emptied (`False`).
    Bool(bool),
    /// An integer tensor (advanced index) or a bool/uint8 tensor (mask).
    Tensor(Tensor),
}

/// The result of applying the basic items: a view plus the advanced indices on its dims.
struct Plan {
    view: Tensor,
    /// `(first dim of view, int64 index tensor or bool/uint8 mask)`, in increasing dim order.
    adv: Vec<(usize, Tensor)>,
}

fn is_mask(t: &Tensor) -> bool {
    matches!(t.dtype(), DType::Bool | DType::U8)
}

/// Python slice semantics for one dim of size `size` (step already known positive).
fn resolve_slice(start: Option<i64>, stop: Option<i64>, size: usize) -> (usize, usize) {
    let n = size as i64;
    let clamp = |v: i64| {
        let v = if v < 0 { v + n } else { v };
        v.clamp(0, n) as usize
    };
    let s = start.map_or(0, clamp);
    let e = stop.map_or(size, clamp);
    (s, e.max(s))
}

/// An int64 index tensor of shape `[len]` holding `0` `len` times (a Python bool as an index).
fn bool_index(value: bool) -> Result<Tensor> {
    Tensor::zeros(&[usize::from(value)], DType::I64, crate::Device::Cpu)
}

/// `select` with torch's indexing error, which names the dim of the indexed tensor.
fn select_checked(v: &Tensor, dim: usize, i: i64, real: usize) -> Result<Tensor> {
    let size = v.shape()[dim] as i64;
    if i < -size || i >= size {
        bail!(
            Index,
            "index {i} is out of bounds for dimension {real} with size {size}"
        );
    }
    select(v, dim as i64, i)
}

fn plan(t: &Tensor, items: &[IndexItem]) -> Result<Plan> {
    let mut consumed = 0usize;
    let mut ellipses = 0usize;
    for it in items {
        match it {
            IndexItem::Int(_) | IndexItem::Slice(..) => consumed += 1,
            IndexItem::Tensor(x) if is_mask(x) => consumed += x.ndim(),
            IndexItem::Tensor(_) => consumed += 1,
            IndexItem::Ellipsis => ellipses += 1,
            IndexItem::NewAxis | IndexItem::Bool(_) => {}
        }
    }
    if ellipses > 1 {
        bail!(Index, "an index can only have a single ellipsis ('...')");
    }
    if consumed > t.ndim() {
        bail!(
            Index,
            "too many indices for tensor of dimension {}",
            t.ndim()
        );
    }
    let mut v = t.clone();
    let mut dim = 0usize;
    // The dim of `t` the next item consumes, for error messages (torch reports it, not the
    // dim of the partially indexed view).
    let mut real = 0usize;
    let mut adv: Vec<(usize, Tensor)> = Vec::new();
    for it in items {
        match it {
            IndexItem::Int(i) => {
                v = select_checked(&v, dim, *i, real)?;
                real += 1;
            }
            IndexItem::Slice(start, stop, step) => {
                let step = step.unwrap_or(1);
                if step == 0 {
                    bail!(Value, "slice step cannot be zero");
                }
                if step < 0 {
                    bail!(Value, "step must be greater than zero");
                }
                let (s, e) = resolve_slice(*start, *stop, v.shape()[dim]);
                v = slice(&v, dim, s, e, step as usize)?;
                dim += 1;
                real += 1;
            }
            IndexItem::NewAxis => {
                v = unsqueeze(&v, dim as i64)?;
                dim += 1;
            }
            IndexItem::Ellipsis => {
                dim += t.ndim() - consumed;
                real += t.ndim() - consumed;
            }
            IndexItem::Bool(b) => {
                v = unsqueeze(&v, dim as i64)?;
                adv.push((dim, bool_index(*b)?));
                dim += 1;
            }
            IndexItem::Tensor(x) => match x.dtype() {
                DType::Bool | DType::U8 if x.ndim() == 0 => {
                    let b = x.item()?.to_i64() != 0;
                    v = unsqueeze(&v, dim as i64)?;
                    adv.push((dim, bool_index(b)?));
                    dim += 1;
                }
                DType::Bool | DType::U8 => {
                    for (j, &m) in x.shape().iter().enumerate() {
                        let s = v.shape()[dim + j];
                        if m != s {
                            bail!(
                                Index,
                                "The shape of the mask {:?} at index {j} does not match the \
                                 shape of the indexed tensor {:?} at index {}",
                                x.shape(),
                                v.shape(),
                                dim + j
                            );
                        }
                    }
                    adv.push((dim, x.clone()));
                    dim += x.ndim();
                    real += x.ndim();
                }
                DType::I64 | DType::I32 if x.ndim() == 0 => {
                    v = select_checked(&v, dim, x.item()?.to_i64(), real)?;
                    real += 1;
                }
                DType::I64 | DType::I32 => {
                    adv.push((dim, x.to_dtype(DType::I64)?));
                    dim += 1;
                    real += 1;
                }
                other => bail!(
                    Index,
                    "tensors used as indices must be long, int, byte or bool tensors (got {other})"
                ),
            },
        }
    }
    Ok(Plan { view: v, adv })
}

/// Where the advanced result goes: the view's remaining dims split into those before the
/// broadcast index dims (`pre`) and after (`post`), plus the offset of each index position.
struct Gather {
    view: Tensor,
    pre: Vec<usize>,
    post: Vec<usize>,
    bshape: Vec<usize>,
    offs: Offsets,
}

/// Storage offset (relative to the view's offset) of each broadcast index position, in the
/// view's memory: a list on the host, a contiguous int64 tensor of the index shape on a GPU.
enum Offsets {
    Host(Vec<isize>),
    Device(Tensor),
}

/// The broadcast shape of the advanced indices, with torch's error.
fn index_shape(adv: &[(usize, Tensor)]) -> Result<Vec<usize>> {
    let mut bshape: Vec<usize> = Vec::new();
    for (k, (_, ix)) in adv.iter().enumerate() {
        bshape = if k == 0 {
            ix.shape().to_vec()
        } else {
            broadcast_shapes(&bshape, ix.shape(), "index").map_err(|_| {
                let shapes: Vec<String> = adv
                    .iter()
                    .map(|(_, t)| format!("{:?}", t.shape()))
                    .collect();
                Error::index(format!(
                    "shape mismatch: indexing tensors could not be broadcast together with \
                     shapes {}",
                    shapes.join(", ")
                ))
            })?
        };
    }
    Ok(bshape)
}

impl Gather {
    fn new(p: Plan) -> Result<Gather> {
        let v = p.view;
        if v.is_cuda() {
            return Gather::new_on_device(v, p.adv);
        }
        if let [(d, m)] = p.adv.as_slice() {
            if is_mask(m) {
                // A lone mask (`x[mask]`): one pass over the mask gives the offsets directly.
                let k = m.ndim();
                let mut offs = Vec::new();
                let pm = m.data_ptr_raw() as *const u8;
                let geo = Geometry::new(m.shape(), [m.strides(), &v.strides()[*d..*d + k]]);
                // SAFETY: the mask's shape equals the view's dims d..d+k (checked in `plan`).
                unsafe {
                    if let ([n], [sm], [sv]) =
                        (&geo.shape[..], &geo.strides[0][..], &geo.strides[1][..])
                    {
                        // Collapsed to one run (a contiguous mask over mergeable dims).
                        for i in 0..*n as isize {
                            if *pm.offset(i * sm) != 0 {
                                offs.push(i * sv);
                            }
                        }
                    } else {
                        walk2(&geo.shape, &geo.strides[0], &geo.strides[1], |om, ov| {
                            if *pm.offset(om) != 0 {
                                offs.push(ov);
                            }
                        });
                    }
                }
                let dims: Vec<usize> = (*d..*d + k).collect();
                return Ok(Gather::place(
                    v,
                    &dims,
                    vec![offs.len()],
                    Offsets::Host(offs),
                ));
            }
        }
        // Masks become one int64 index per dim (their non-zero coordinates).
        let mut adv: Vec<(usize, Tensor)> = Vec::new();
        for (d, x) in &p.adv {
            if is_mask(x) {
                let nz = nonzero(x)?;
                for j in 0..x.ndim() {
                    adv.push((d + j, select(&nz, 1, j as i64)?));
                }
            } else {
                adv.push((*d, x.clone()));
            }
        }
        let bshape = index_shape(&adv)?;
        let nb: usize = bshape.iter().product();
        let mut offs = vec![0isize; nb];
        for (d, ix) in &adv {
            let size = v.shape()[*d];
            let stride = v.strides()[*d];
            let ix = ix.view_with(ix.layout().broadcast_to(&bshape, "index")?)?;
            let ptr = ix.data_ptr::<i64>();
            let mut bad = None;
            let mut k = 0usize;
            // SAFETY: offsets come from the index tensor's own validated layout.
            for_each_offset(ix.shape(), ix.strides(), |o| unsafe {
                let i = *ptr.offset(o);
                let w = if i < 0 { i + size as i64 } else { i };
                if w < 0 || w >= size as i64 {
                    bad.get_or_insert(i);
                } else {
                    offs[k] += w as isize * stride;
                }
                k += 1;
            });
            if let Some(i) = bad {
                bail!(
                    Index,
                    "index {i} is out of bounds for dimension {d} with size {size}"
                );
            }
        }
        let dims: Vec<usize> = adv.iter().map(|(d, _)| *d).collect();
        Ok(Gather::place(v, &dims, bshape, Offsets::Host(offs)))
    }

    /// [`Gather::new`] for a view on a GPU, with the offsets computed there: one pass per
    /// advanced index adds its wrapped values times the dim's stride and checks them. Masks
    /// become indices through `nonzero`, which waits for the GPU (as torch's does); reading the
    /// check's verdict is the only other wait.
    fn new_on_device(v: Tensor, items: Vec<(usize, Tensor)>) -> Result<Gather> {
        let dev = v.device();
        let on_device = |x: Tensor| if x.is_cuda() { Ok(x) } else { x.to_device(dev) };
        let mut adv: Vec<(usize, Tensor)> = Vec::new();
        for (d, x) in items {
            if is_mask(&x) {
                let nz = on_device(nonzero(&x)?)?;
                for j in 0..x.ndim() {
                    adv.push((d + j, select(&nz, 1, j as i64)?));
                }
            } else {
                adv.push((d, on_device(x)?));
            }
        }
        let bshape = index_shape(&adv)?;
        let offs = Tensor::zeros(&bshape, DType::I64, dev)?;
        let check = IndexCheck::new(dev)?;
        for (d, ix) in &adv {
            let strides = ix.layout().broadcast_to(&bshape, "index")?.strides;
            let size = v.shape()[*d];
            let offs = Some((&offs, v.strides()[*d]));
            check.pass(&bshape, ix, &strides, size, true, offs, *d)?;
        }
        if let Some((i, d)) = check.bad()? {
            bail!(
                Index,
                "index {i} is out of bounds for dimension {d} with size {}",
                v.shape()[d]
            );
        }
        let dims: Vec<usize> = adv.iter().map(|(d, _)| *d).collect();
        Ok(Gather::place(v, &dims, bshape, Offsets::Device(offs)))
    }

    /// torch's placement rule: indexed dims that are adjacent put the index dims where they
    /// were; otherwise the index dims go first.
    fn place(view: Tensor, dims: &[usize], bshape: Vec<usize>, offs: Offsets) -> Gather {
        let adjacent = dims.windows(2).all(|w| w[1] == w[0] + 1);
        let rest: Vec<usize> = (0..view.ndim()).filter(|d| !dims.contains(d)).collect();
        let (pre, post) = if adjacent {
            rest.iter().partition(|&&d| d < dims[0])
        } else {
            (Vec::new(), rest)
        };
        Gather {
            view,
            pre,
            post,
            bshape,
            offs,
        }
    }

    fn out_shape(&self) -> Vec<usize> {
        let s = self.view.shape();
        let mut out: Vec<usize> = self.pre.iter().map(|&d| s[d]).collect();
        out.extend_from_slice(&self.bshape);
        out.extend(self.post.iter().map(|&d| s[d]));
        out
    }

    fn dims_of(&self, dims: &[usize]) -> (Vec<usize>, Vec<isize>) {
        let l = self.view.layout();
        (
            dims.iter().map(|&d| l.shape[d]).collect(),
            dims.iter().map(|&d| l.strides[d]).collect(),
        )
    }

    /// Strides over the output shape (pre, index and post dims) of the view (0 along the index
    /// dims) and of the device offsets (0 along the others).
    fn device_strides(&self) -> (Vec<isize>, Vec<isize>) {
        let vs = self.view.strides();
        let (np, nb) = (self.pre.len(), self.bshape.len());
        let mut view_st: Vec<isize> = self.pre.iter().map(|&d| vs[d]).collect();
        view_st.extend(std::iter::repeat_n(0, nb));
        view_st.extend(self.post.iter().map(|&d| vs[d]));
        let mut offs_st = vec![0isize; np];
        offs_st.extend(contiguous_strides(&self.bshape));
        offs_st.extend(std::iter::repeat_n(0, self.post.len()));
        (view_st, offs_st)
    }

    /// Copies the indexed elements into a new contiguous tensor.
    fn gather(&self) -> Result<Tensor> {
        let out = Tensor::empty(&self.out_shape(), self.view.dtype(), self.view.device())?;
        if out.numel() == 0 {
            return Ok(out);
        }
        let offs = match &self.offs {
            Offsets::Host(offs) => offs,
            Offsets::Device(offs) => {
                let (view_st, offs_st) = self.device_strides();
                cuda::gather_offsets(&out, &self.view, &view_st, offs, &offs_st)?;
                return Ok(out);
            }
        };
        let (pre_shape, pre_strides) = self.dims_of(&self.pre);
        let (post_shape, post_src) = self.dims_of(&self.post);
        let geo = Geometry::new(&post_shape, [&post_src, &contiguous_strides(&post_shape)]);
        let post_n: usize = post_shape.iter().product();
        let nb = offs.len();
        let outer = pre_shape.iter().product::<usize>() * nb;
        dispatch_by_size!(self.view.dtype().size(), T => {
            let src = SendPtr(self.view.data_ptr_raw() as *mut T);
            let dst = SendPtr(out.data_ptr_raw() as *mut T);
            // Output blocks start..end (block i = pre position i / nb, index position i % nb).
            let run = |start: usize, end: usize| {
                let (src, dst) = (src.get(), dst.get());
                let (mut p, mut b) = (start / nb, start % nb);
                let mut pre_off = offset_of(p, &pre_shape, &pre_strides);
                for i in start..end {
                    let base = pre_off + offs[b];
                    // SAFETY: every offset was bounds-checked against the view's validated
                    // layout; the output is contiguous with outer * post_n elements.
                    unsafe {
                        if post_n == 1 {
                            *dst.add(i) = *src.offset(base);
                        } else {
                            copy_strided(dst.add(i * post_n), &geo.strides[1], src.offset(base),
                                &geo.strides[0], &geo.shape);
                        }
                    }
                    b += 1;
                    if b == nb {
                        b = 0;
                        p += 1;
                        pre_off = offset_of(p, &pre_shape, &pre_strides);
                    }
                }
            };
            if out.numel() >= PARALLEL_THRESHOLD {
                let chunk = (PARALLEL_THRESHOLD / 4 / post_n).max(1);
                crate::cpu::parallel_ranges(outer, chunk, |r| run(r.start, r.end));
            } else {
                run(0, outer);
            }
        });
        Ok(out)
    }

    /// Writes `value` (broadcast to the indexed shape, same dtype, not aliasing the view)
    /// into the indexed elements, in order, so the last write to a duplicate index wins (on a
    /// GPU one of them wins, unspecified which, as in torch). A value on the host for a view on
    /// a GPU is a number.
    fn put(&self, value: &Tensor, accumulate: bool) -> Result<()> {
        let shape = self.out_shape();
        let broadcast = value.view_with(value.layout().broadcast_to(&shape, "index_put_")?)?;
        if broadcast.numel() == 0 {
            return Ok(());
        }
        let offs = match &self.offs {
            Offsets::Host(offs) => offs,
            Offsets::Device(offs) => {
                let values = if value.is_cuda() {
                    Values::Tensor(&broadcast, broadcast.strides().to_vec())
                } else {
                    Values::of_number(value)?
                };
                return self.put_on_device(offs, &values, accumulate);
            }
        };
        let value = broadcast;
        let (pre_shape, pre_strides) = self.dims_of(&self.pre);
        let (post_shape, post_dst) = self.dims_of(&self.post);
        let (np, nbd) = (self.pre.len(), self.bshape.len());
        let vs = value.strides();
        let (v_pre, v_b, v_post) = (&vs[..np], &vs[np..np + nbd], &vs[np + nbd..]);
        let geo = Geometry::new(&post_shape, [&post_dst, v_post]);
        let mut v_offs = Vec::with_capacity(offs.len());
        for_each_offset(&self.bshape, v_b, |o| v_offs.push(o));
        let nb = offs.len();
        let outer = pre_shape.iter().product::<usize>() * nb;
        dispatch_all!(self.view.dtype(), T => {
            let dst = self.view.data_ptr::<T>();
            let src = value.data_ptr::<T>();
            let scalar_post = geo.shape.is_empty();
            for p in 0..outer / nb.max(1) {
                let dp = offset_of(p, &pre_shape, &pre_strides);
                let sp = offset_of(p, &pre_shape, v_pre);
                for (&ob, &vb) in offs.iter().zip(&v_offs) {
                    let (d, s) = (dp + ob, sp + vb);
                    // SAFETY: destination offsets were bounds-checked; source is a validated view.
                    unsafe {
                        match (scalar_post, accumulate) {
                            (true, false) => *dst.offset(d) = *src.offset(s),
                            (true, true) => *dst.offset(d) = (*dst.offset(d)).combine_add(*src.offset(s)),
                            (false, false) => copy_strided(dst.offset(d), &geo.strides[0],
                                src.offset(s), &geo.strides[1], &geo.shape),
                            (false, true) => combine_strided(dst.offset(d), &geo.strides[0],
                                src.offset(s), &geo.strides[1], &geo.shape,
                                |old: T, new: T| old.combine_add(new)),
                        }
                    }
                }
            }
        });
        self.view.storage().bump_version();
        Ok(())
    }

    /// [`Gather::put`] through device offsets: one thread per element of the indexed shape,
    /// adding atomically when `accumulate`.
    fn put_on_device(&self, offs: &Tensor, values: &Values, accumulate: bool) -> Result<()> {
        let shape = self.out_shape();
        let (view_st, offs_st) = self.device_strides();
        let target = Target {
            shape: &shape,
            dst: &self.view,
            dst_strides: &view_st,
            dim_stride: 1,
            idx: offs,
            idx_strides: &offs_st,
            size: 0,
            wrap: false,
        };
        let op = if accumulate {
            ScatterOp::Sum
        } else {
            ScatterOp::Assign
        };
        scatter(&target, values, op, None)
    }
}

/// Offset of row-major linear position `pos` in a strided box.
#[inline]
fn offset_of(mut pos: usize, shape: &[usize], strides: &[isize]) -> isize {
    let mut off = 0isize;
    for d in (0..shape.len()).rev() {
        off += (pos % shape[d]) as isize * strides[d];
        pos /= shape[d];
    }
    off
}

/// `t[items]`: a view for basic indexing, a new tensor when advanced items are present.
pub fn index(t: &Tensor, items: &[IndexItem]) -> Result<Tensor> {
    cuda::check_index_devices(t, items)?;
    let p = plan(t, items)?;
    if p.adv.is_empty() {
        return Ok(p.view);
    }
    Gather::new(p)?.gather()
}

/// Drops leading size-1 dims of `value` beyond `ndim` (torch lets `x[0] = ones(1, 3)` work).
fn strip_leading_ones(value: &Tensor, ndim: usize) -> Result<Tensor> {
    let mut l = value.layout().clone();
    while l.ndim() > ndim && l.shape[0] == 1 {
        l.shape.remove(0);
        l.strides.remove(0);
    }
    value.view_with(l)
}

/// `t[items] = value` (or `+=` with `accumulate`), in place on `t`'s storage. `value` is
/// converted to `t`'s dtype and broadcast to the indexed shape.
pub fn index_put_items(
    t: &Tensor,
    items: &[IndexItem],
    value: &Tensor,
    accumulate: bool,
) -> Result<()> {
    // A 0-d host value is a number, usable with a tensor on any device.
    let moved;
    let value = if value.ndim() == 0 && !value.is_cuda() && t.is_cuda() {
        moved = value.to_device(t.device())?;
        &moved
    } else {
        value
    };
    crate::ops::check_same_device("index_put_", &[t, value])?;
    cuda::check_index_devices(t, items)?;
    let p = plan(t, items)?;
    let shape = if p.adv.is_empty() {
        p.view.shape().to_vec()
    } else {
        Vec::new()
    };
    let g = if p.adv.is_empty() {
        None
    } else {
        Some(Gather::new(p)?)
    };
    let target = g.as_ref().map_or(shape, |g| g.out_shape());
    let value = strip_leading_ones(value, target.len())?;
    if value.layout().broadcast_to(&target, "index_put_").is_err() {
        bail!(
            Runtime,
            "shape mismatch: value tensor of shape {:?} cannot be broadcast to indexing result \
             of shape {:?}",
            value.shape(),
            target
        );
    }
    let mut value = value.to_dtype(t.dtype())?;
    if value.shares_storage(t) {
        value = value.copy_to_new(t.dtype())?;
    }
    match g {
        Some(g) => g.put(&value, accumulate),
        None => {
            let view = index(t, items)?;
            if accumulate {
                let sum = crate::ops::binary::add(&view, &value)?;
                view.copy_(&sum)
            } else {
                view.copy_(&value)
            }
        }
    }
}

/// `t[items] = scalar`: a fill for basic indexing, a scatter of one value otherwise.
pub fn index_fill_items(t: &Tensor, items: &[IndexItem], value: crate::Scalar) -> Result<()> {
    cuda::check_index_devices(t, items)?;
    let p = plan(t, items)?;
    if p.adv.is_empty() {
        return p.view.fill_(value);
    }
    let v = Tensor::scalar(value, t.dtype())?;
    Gather::new(p)?.put(&v, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: &[usize]) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), shape).unwrap()
    }

    #[test]
    fn basic_items_make_views() {
        let t = ramp(&[3, 4]);
        let v = index(
            &t,
            &[IndexItem::Slice(Some(1), None, Some(2)), IndexItem::Int(-1)],
        )
        .unwrap();
        assert!(v.shares_storage(&t));
        assert_eq!(v.to_vec::<i64>(), vec![7]);
        let e = index(&t, &[IndexItem::Int(3)]).unwrap_err();
        assert_eq!(
            e.message,
            "index 3 is out of bounds for dimension 0 with size 3"
        );
        assert!(index(&t, &[IndexItem::Slice(None, None, Some(-1))]).is_err());
    }

    #[test]
    fn advanced_items_follow_torch_placement() {
        let t = ramp(&[2, 3, 4]);
        let i = Tensor::from_vec(vec![0i64, 1], &[2]).unwrap();
        let slice = IndexItem::Slice(None, None, None);
        // Separated by a slice: index dims first.
        let r = index(
            &t,
            &[
                IndexItem::Tensor(i.clone()),
                slice.clone(),
                IndexItem::Tensor(i.clone()),
            ],
        )
        .unwrap();
        assert_eq!(r.shape(), &[2, 3]);
        assert_eq!(r.to_vec::<i64>(), vec![0, 4, 8, 13, 17, 21]);
        // Adjacent: in place.
        let r = index(
            &t,
            &[slice, IndexItem::Tensor(i.clone()), IndexItem::Tensor(i)],
        )
        .unwrap();
        assert_eq!(r.shape(), &[2, 2]);
        assert_eq!(r.to_vec::<i64>(), vec![0, 5, 12, 17]);
    }

    #[test]
    fn put_checks_every_index_before_writing() {
        let t = ramp(&[4]);
        let i = Tensor::from_vec(vec![0i64, 9], &[2]).unwrap();
        let v = Tensor::from_vec(vec![-1i64], &[1]).unwrap();
        assert!(index_put_items(&t, &[IndexItem::Tensor(i)], &v, false).is_err());
        assert_eq!(t.to_vec::<i64>(), vec![0, 1, 2, 3]);
        let m = Tensor::from_vec(vec![true, false, true, false], &[4]).unwrap();
        index_put_items(&t, &[IndexItem::Tensor(m)], &v, true).unwrap();
        assert_eq!(t.to_vec::<i64>(), vec![-1, 1, 1, 3]);
    }
}
