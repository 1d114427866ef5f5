//! Scatters on CUDA (`kernels/scatter.cu`): `scatter_`/`scatter_reduce_`, `index_add_`,
//! `index_copy_`, `index_fill_` and the writes of `index_put_`. Duplicate indices combine
//! through atomics; plain stores to a duplicate leave one of the values, as torch on CUDA.
//!
//! Index values are checked on the device before anything is written ([`IndexCheck`]): the
//! check pass records a bad value in a small device buffer, the write passes queued after it
//! see the record and write nothing, and the host reads the record once, after every pass is
//! queued. So a bad index raises, leaves the tensor as it was and never poisons the context.

use super::geometry::coalesce;
use super::{device_of, launch_config, ptr, type_name, Source};
use crate::device::Device;
use crate::dispatch_all;
use crate::dtype::DType;
use crate::element::to_bits;
use crate::error::{Error, Result};
use crate::layout::contiguous_strides;
use crate::ops::index_gather::Reduce;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

pub const SOURCE: Source = Source {
    name: "scatter",
    text: include_str!("kernels/scatter.cu"),
};

/// Every (source, defines) this module requests.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    crate::dtype::ALL_DTYPES
        .iter()
        .map(|&d| (SOURCE, vec![("T", type_name(d))]))
        .collect()
}

/// How a scatter combines a value with its destination; the order is `OP_*` of `scatter.cu`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterOp {
    Assign,
    Sum,
    Prod,
    Amax,
    Amin,
}

/// The values a scatter writes.
pub enum Values<'a> {
    /// A tensor on the destination's device, of its dtype, read through these strides over
    /// the scatter's shape.
    Tensor(&'a Tensor, Vec<isize>),
    /// One value everywhere, as its bytes in the destination's dtype.
    Bits(u64),
}

impl Values<'_> {
    /// One value from a one-element host tensor (a number) of the destination's dtype.
    pub fn of_number(v: &Tensor) -> Result<Values<'static>> {
        let s = v.item()?;
        Ok(Values::Bits(
            dispatch_all!(v.dtype(), T => to_bits::<T>(s.to_elem())),
        ))
    }
}

/// Where a scatter writes: element `e` of `shape` goes to
/// `dst[dst_strides(e) + idx[idx_strides(e)] * dim_stride]`, an index below 0 counting from
/// `size` when `wrap`.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub shape: &'a [usize],
    pub dst: &'a Tensor,
    pub dst_strides: &'a [isize],
    pub dim_stride: isize,
    /// int64, on the destination's device.
    pub idx: &'a Tensor,
    pub idx_strides: &'a [isize],
    pub size: usize,
    pub wrap: bool,
}

/// A device record of the first bad index: `[found, value, dim]` (int64).
pub struct IndexCheck {
    flag: Tensor,
}

impl IndexCheck {
    pub fn new(device: Device) -> Result<IndexCheck> {
        Ok(IndexCheck {
            flag: Tensor::zeros(&[3], DType::I64, device)?,
        })
    }

    /// Queues a pass over `shape` that checks each `idx[idx_strides(e)]` (int64) against
    /// `size` (from `-size` when `wrap`) and, with `offs = Some((o, stride))`, adds the wrapped
    /// index times `stride` to `o[e]` (`o` contiguous int64 of `shape`). `dim` is what the
    /// record names if a value is out of range.
    #[allow(clippy::too_many_arguments)]
    pub fn pass(
        &self,
        shape: &[usize],
        idx: &Tensor,
        idx_strides: &[isize],
        size: usize,
        wrap: bool,
        offs: Option<(&Tensor, isize)>,
        dim: usize,
    ) -> Result<()> {
        let n: usize = shape.iter().product();
        if n == 0 {
            return Ok(());
        }
        if idx.dtype() != DType::I64 || offs.is_some_and(|(o, _)| o.dtype() != DType::I64) {
            return Err(Error::runtime(
                "internal error: index offsets take int64 tensors",
            ));
        }
        let dev = device_of(idx)?;
        let [si] = coalesce(shape, [idx_strides])?;
        let f = dev.kernel(&super::index::SOURCE, &[("T", "i64")], "index_offsets")?;
        let (po, stride) = offs.map_or((0, 0), |(o, s)| (ptr(o), s as i64));
        let (pi, size, wrap, dim, n64, pf) = (
            ptr(idx),
            size as i64,
            wrap as i32,
            dim as i64,
            n as i64,
            ptr(&self.flag),
        );
        crate::cuda_launch!(dev, f, "index_offsets", launch_config(dev, n);
            po, pi, si, size, wrap, stride, dim, n64, pf)
    }

