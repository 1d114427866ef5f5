//! Mask ops: `nonzero`/`argwhere`, `masked_fill`, `masked_select`, `masked_scatter`.

use crate::bail;
use crate::cpu::iter::{for_each_run, SendPtr};
use crate::cuda::index::{any_cuda, host};
use crate::dtype::DType;
use crate::element::Element;
use crate::error::Result;
use crate::layout::{broadcast_shapes, Layout};
use crate::ops::index_kernels::walk2;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{dispatch_all, dispatch_by_size};

/// `torch.nonzero(t)`: an int64 tensor of shape `[n, ndim]` with the coordinates of the
/// non-zero elements in row-major order.
pub fn nonzero(t: &Tensor) -> Result<Tensor> {
    if t.is_cuda() {
        if t.ndim() > crate::cuda::MAX_DIMS {
            return nonzero(&host(t)?)?.to_device(t.device());
        }
        let (rank, count) = running_count(&t.to_dtype(DType::Bool)?)?;
        let out = Tensor::empty(&[count, t.ndim()], DType::I64, t.device())?;
        crate::cuda::index::nonzero_coords(&out, &rank, t.shape())?;
        return Ok(out);
    }
    let nd = t.ndim();
    let c = t.contiguous()?;
    let shape = c.shape().to_vec();
    let mut coords: Vec<i64> = Vec::new();
    let inner = shape.last().copied().unwrap_or(1);
    dispatch_all!(c.dtype(), T => {
        // SAFETY: contiguous tensor of numel elements of T.
        let xs = unsafe { std::slice::from_raw_parts(c.data_ptr::<T>(), c.numel()) };
        let zero = T::zero();
        // Rows of the innermost dim; the outer coordinates advance as an odometer, so no
        // division per hit.
        let mut outer = vec![0i64; nd.saturating_sub(1)];
        for row in xs.chunks(inner.max(1)) {
            for (j, &x) in row.iter().enumerate() {
                if x != zero {
                    coords.extend_from_slice(&outer);
                    coords.push(j as i64);
                }
            }
            for d in (0..outer.len()).rev() {
                outer[d] += 1;
                if (outer[d] as usize) < shape[d] {
                    break;
                }
                outer[d] = 0;
            }
        }
    });
    if nd == 0 {
        let n = coords.len();
        return Tensor::zeros(&[n, 0], DType::I64, t.device());
    }
    let n = coords.len() / nd;
    Tensor::from_vec(coords, &[n, nd])
}

fn check_bool_mask(op: &str, mask: &Tensor) -> Result<()> {
    if mask.dtype() != DType::Bool {
        bail!(
            Runtime,
            "{op} only supports boolean masks, but got mask with dtype {}",
            mask.dtype().name()
        );
    }
    crate::ops::check_same_device(op, &[mask])
}

/// `self.masked_fill_(mask, value)`: `mask` broadcasts to self's shape.
pub fn masked_fill_(t: &Tensor, mask: &Tensor, value: Scalar) -> Result<()> {
    check_bool_mask("masked_fill_", mask)?;
    let m = mask.view_with(mask.layout().broadcast_to(t.shape(), "masked_fill_")?)?;
    if any_cuda(&[t, &m]) {
        crate::ops::check_same_device("masked_fill_", &[t, &m])?;
        let bits = dispatch_all!(t.dtype(), T => crate::element::to_bits::<T>(value.to_elem()));
        return crate::cuda::index::masked_fill(t, &m, bits);
    }
    dispatch_all!(t.dtype(), T => {
        let v: T = value.to_elem();
        let (o, pm) = (SendPtr(t.data_ptr::<T>()), SendPtr(m.data_ptr::<bool>()));
        for_each_run(t.shape(), [t.strides(), m.strides()], |off, st, len| unsafe {
            // SAFETY: runs stay inside both validated views; runs never overlap.
            let (o, pm) = (o.get().offset(off[0]), pm.get().offset(off[1]));
            for i in 0..len as isize {
                if *pm.offset(i * st[1]) {
                    *o.offset(i * st[0]) = v;
                }
            }
        });
    });
    t.storage().bump_version();
    Ok(())
}

/// `torch.masked_fill(t, mask, value)`: the result has the broadcast shape of both.
pub fn masked_fill(t: &Tensor, mask: &Tensor, value: Scalar) -> Result<Tensor> {
    check_bool_mask("masked_fill", mask)?;
    let shape = broadcast_shapes(t.shape(), mask.shape(), "masked_fill")?;
    let out = Tensor::empty(&shape, t.dtype(), t.device())?;
    out.copy_(t)?;
    masked_fill_(&out, mask, value)?;
    Ok(out)
}

