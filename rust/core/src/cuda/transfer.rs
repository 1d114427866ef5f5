//! Moving tensors between host and device memory.
//!
//! Copies go through contiguous buffers on both sides: a strided tensor is made contiguous on
//! its own device first (on the GPU by a kernel), so the bus only carries the elements.

use super::device::driver_err;
use super::{device, device_of, ptr, CudaBuffer};
use crate::device::Device;
use crate::error::Result;
use crate::storage::Storage;
use crate::tensor::Tensor;
use cudarc::driver::result;
use std::sync::Arc;

/// The same values on `target` (a new contiguous tensor; `t` itself if already there).
pub fn to_device(t: &Tensor, target: Device) -> Result<Tensor> {
    to_device_async(t, target, false)
}

/// [`to_device`]; with `non_blocking`, a copy from pinned host memory returns before it is done
/// (later work on the device is ordered after it; the host must not write the source meanwhile,
/// as in torch).
pub fn to_device_async(t: &Tensor, target: Device, non_blocking: bool) -> Result<Tensor> {
    if t.device() == target {
        return Ok(t.clone());
    }
    match (t.device(), target) {
        (Device::Cpu, Device::Cuda(i)) => host_to_device(t, i, non_blocking),
        (Device::Cuda(_), Device::Cpu) => device_to_host(t),
        // Between GPUs: through the host, which needs no peer access.
        (Device::Cuda(_), Device::Cuda(i)) => host_to_device(&device_to_host(t)?, i, false),
        (Device::Cpu, Device::Cpu) => Ok(t.clone()),
    }
}

fn host_to_device(t: &Tensor, ordinal: usize, non_blocking: bool) -> Result<Tensor> {
    let dev = device(ordinal)?;
    let src = t.contiguous()?;
    // From pageable memory the driver stages the source before the call returns (CUDA's
    // documented synchronisation behaviour, as `upload_table` relies on), so nothing waits for
    // the device. The copy engine reads pinned memory in place: it is waited for unless the
    // caller asked for `non_blocking`.
    let pinned = src.storage().is_pinned();
    let nbytes = src.numel() * src.dtype().size();
    let buf = CudaBuffer::alloc(dev, nbytes)?;
    if nbytes > 0 {
        // SAFETY: src is contiguous host memory of nbytes bytes. It is read before the call
        // returns (pageable), or stays alive until the copy is done: the stream is
        // synchronised here, or it is pinned memory, whose free waits for the device
        // (cuda::free_pinned).
        let host = unsafe { std::slice::from_raw_parts(src.data_ptr_raw() as *const u8, nbytes) };
        dev.bind()?;
        unsafe { result::memcpy_htod_async(buf.ptr(), host, dev.stream.cu_stream()) }
            .map_err(driver_err("copying to the GPU (cuMemcpyHtoDAsync)"))?;
        if pinned && !non_blocking {
            dev.synchronize()?;
        }
    }
    Tensor::from_parts(
        Arc::new(Storage::cuda(buf)),
        crate::layout::Layout::contiguous(t.shape()),
        t.dtype(),
    )
}

fn device_to_host(t: &Tensor) -> Result<Tensor> {
    let dev = device_of(t)?;
    let src = t.contiguous()?;
    let out = Tensor::empty(t.shape(), t.dtype(), Device::Cpu)?;
    let nbytes = src.numel() * src.dtype().size();
    if nbytes > 0 {
        // SAFETY: out is fresh contiguous host memory of nbytes bytes; the stream is
        // synchronised before it is read.
        let host = unsafe { std::slice::from_raw_parts_mut(out.data_ptr_raw(), nbytes) };
        dev.bind()?;
        unsafe { result::memcpy_dtoh_async(host, ptr(&src), dev.stream.cu_stream()) }
            .map_err(driver_err("copying from the GPU (cuMemcpyDtoHAsync)"))?;
        dev.synchronize()?;
    }
    Ok(out)
}

/// A copy of `t` in page-locked host memory (`Tensor.pin_memory()`).
pub fn pin_memory(t: &Tensor) -> Result<Tensor> {
    if t.device() != Device::Cpu {
        return Err(crate::Error::runtime(format!(
            "cannot pin 'torch.cuda.{}Tensor' only dense CPU tensors can be pinned",
            crate::dtype::scalar_type_name(t.dtype())
        )));
    }
    let nbytes = t.numel() * t.dtype().size();
    let storage = Storage::cpu(crate::storage::CpuBuffer::pinned(nbytes)?);
    let out = Tensor::from_parts(
        Arc::new(storage),
        crate::layout::Layout::contiguous(t.shape()),
        t.dtype(),
    )?;
    out.copy_(t)?;
    Ok(out)
}

/// A small table of words (kernel arguments too large to pass by value) in device memory,
/// without waiting for the device: from pageable memory, `cuMemcpyHtoDAsync` returns once the
/// driver has staged the source, so `words` may be dropped right away (CUDA's documented API
/// synchronisation behaviour) and the copy is ordered before later work on the stream.
pub fn upload_table(dev: &'static super::CudaDevice, words: &[i64]) -> Result<CudaBuffer> {
    let nbytes = std::mem::size_of_val(words);
    let buf = CudaBuffer::alloc(dev, nbytes)?;
    if nbytes > 0 {
        // SAFETY: reinterpreting i64 words as their bytes.
        let host = unsafe { std::slice::from_raw_parts(words.as_ptr() as *const u8, nbytes) };
        dev.bind()?;
        unsafe { result::memcpy_htod_async(buf.ptr(), host, dev.stream.cu_stream()) }.map_err(
            driver_err("copying a kernel table to the GPU (cuMemcpyHtoDAsync)"),
        )?;
    }
    Ok(buf)
}