    /// Queues a check of every value of `idx` (int64) against `size`.
    pub fn values(&self, idx: &Tensor, size: usize, wrap: bool) -> Result<()> {
        self.pass(idx.shape(), idx, idx.strides(), size, wrap, None, 0)
    }

    /// Leaves the verdict of the queued passes to the next synchronisation, where the first bad
    /// index value and its dim raise `err(value, dim)`.
    pub fn defer(self, err: impl FnOnce(i64, usize) -> Error + Send + 'static) -> Result<()> {
        let dev = device_of(&self.flag)?;
        dev.defer_check(self.flag, move |v| match v {
            [1, value, dim] => Some(err(*value, *dim as usize)),
            _ => None,
        })
    }

    /// Waits for the queued passes; the first bad index value and its dim, if any.
    pub fn bad(&self) -> Result<Option<(i64, usize)>> {
        let v = self.flag.to_device(Device::Cpu)?.to_vec::<i64>();
        Ok(match v[..] {
            [1, value, dim] => Some((value, dim as usize)),
            _ => None,
        })
    }
}

/// Queues `dst[..] (op)= values` over `target`; nothing is written if `check` has recorded a
/// bad index by then.
pub fn scatter(
    target: &Target,
    values: &Values,
    op: ScatterOp,
    check: Option<&IndexCheck>,
) -> Result<()> {
    let n: usize = target.shape.iter().product();
    if n == 0 {
        return Ok(());
    }
    let dst = target.dst;
    let dev = device_of(dst)?;
    let zeros = vec![0isize; target.shape.len()];
    let (src, src_strides, bits) = match values {
        Values::Tensor(t, s) => (ptr(t), &s[..], 0u64),
        Values::Bits(b) => (0u64, &zeros[..], *b),
    };
    let [sd, si, ss] = coalesce(
        target.shape,
        [target.dst_strides, target.idx_strides, src_strides],
    )?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(dst.dtype()))], "scatter")?;
    let (pd, ds, pi, size, wrap) = (
        ptr(dst),
        target.dim_stride as i64,
        ptr(target.idx),
        target.size as i64,
        target.wrap as i32,
    );
    let (op, n64, err) = (op as i32, n as i64, check.map_or(0, |c| ptr(&c.flag)));
    crate::cuda_launch!(dev, f, "scatter", launch_config(dev, n);
        pd, sd, ds, pi, si, size, wrap, src, ss, bits, op, n64, err)?;
    dst.storage().bump_version();
    Ok(())
}

