//! Device memory: CUDA's stream-ordered pool as the caching allocator.
//!
//! Every allocation and free is queued on the device's one stream (`cuMemAllocAsync` /
//! `cuMemFreeAsync`), so a block freed while a kernel still reads it is only reused by work
//! queued after that kernel. The pool's release threshold is set to "never", so freed blocks
//! stay cached in the pool as with torch's caching allocator; `empty_cache` trims it.
//! Statistics follow torch: `allocated` counts live tensors' blocks rounded up to 512 bytes,
//! `reserved` is what the pool holds from the driver.

use super::device::{driver_err, CudaDevice};
use crate::error::{Error, Result};
use cudarc::driver::{result, sys, CudaContext};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// torch's smallest block: sizes are counted in multiples of this.
const BLOCK: usize = 512;

#[derive(Default)]
pub(crate) struct MemoryStats {
    allocated: AtomicUsize,
    peak: AtomicUsize,
}

/// Keeps freed memory in the device's default pool instead of returning it at each sync.
pub(super) fn configure_pool(ctx: &Arc<CudaContext>) -> Result<sys::CUmemoryPool> {
    // SAFETY: the device handle comes from a live context; the attribute takes a u64.
    unsafe {
        let pool = result::device::get_default_mem_pool(ctx.cu_device())
            .map_err(driver_err("cuDeviceGetDefaultMemPool"))?;
        let mut keep_all: u64 = u64::MAX;
        result::mem_pool::set_attribute(
            pool,
            sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            &mut keep_all as *mut u64 as *mut _,
        )
        .map_err(driver_err("cuMemPoolSetAttribute"))?;
        Ok(pool)
    }
}

/// A block of device memory, freed (back into the pool) on drop.
pub struct CudaBuffer {
    ptr: sys::CUdeviceptr,
    nbytes: usize,
    device: &'static CudaDevice,
}

impl CudaBuffer {
    /// Uninitialised memory of `nbytes` bytes on `device`.
    pub fn alloc(device: &'static CudaDevice, nbytes: usize) -> Result<CudaBuffer> {
        if nbytes == 0 {
            return Ok(CudaBuffer {
                ptr: 0,
                nbytes,
                device,
            });
        }
        device.bind()?;
        // SAFETY: the stream belongs to this device's context, current on this thread.
        let ptr = unsafe { result::malloc_async(device.stream.cu_stream(), nbytes) }
            .map_err(|e| out_of_memory(device, nbytes, e))?;
        device.stats.add(nbytes);
        Ok(CudaBuffer {
            ptr,
            nbytes,
            device,
        })
    }

    /// Zero-filled memory of `nbytes` bytes.
    pub fn zeroed(device: &'static CudaDevice, nbytes: usize) -> Result<CudaBuffer> {
        let b = CudaBuffer::alloc(device, nbytes)?;
        if nbytes > 0 {
            // SAFETY: the block was just allocated on this stream with this size.
            unsafe { result::memset_d8_async(b.ptr, 0, nbytes, device.stream.cu_stream()) }
                .map_err(driver_err("cuMemsetD8Async"))?;
        }
        Ok(b)
    }

    pub fn ptr(&self) -> sys::CUdeviceptr {
        self.ptr
    }
    pub fn nbytes(&self) -> usize {
        self.nbytes
    }
    pub fn device(&self) -> &'static CudaDevice {
        self.device
    }
}

impl Drop for CudaBuffer {
    fn drop(&mut self) {
        if self.nbytes == 0 {
            return;
        }
        // A failing free leaves the block in the pool; nothing useful can be done in drop.
        let _ = self.device.bind();
        // SAFETY: allocated by `alloc` on this stream, freed once.
        let _ = unsafe { result::free_async(self.ptr, self.device.stream.cu_stream()) };
        self.device.stats.sub(self.nbytes);
    }
}

fn rounded(nbytes: usize) -> usize {
    nbytes.div_ceil(BLOCK) * BLOCK
}

