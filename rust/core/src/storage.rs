//! Raw memory behind tensors. Views share one `Storage` through an `Arc`; the storage knows
//! nothing of shapes or dtypes beyond its byte size.

use crate::device::Device;
use crate::error::{Error, Result};
use std::any::Any;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// Alignment of memory ferrotorch allocates. 16 bytes is malloc's own alignment, so zeroed
/// allocations go through `calloc`, which gets large blocks as fresh zero pages from the kernel
/// instead of writing zeros over them (a larger alignment forces an explicit memset: a full
/// extra pass over every output). Kernels use unaligned vector loads, which cost nothing extra.
const ALIGN: usize = 16;

enum Owner {
    /// Allocated here with this layout; freed on drop.
    Allocated(std::alloc::Layout),
    /// Memory owned by someone else (a NumPy array); kept alive by this handle.
    Foreign(#[allow(dead_code)] Box<dyn Any + Send + Sync>),
    /// Page-locked memory from the CUDA driver (`pin_memory()`): the GPU's copy engines read
    /// it directly, so host-to-device copies from it can run asynchronously.
    Pinned,
    /// Zero bytes: nothing to free.
    Empty,
}

/// A block of host memory.
pub struct CpuBuffer {
    ptr: NonNull<u8>,
    nbytes: usize,
    owner: Owner,
}

// SAFETY: the buffer is plain memory; synchronising concurrent writes is the caller's
// responsibility exactly as with torch tensors shared between threads.
unsafe impl Send for CpuBuffer {}
unsafe impl Sync for CpuBuffer {}

impl CpuBuffer {
    /// Zero-initialised memory of `nbytes` bytes.
    pub fn zeroed(nbytes: usize) -> Result<CpuBuffer> {
        CpuBuffer::alloc(nbytes, true)
    }

    /// `nbytes` bytes left uninitialised, for an output that a kernel writes in full before
    /// anything reads it. `calloc` only gets fresh blocks cleared for free (as zero pages from
    /// the kernel); a block it reuses from the heap, which is what a training loop's same-sized
    /// outputs get after the first step, it clears with a memset on the calling thread: a pass
    /// as long as the op's own, while the other threads wait.
    pub fn uninit(nbytes: usize) -> Result<CpuBuffer> {
        CpuBuffer::alloc(nbytes, false)
    }

    fn alloc(nbytes: usize, zeroed: bool) -> Result<CpuBuffer> {
        if nbytes == 0 {
            return Ok(CpuBuffer {
                ptr: NonNull::<u64>::dangling().cast(),
                nbytes: 0,
                owner: Owner::Empty,
            });
        }
        let layout = std::alloc::Layout::from_size_align(nbytes, ALIGN)
            .map_err(|_| Error::runtime(format!("cannot allocate {nbytes} bytes")))?;
        // SAFETY: layout has non-zero size.
        let raw = unsafe {
            if zeroed {
                std::alloc::alloc_zeroed(layout)
            } else {
                std::alloc::alloc(layout)
            }
        };
        let ptr = NonNull::new(raw).ok_or_else(|| {
            Error::runtime(format!(
                "DefaultCPUAllocator: not enough memory: you tried to allocate {nbytes} bytes."
            ))
        })?;
        advise_huge_pages(raw, nbytes);
        Ok(CpuBuffer {
            ptr,
            nbytes,
            owner: Owner::Allocated(layout),
        })
    }

    /// Wraps memory owned elsewhere. `owner` must keep `ptr..ptr+nbytes` valid while it lives.
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `nbytes` bytes for as long as `owner` lives,
    /// and suitably aligned for the dtype it will be read as.
    pub unsafe fn foreign(
        ptr: *mut u8,
        nbytes: usize,
        owner: Box<dyn Any + Send + Sync>,
    ) -> CpuBuffer {
        let ptr = NonNull::new(ptr).unwrap_or(NonNull::<u64>::dangling().cast());
        CpuBuffer {
            ptr,
            nbytes,
            owner: Owner::Foreign(owner),
        }
    }

    /// `nbytes` of page-locked host memory (needs a working CUDA driver).
    pub fn pinned(nbytes: usize) -> Result<CpuBuffer> {
        if nbytes == 0 {
            return CpuBuffer::zeroed(0);
        }
        let raw = crate::cuda::alloc_pinned(nbytes)?;
        let ptr =
            NonNull::new(raw).ok_or_else(|| Error::runtime("cuMemHostAlloc returned null"))?;
        Ok(CpuBuffer {
            ptr,
            nbytes,
            owner: Owner::Pinned,
        })
    }