/// `torch.masked_select(t, mask)`: the elements where the broadcast mask is true, as 1-D.
pub fn masked_select(t: &Tensor, mask: &Tensor) -> Result<Tensor> {
    check_bool_mask("masked_select", mask)?;
    crate::ops::check_same_device("masked_select", &[t, mask])?;
    let shape = broadcast_shapes(t.shape(), mask.shape(), "masked_select")?;
    let tv = t.view_with(t.layout().broadcast_to(&shape, "masked_select")?)?;
    let mv = mask.view_with(mask.layout().broadcast_to(&shape, "masked_select")?)?;
    if t.is_cuda() {
        let (rank, count) = running_count(&mv)?;
        let out = Tensor::empty(&[count], t.dtype(), t.device())?;
        crate::cuda::index::masked_select(&out, &tv, &mv, &rank)?;
        return Ok(out);
    }
    let pm = mv.data_ptr::<bool>();
    let mut count = 0usize;
    // SAFETY: offsets come from the validated broadcast layouts.
    walk2(&shape, mv.strides(), mv.strides(), |o, _| {
        count += unsafe { *pm.offset(o) } as usize
    });
    let out = Tensor::empty(&[count], t.dtype(), t.device())?;
    dispatch_by_size!(t.dtype().size(), T => {
        let (src, dst) = (tv.data_ptr_raw() as *const T, out.data_ptr_raw() as *mut T);
        let mut k = 0usize;
        walk2(&shape, tv.strides(), mv.strides(), |o, om| unsafe {
            // SAFETY: exactly `count` hits, so k < count.
            if *pm.offset(om) {
                *dst.add(k) = *src.offset(o);
                k += 1;
            }
        });
    });
    Ok(out)
}

/// `self.masked_scatter_(mask, source)`: copies `source`'s elements, in order, to the
/// positions where the (broadcast) mask is true.
pub fn masked_scatter_(t: &Tensor, mask: &Tensor, source: &Tensor) -> Result<()> {
    check_bool_mask("masked_scatter_", mask)?;
    crate::ops::check_same_device("masked_scatter_", &[t, mask, source])?;
    if source.dtype() != t.dtype() {
        bail!(
            Runtime,
            "masked_scatter_: expected self and source to have same dtypes but got {} and {}",
            t.dtype().name(),
            source.dtype().name()
        );
    }
    let m = mask.view_with(mask.layout().broadcast_to(t.shape(), "masked_scatter_")?)?;
    if t.is_cuda() {
        return masked_scatter_on_device(t, &m, source);
    }
    let pm = m.data_ptr::<bool>();
    let mut count = 0usize;
    // SAFETY: offsets come from the validated broadcast layout.
    walk2(t.shape(), m.strides(), m.strides(), |o, _| {
        count += unsafe { *pm.offset(o) } as usize
    });
    let src = masked_scatter_source(t, source, count)?;
    dispatch_by_size!(t.dtype().size(), T => {
        let (dst, sp) = (t.data_ptr_raw() as *mut T, src.data_ptr_raw() as *const T);
        let mut k = 0usize;
        walk2(t.shape(), t.strides(), m.strides(), |o, om| unsafe {
            // SAFETY: k < count <= source.numel().
            if *pm.offset(om) {
                *dst.offset(o) = *sp.add(k);
                k += 1;
            }
        });
    });
    t.storage().bump_version();
    Ok(())
}

/// `source` checked to hold at least `count` elements, contiguous and apart from `t`.
fn masked_scatter_source(t: &Tensor, source: &Tensor, count: usize) -> Result<Tensor> {
    if count > source.numel() {
        bail!(
            Runtime,
            "masked_scatter: expected source to have at least {count} elements, but got {}",
            source.numel()
        );
    }
    let src = source.contiguous()?;
    if src.shares_storage(t) {
        src.copy_to_new(src.dtype())
    } else {
        Ok(src)
    }
}

/// The selected elements of a bool tensor on a GPU ranked in row-major order (the inclusive
/// running count, contiguous int64 of the tensor's size) and their count. The count is read
/// on the host, the one wait of the mask ops on a GPU (torch waits there too: the count sizes
/// a result or is checked).
fn running_count(m: &Tensor) -> Result<(Tensor, usize)> {
    let n = m.numel();
    let flat = m
        .to_dtype(DType::I64)?
        .view_with(Layout::contiguous(&[n]))?;
    if n == 0 {
        return Ok((flat, 0));
    }
    let rank = crate::ops::reduce_scan::cumsum_cumprod::<true>(&flat, 0, None)?;
    let count = crate::ops::shape::select(&rank, 0, n as i64 - 1)?
        .item()?
        .to_i64();
    Ok((rank, count.max(0) as usize))
}

/// `masked_scatter_` on a GPU with `m` the broadcast mask: the running count of the mask
/// gives each selected element its source position.
fn masked_scatter_on_device(t: &Tensor, m: &Tensor, source: &Tensor) -> Result<()> {
    let (rank, count) = running_count(m)?;
    let src = masked_scatter_source(t, source, count)?;
    crate::cuda::index::masked_scatter(t, m, &rank, &src)
}

/// `torch.masked_scatter(t, mask, source)`: the result has the broadcast shape.
pub fn masked_scatter(t: &Tensor, mask: &Tensor, source: &Tensor) -> Result<Tensor> {
    let shape = broadcast_shapes(t.shape(), mask.shape(), "masked_scatter")?;
    let out = Tensor::empty(&shape, t.dtype(), t.device())?;
    out.copy_(t)?;
    masked_scatter_(&out, mask, source)?;
    Ok(out)
}
