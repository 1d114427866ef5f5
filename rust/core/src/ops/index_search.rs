//! Counting and searching ops that produce indices: `bincount`, `searchsorted`, `bucketize`,
//! `one_hot`.

use crate::bail;
use crate::dispatch_all;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::index_gather::{index_add_, scatter_, Reduce};
use crate::ops::reduce::aminmax;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// `torch.bincount(input, weights, minlength)`: counts (int64) or summed weights (float32 for
/// float32 weights, float64 otherwise) of each non-negative integer in a 1-D input.
pub fn bincount(input: &Tensor, weights: Option<&Tensor>, minlength: i64) -> Result<Tensor> {
    if minlength < 0 {
        bail!(Runtime, "minlength should be >= 0");
    }
    crate::ops::check_same_device("bincount", &[&[input][..], weights.as_slice()].concat())?;
    if input.ndim() != 1 || !input.dtype().is_integral(false) {
        bail!(
            Runtime,
            "bincount only supports 1-d non-negative integral inputs."
        );
    }
    if let Some(w) = weights {
        if w.ndim() != 1 || w.numel() != input.numel() {
            bail!(
                Runtime,
                "weights should be 1-d and have the same length as input"
            );
        }
    }
    if input.is_cuda() {
        return bincount_on_device(input, weights, minlength as usize);
    }
    let vals = input.to_vec::<i64>();
    if vals.iter().any(|&v| v < 0) {
        bail!(
            Runtime,
            "bincount only supports 1-d non-negative integral inputs."
        );
    }
    let len = vals
        .iter()
        .max()
        .map_or(0, |&m| m as usize + 1)
        .max(minlength as usize);
    match weights {
        None => {
            let mut counts = vec![0i64; len];
            for &v in &vals {
                counts[v as usize] += 1;
            }
            Tensor::from_vec(counts, &[len])
        }
        Some(w) => {
            let ws = w.to_vec::<f64>();
            let mut sums = vec![0f64; len];
            for (&v, &x) in vals.iter().zip(&ws) {
                sums[v as usize] += x;
            }
            let out = Tensor::from_vec(sums, &[len])?;
            if w.dtype() == DType::F32 {
                out.to_dtype(DType::F32)
            } else {
                Ok(out)
            }
        }
    }
}

/// `torch.searchsorted(sorted_sequence, values, right=, out_int32=)`: for each value, the
/// insertion index in the matching row of the sorted sequence (1-D: one row for all values).
pub fn searchsorted(seq: &Tensor, values: &Tensor, right: bool, out_int32: bool) -> Result<Tensor> {
    crate::ops::check_same_device("searchsorted", &[seq, values])?;
    if seq.ndim() == 0 {
        bail!(Runtime, "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension");
    }
    if seq.ndim() > 1 {
        let (sl, vl) = (&seq.shape()[..seq.ndim() - 1], values.shape());
        if values.ndim() != seq.ndim() || sl != &vl[..vl.len() - 1] {
            bail!(
                Runtime,
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 \
                 dimensions of boundaries tensor and input value tensor must match, but we got \
                 boundaries tensor {:?} and input value tensor {:?}",
                seq.shape(),
                values.shape()
            );
        }
    }
    let dt = seq.dtype().promote(values.dtype());
    let s = seq.to_dtype(dt)?.contiguous()?;
    let v = values.to_dtype(dt)?.contiguous()?;
    let row = s.shape()[s.ndim() - 1];
    let per_row = if seq.ndim() == 1 {
        v.numel().max(1)
    } else {
        v.shape()[v.ndim() - 1].max(1)
    };
    if s.is_cuda() {
        let dt = if out_int32 { DType::I32 } else { DType::I64 };
        let out = Tensor::empty(values.shape(), dt, values.device())?;
        let rows_share_one = seq.ndim() == 1;
        crate::cuda::index::searchsorted(&out, &s, &v, row, per_row, rows_share_one, right)?;
        return Ok(out);
    }
    let mut pos = vec![0i64; v.numel()];
    dispatch_all!(dt, T => {
        // SAFETY: both contiguous with numel elements of T.
        let ss = unsafe { std::slice::from_raw_parts(s.data_ptr::<T>(), s.numel()) };
        let vs = unsafe { std::slice::from_raw_parts(v.data_ptr::<T>(), v.numel()) };
        for (i, (&x, p)) in vs.iter().zip(pos.iter_mut()).enumerate() {
            let r = if seq.ndim() == 1 { 0 } else { i / per_row };
            let b = &ss[r * row..(r + 1) * row];
            // torch's lower/upper bound tests, which also send NaN values to the end.
            *p = if right {
                b.partition_point(|e: &T| !e.gt(&x)) as i64
            } else {
                b.partition_point(|e: &T| !e.ge(&x)) as i64
            };
        }
    });
    let out = Tensor::from_vec(pos, values.shape())?;
    if out_int32 {
        out.to_dtype(DType::I32)
    } else {
        Ok(out)
    }
}