/// A dim-wise scatter with torch's `scatter_reduce_` semantics on `target` (whose `dst` is
/// indexed along `dim`): checks `target.idx`'s values, writes the reduction's identity where
/// anything lands unless `include_self` (as torch does), reduces, and for a mean divides by
/// the count of values per position. An out-of-range index raises `err(value)` at the next
/// synchronisation, with nothing written.
pub fn scatter_reduce(
    target: &Target,
    dim: usize,
    values: &Values,
    reduce: Reduce,
    include_self: bool,
    err: impl FnOnce(i64) -> Error + Send + 'static,
) -> Result<()> {
    let dst = target.dst;
    let check = IndexCheck::new(dst.device())?;
    check.values(target.idx, target.size, target.wrap)?;
    let op = match reduce {
        Reduce::Assign => ScatterOp::Assign,
        Reduce::Sum | Reduce::Mean => ScatterOp::Sum,
        Reduce::Prod => ScatterOp::Prod,
        Reduce::Amax => ScatterOp::Amax,
        Reduce::Amin => ScatterOp::Amin,
    };
    if !include_self && op != ScatterOp::Assign {
        let identity = Values::Bits(identity_bits(dst.dtype(), op));
        scatter(target, &identity, ScatterOp::Assign, Some(&check))?;
    }
    scatter(target, values, op, Some(&check))?;
    if reduce == Reduce::Mean {
        // torch's mean: count what lands on each position (plus self), then divide.
        let start = Scalar::Int(include_self.into());
        let counts = Tensor::full(dst.shape(), start, DType::I64, dst.device())?;
        let mut count_strides = counts.strides().to_vec();
        let count_dim_stride = std::mem::replace(&mut count_strides[dim], 0);
        let count_target = Target {
            dst: &counts,
            dst_strides: &count_strides,
            dim_stride: count_dim_stride,
            ..*target
        };
        let one = Values::Bits(1);
        scatter(&count_target, &one, ScatterOp::Sum, Some(&check))?;
        divide_by_count(dst, &counts, &check)?;
    }
    check.defer(move |value, _| err(value))
}

/// Queues `t /= max(counts, 1)` (floor division for integers); `counts` is contiguous int64
/// of `t`'s shape.
fn divide_by_count(t: &Tensor, counts: &Tensor, check: &IndexCheck) -> Result<()> {
    let n = t.numel();
    if n == 0 {
        return Ok(());
    }
    let dev = device_of(t)?;
    let [st, sc] = coalesce(t.shape(), [t.strides(), &contiguous_strides(t.shape())])?;
    let f = dev.kernel(&SOURCE, &[("T", type_name(t.dtype()))], "divide_by_count")?;
    let (pt, pc, n64, err) = (ptr(t), ptr(counts), n as i64, ptr(&check.flag));
    crate::cuda_launch!(dev, f, "divide_by_count", launch_config(dev, n); pt, st, pc, sc, n64, err)
}

/// The bytes of the identity of `op` in dtype `d`: what torch writes first where a
/// `scatter_reduce_` without `include_self` lands.
fn identity_bits(d: DType, op: ScatterOp) -> u64 {
    let v = match op {
        ScatterOp::Prod => Scalar::Int(1),
        ScatterOp::Amax => extreme(d, false),
        ScatterOp::Amin => extreme(d, true),
        ScatterOp::Assign | ScatterOp::Sum => Scalar::Int(0),
    };
    dispatch_all!(d, T => to_bits::<T>(v.to_elem()))
}

/// The largest (or lowest) value of `d`, infinite for floats.
fn extreme(d: DType, largest: bool) -> Scalar {
    let (lo, hi) = match d {
        DType::Bool => return Scalar::Bool(largest),
        DType::U8 => (0, u8::MAX.into()),
        DType::I8 => (i8::MIN.into(), i8::MAX.into()),
        DType::I16 => (i16::MIN.into(), i16::MAX.into()),
        DType::I32 => (i32::MIN.into(), i32::MAX.into()),
        DType::I64 => (i64::MIN, i64::MAX),
        DType::F16 | DType::BF16 | DType::F32 | DType::F64 => {
            return Scalar::Float(if largest {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            })
        }
    };
    Scalar::Int(if largest { hi } else { lo })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities() {
        assert_eq!(identity_bits(DType::I8, ScatterOp::Amax), 0x80);
        assert_eq!(identity_bits(DType::U8, ScatterOp::Amin), 0xff);
        assert_eq!(
            identity_bits(DType::F32, ScatterOp::Amax),
            f32::NEG_INFINITY.to_bits() as u64
        );
        assert_eq!(identity_bits(DType::F64, ScatterOp::Prod), 1f64.to_bits());
        assert_eq!(identity_bits(DType::Bool, ScatterOp::Amin), 1);
    }
}
