//! Counting and searching ops that produce indices: `bincount`, `searchsorted`, `bucketize`,
//! `one_hot`.

use crate::bail;
use crate::cuda::index::{any_cuda, host};
use crate::dispatch_all;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.bincount(input, weights, minlength)`: counts (int64) or summed weights (float32 for
/// float32 weights, float64 otherwise) of each non-negative integer in a 1-D input.
pub fn bincount(input: &Tensor, weights: Option<&Tensor>, minlength: i64) -> Result<Tensor> {
    if minlength < 0 {
        bail!(Runtime, "minlength should be >= 0");
    }
    let mut all = vec![input];
    all.extend(weights);
    if any_cuda(&all) {
        crate::ops::check_same_device("bincount", &all)?;
        let w = weights.map(host).transpose()?;
        return bincount(&host(input)?, w.as_ref(), minlength)?.to_device(input.device());
    }
    if input.ndim() != 1 || !input.dtype().is_integral(false) {
        bail!(
            Runtime,
            "bincount only supports 1-d non-negative integral inputs."
        );
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
            if w.ndim() != 1 || w.numel() != vals.len() {
                bail!(
                    Runtime,
                    "weights should be 1-d and have the same length as input"
                );
            }
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
    if seq.is_cuda() {
        return searchsorted(&host(seq)?, &host(values)?, right, out_int32)?
            .to_device(seq.device());
    }
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
        return one_hot(&host(t)?, num_classes)?.to_device(t.device());
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