    pub fn is_pinned(&self) -> bool {
        matches!(self.owner, Owner::Pinned)
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn nbytes(&self) -> usize {
        self.nbytes
    }
}

/// Blocks at least this large ask the kernel for transparent huge pages, as NumPy does.
const HUGE_PAGE_THRESHOLD: usize = 1 << 22;

/// Large fresh blocks come from `mmap` and fault in page by page on first write; with 4 KiB
/// pages that is one fault per 4 KiB of every new output, which costs more than the arithmetic
/// of an elementwise op. The hint lets the kernel back the block with 2 MiB pages where the
/// system allows (`transparent_hugepage=madvise`, the common default). Advisory only: a refusal
/// changes nothing.
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, nbytes: usize) {
    if nbytes < HUGE_PAGE_THRESHOLD {
        return;
    }
    const PAGE: usize = 4096;
    let start = ptr as usize & !(PAGE - 1);
    let len = nbytes + (ptr as usize - start);
    // SAFETY: the range lies within pages of this live allocation; madvise only sets a hint.
    unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *mut u8, _nbytes: usize) {}

impl Drop for CpuBuffer {
    fn drop(&mut self) {
        match self.owner {
            // SAFETY: allocated in `alloc` with exactly this layout.
            Owner::Allocated(layout) => unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) },
            Owner::Pinned => crate::cuda::free_pinned(self.ptr.as_ptr()),
            Owner::Foreign(_) | Owner::Empty => {}
        }
    }
}

/// Device memory plus the version counter that in-place writes bump (shared by all views).
pub struct Storage {
    data: StorageData,
    version: AtomicU64,
}

pub enum StorageData {
    Cpu(CpuBuffer),
    Cuda(crate::cuda::CudaBuffer),
}

impl Storage {
    pub fn cpu(buffer: CpuBuffer) -> Storage {
        Storage::new(StorageData::Cpu(buffer))
    }

    pub fn cuda(buffer: crate::cuda::CudaBuffer) -> Storage {
        Storage::new(StorageData::Cuda(buffer))
    }

    fn new(data: StorageData) -> Storage {
        Storage {
            data,
            version: AtomicU64::new(0),
        }
    }

    pub fn zeroed(nbytes: usize, device: Device) -> Result<Storage> {
        match device {
            Device::Cpu => Ok(Storage::cpu(CpuBuffer::zeroed(nbytes)?)),
            Device::Cuda(i) => Ok(Storage::cuda(crate::cuda::CudaBuffer::zeroed(
                crate::cuda::device(i)?,
                nbytes,
            )?)),
        }
    }

    /// Memory whose contents the caller overwrites (zeroed on the CPU, where that is free).
    pub fn uninit(nbytes: usize, device: Device) -> Result<Storage> {
        match device {
            Device::Cpu => Storage::zeroed(nbytes, device),
            Device::Cuda(i) => Ok(Storage::cuda(crate::cuda::CudaBuffer::alloc(
                crate::cuda::device(i)?,
                nbytes,
            )?)),
        }
    }

    pub fn device(&self) -> Device {
        match &self.data {
            StorageData::Cpu(_) => Device::Cpu,
            StorageData::Cuda(b) => Device::Cuda(b.device().ordinal),
        }
    }

    pub fn nbytes(&self) -> usize {
        match &self.data {
            StorageData::Cpu(b) => b.nbytes(),
            StorageData::Cuda(b) => b.nbytes(),
        }
    }

    /// Host pointer to the first byte. Only CPU kernels call this, and ops send CUDA tensors
    /// to CUDA kernels (or refuse them) before any CPU kernel runs: reaching it with device
    /// memory is a bug in ferrotorch, never the user's.
    pub fn cpu_ptr(&self) -> *mut u8 {
        match &self.data {
            StorageData::Cpu(b) => b.as_ptr(),
            StorageData::Cuda(_) => panic!("internal error: a CPU kernel was given CUDA memory"),
        }
    }

    /// True for page-locked host memory (`Tensor.is_pinned()`).
    pub fn is_pinned(&self) -> bool {
        matches!(&self.data, StorageData::Cpu(b) if b.is_pinned())
    }

    /// Device address of the first byte (CUDA storages; 0 on the CPU).
    pub fn cuda_ptr(&self) -> u64 {
        match &self.data {
            StorageData::Cpu(_) => 0,
            StorageData::Cuda(b) => b.ptr(),
        }
    }

    /// Address of the first byte as `Tensor.data_ptr()` reports it, on either device.
    pub fn address(&self) -> usize {
        match &self.data {
            StorageData::Cpu(b) => b.as_ptr() as usize,
            StorageData::Cuda(b) => b.ptr() as usize,
        }
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}