/// `torch.bucketize(input, boundaries, right=)`: searchsorted with 1-D boundaries.
pub fn bucketize(
    input: &Tensor,
    boundaries: &Tensor,
    right: bool,
    out_int32: bool,
) -> Result<Tensor> {
    if boundaries.ndim() != 1 {
        bail!(
            Runtime,
            "boundaries tensor must be 1 dimension, but got dim({})",
            boundaries.ndim()
        );
    }
    searchsorted(boundaries, input, right, out_int32)
}

/// `nn.functional.one_hot(t, num_classes=-1)`: int64 of shape `[*t.shape, num_classes]`.
pub fn one_hot(t: &Tensor, num_classes: i64) -> Result<Tensor> {
    if t.dtype() != DType::I64 {
        bail!(
            Runtime,
            "one_hot is only applicable to index tensor of type LongTensor."
        );
    }
    if t.is_cuda() {
        return one_hot_on_device(t, num_classes);
    }
    let vals = t.to_vec::<i64>();
    let classes = if num_classes == -1 {
        match vals.iter().max() {
            Some(&m) => m + 1,
            None => bail!(
                Runtime,
                "Can not infer total number of classes from empty tensor."
            ),
        }
    } else {
        num_classes
    };
    if classes < 0 {
        bail!(Runtime, "num_classes should be positive");
    }
    if vals.iter().any(|&v| v < 0) {
        bail!(Runtime, "Class values must be non-negative.");
    }
    if vals.iter().any(|&v| v >= classes) {
        bail!(Runtime, "Class values must be smaller than num_classes.");
    }
    let c = classes as usize;
    let mut shape = t.shape().to_vec();
    shape.push(c);
    let out = Tensor::zeros(&shape, DType::I64, t.device())?;
    let p = out.data_ptr::<i64>();
    for (i, &v) in vals.iter().enumerate() {
        // SAFETY: 0 <= v < c, so i * c + v < numel.
        unsafe { *p.add(i * c + v as usize) = 1 };
    }
    Ok(out)
}

/// `(min, max)` of a non-empty integer tensor on a GPU: one reduction, one small read. The
/// output sizes of `bincount`/`one_hot` depend on them, so torch waits here too.
fn value_range(t: &Tensor) -> Result<(i64, i64)> {
    let (lo, hi) = aminmax(t, None, false)?;
    Ok((lo.item()?.to_i64(), hi.item()?.to_i64()))
}

/// `bincount` of a CUDA input: the counts (or summed weights) accumulate atomically on the
/// device, as torch's CUDA kernel does; only the value range is read back.
fn bincount_on_device(
    input: &Tensor,
    weights: Option<&Tensor>,
    minlength: usize,
) -> Result<Tensor> {
    let dev = input.device();
    let mut len = minlength;
    if input.numel() > 0 {
        let (lo, hi) = value_range(input)?;
        if lo < 0 {
            bail!(
                Runtime,
                "bincount only supports 1-d non-negative integral inputs."
            );
        }
        len = len.max(hi as usize + 1);
    }
    let index = input.to_dtype(DType::I64)?;
    let (dt, source) = match weights {
        None => (
            DType::I64,
            Tensor::full(input.shape(), Scalar::Int(1), DType::I64, dev)?,
        ),
        Some(w) => {
            let dt = if w.dtype() == DType::F32 {
                DType::F32
            } else {
                DType::F64
            };
            (dt, w.to_dtype(dt)?)
        }
    };
    let out = Tensor::zeros(&[len], dt, dev)?;
    index_add_(&out, 0, &index, &source, Scalar::Int(1))?;
    Ok(out)
}

/// `one_hot` of a CUDA tensor: the range checks read the extremes back, then one scatter of
/// ones writes the result on the device.
fn one_hot_on_device(t: &Tensor, num_classes: i64) -> Result<Tensor> {
    let range = if t.numel() > 0 {
        Some(value_range(t)?)
    } else {
        None
    };
    let classes = match (num_classes, range) {
        (-1, Some((_, hi))) => hi + 1,
        (-1, None) => bail!(
            Runtime,
            "Can not infer total number of classes from empty tensor."
        ),
        (n, _) => n,
    };
    if classes < 0 {
        bail!(Runtime, "num_classes should be positive");
    }
    if let Some((lo, hi)) = range {
        if lo < 0 {
            bail!(Runtime, "Class values must be non-negative.");
        }
        if hi >= classes {
            bail!(Runtime, "Class values must be smaller than num_classes.");
        }
    }
    let mut shape = t.shape().to_vec();
    shape.push(classes as usize);
    let out = Tensor::zeros(&shape, DType::I64, t.device())?;
    let one = Tensor::scalar(Scalar::Int(1), DType::I64)?;
    let index = crate::ops::shape::unsqueeze(t, -1)?;
    scatter_(&out, -1, &index, &one, Reduce::Assign, true)?;
    Ok(out)
}
