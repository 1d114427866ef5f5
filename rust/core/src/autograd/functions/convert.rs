//! dtype conversions and copies (`to`, `float()` ..., `clone`, `contiguous`), and their rules.

use crate::autograd::node::BackwardArgs;
use crate::autograd::record::record1;
use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::convert::{self as raw, MemoryFormat};
use crate::tensor::Tensor;

/// Records `out = x.to(dtype)` as `ToCopyBackward0` (the gradient goes back to `x`'s dtype).
/// Integer and bool results carry no gradient, as in torch.
fn record_to_copy(x: &Tensor, out: Tensor) -> Tensor {
    if !out.dtype().is_floating_point() {
        return out;
    }
    let from = x.dtype();
    record1(
        "ToCopyBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(to_dtype(&a.grad(0)?, from)?)]),
    )
}

/// `x.to(dtype)`: `x` itself when it already has that dtype (no node, as in torch). The copy
/// keeps `x`'s memory order (torch's `preserve_format`), so a transposed weight casts as a
/// plain pass over memory and stays transposed.
pub fn to_dtype(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    let out = raw::convert(x, dtype, MemoryFormat::Preserve)?;
    Ok(record_to_copy(x, out))
}

/// `x.to(device, non_blocking=...)`: `x` itself when already there, else a copy recorded as
/// `ToCopyBackward0` (the gradient goes back to `x`'s device).
pub fn to_device(x: &Tensor, device: Device, non_blocking: bool) -> Result<Tensor> {
    if x.device() == device {
        return Ok(x.clone());
    }
    let out = crate::cuda::transfer::to_device_async(x, device, non_blocking)?;
    if !out.dtype().is_floating_point() {
        return Ok(out);
    }
    let from = x.device();
    Ok(record1(
        "ToCopyBackward0",
        &[x],
        out,
        vec![],
        move |a: &BackwardArgs| Ok(vec![Some(to_device(&a.grad(0)?, from, false)?)]),
    ))
}

/// `x.to(dtype, copy=copy, memory_format=format)` (and `float()`, `double()` ...): `None`
/// when nothing changes (torch returns the very same tensor), else the converted copy,
/// recorded as `ToCopyBackward0`.
pub fn to(x: &Tensor, dtype: DType, copy: bool, format: MemoryFormat) -> Result<Option<Tensor>> {
    Ok(raw::to_dtype(x, dtype, copy, format)?.map(|out| record_to_copy(x, out)))
}

/// `x.clone()`: a copy with the same layout rules as torch's `clone()`.
pub fn clone(x: &Tensor, format: MemoryFormat) -> Result<Tensor> {
    let out = raw::clone(x, format)?;
    Ok(record1(
        "CloneBackward0",
        &[x],
        out,
        vec![],
        |a: &BackwardArgs| Ok(vec![Some(a.grad(0)?)]),
    ))
}

/// `x.contiguous()`: `x` itself when already contiguous, else a recorded clone.
pub fn contiguous(x: &Tensor) -> Result<Tensor> {
    if x.is_contiguous() {
        return Ok(x.clone());
    }
    clone(x, MemoryFormat::Contiguous)
}

/// Refuses to write into `t` when several of its elements share one memory location (an
/// expanded tensor), as torch does for every in-place op; the recorded path would otherwise
/// write through the broadcast view unnoticed.
pub fn check_writable(t: &Tensor) -> Result<()> {
    let l = t.layout();
    if l.shape
        .iter()
        .zip(&l.strides)
        .any(|(&n, &s)| n > 1 && s == 0)
    {
        crate::bail!(
            Runtime,
            "unsupported operation: more than one element of the written-to tensor refers to a \
             single memory location. Please clone() the tensor before performing the operation."
        );
    }
    Ok(())
}