impl MemoryStats {
    fn add(&self, nbytes: usize) {
        let now = self.allocated.fetch_add(rounded(nbytes), Ordering::Relaxed) + rounded(nbytes);
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
    fn sub(&self, nbytes: usize) {
        self.allocated.fetch_sub(rounded(nbytes), Ordering::Relaxed);
    }
}

/// torch's `OutOfMemoryError` text, with the sizes involved. The failed allocation leaves the
/// pool as it was, so the caller can free tensors and try again.
fn out_of_memory(device: &CudaDevice, nbytes: usize, e: cudarc::driver::DriverError) -> Error {
    if e.0 != sys::cudaError_enum::CUDA_ERROR_OUT_OF_MEMORY {
        return driver_err("cuMemAllocAsync")(e);
    }
    let gib = |b: usize| b as f64 / (1u64 << 30) as f64;
    let (free, total) = device.ctx.mem_get_info().unwrap_or((0, 0));
    Error::new(
        crate::error::ErrorKind::OutOfMemory,
        format!(
        "CUDA out of memory. Tried to allocate {:.2} GiB. GPU {} has a total capacity of {:.2} \
         GiB of which {:.2} GiB is free. Of the allocated memory {:.2} GiB is allocated by \
         ferrotorch, and {:.2} GiB is reserved by ferrotorch but unallocated.",
        gib(nbytes),
        device.ordinal,
        gib(total),
        gib(free),
        gib(memory_allocated(device)),
        gib(memory_reserved(device).saturating_sub(memory_allocated(device))),
    ),
    )
}

/// Bytes held by live tensors (torch's `cuda.memory_allocated`).
pub fn memory_allocated(device: &CudaDevice) -> usize {
    device.stats.allocated.load(Ordering::Relaxed)
}

/// Highest [`memory_allocated`] since the start or the last reset.
pub fn max_memory_allocated(device: &CudaDevice) -> usize {
    device.stats.peak.load(Ordering::Relaxed)
}

pub fn reset_peak_memory_stats(device: &CudaDevice) {
    device
        .stats
        .peak
        .store(memory_allocated(device), Ordering::Relaxed);
}

fn pool_attribute(device: &CudaDevice, attr: sys::CUmemPool_attribute) -> usize {
    let mut v: u64 = 0;
    // SAFETY: reserved-memory attributes are u64 counters of a live pool.
    let _ =
        unsafe { result::mem_pool::get_attribute(device.pool, attr, &mut v as *mut u64 as *mut _) };
    v as usize
}

/// Bytes the pool holds from the driver, in use or cached (torch's `memory_reserved`).
pub fn memory_reserved(device: &CudaDevice) -> usize {
    pool_attribute(
        device,
        sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT,
    )
}

/// Returns cached, unused blocks to the driver; then reports a bad index or target found
/// meanwhile, as any synchronisation does (`pending.rs`).
pub fn empty_cache(device: &CudaDevice) -> Result<()> {
    device.wait()?;
    // SAFETY: a live pool; trimming only releases unused memory.
    unsafe { result::mem_pool::trim_to(device.pool, 0) }.map_err(driver_err("cuMemPoolTrimTo"))?;
    device.check_pending()
}

/// Page-locked host memory of `nbytes` bytes (through the first device's context).
pub fn alloc_pinned(nbytes: usize) -> Result<*mut u8> {
    let dev = super::device(0)?;
    dev.bind()?;
    // SAFETY: a plain allocation; freed by `free_pinned`.
    unsafe { result::malloc_host(nbytes, 0) }
        .map(|p| p as *mut u8)
        .map_err(driver_err("cuMemHostAlloc"))
}

/// Frees memory from [`alloc_pinned`], after the device finished any copy reading it.
pub fn free_pinned(ptr: *mut u8) {
    if let Ok(dev) = super::device(0) {
        let _ = dev.bind();
        // A non-blocking copy may still read the block: let queued work finish first (without
        // reading the pending index checks, whose error drop could not report).
        let _ = dev.wait();
        // SAFETY: allocated by alloc_pinned, freed once.
        let _ = unsafe { result::free_host(ptr as *mut std::ffi::c_void) };
    }
}
