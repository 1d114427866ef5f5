//! Discovering the GPUs and the one context, stream and memory pool ferrotorch keeps per device.
//!
//! cudarc opens the CUDA libraries on first use and panics when one is missing, so every first
//! touch of a library runs under [`guarded`], which turns that panic into an [`Error`] naming the
//! library and the file names tried.

use crate::error::{Error, Result};
use cudarc::driver::{sys, CudaContext, CudaStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

/// Runs `f`, turning a panic (cudarc's way of reporting a library it could not open) into an
/// error. The default panic hook would print the panic to stderr; it is silenced meanwhile.
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    static HOOK: Mutex<()> = Mutex::new(());
    let _serial = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    panic_to_error(what, r)
}

/// [`guarded`] without silencing the panic hook (which needs a process-wide lock): for calls
/// into a library that is already open, which only panic on a missing symbol, and which run on
/// several threads at once (kernel compilation).
pub(crate) fn caught<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    panic_to_error(what, catch_unwind(AssertUnwindSafe(f)))
}

fn panic_to_error<T>(what: &str, r: std::thread::Result<Result<T>>) -> Result<T> {
    match r {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown failure".into());
            Err(Error::runtime(format!("{what}: {msg}")))
        }
    }
}

/// Error of a CUDA driver call, naming what was being done.
pub(crate) fn driver_err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> Error + '_ {
    move |e| Error::runtime(format!("CUDA error: {what}: {e}"))
}

/// Number of GPUs, or why there are none (no driver, driver call failed).
fn probe() -> &'static std::result::Result<usize, String> {
    static PROBE: OnceLock<std::result::Result<usize, String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        guarded("loading the CUDA driver (libcuda.so)", || {
            cudarc::driver::result::init().map_err(driver_err("cuInit"))?;
            let n = CudaContext::device_count().map_err(driver_err("cuDeviceGetCount"))?;
            Ok(n.max(0) as usize)
        })
        .map_err(|e| e.to_string())
    })
}

/// True if the CUDA driver loads and reports at least one GPU.
pub fn is_available() -> bool {
    matches!(probe(), Ok(n) if *n > 0)
}

/// Number of GPUs (0 without a usable driver).
/// Library state kept per device (a cuBLAS handle, a cuDNN handle ...): opened on a device's
/// first use, or the reason it could not be, kept so a missing library fails the same way on
/// every call without being retried.
pub(crate) struct PerDevice<T>(OnceLock<Vec<OnceLock<std::result::Result<T, String>>>>);

impl<T: Send + Sync> PerDevice<T> {
    pub(crate) const fn new() -> Self {
        PerDevice(OnceLock::new())
    }

    /// `dev`'s state, opened by `open` on first use.
    pub(crate) fn get(
        &'static self,
        dev: &CudaDevice,
        open: impl FnOnce() -> Result<T>,
    ) -> Result<&'static T> {
        let slots = self.0.get_or_init(|| {
            (0..device_count().max(dev.ordinal + 1))
                .map(|_| OnceLock::new())
                .collect()
        });
        slots[dev.ordinal]
            .get_or_init(|| open().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|why| Error::runtime(why.clone()))
    }
}

pub fn device_count() -> usize {
    probe().as_ref().map_or(0, |n| *n)
}

/// One GPU as ferrotorch uses it: its primary context, the stream every op runs on (the legacy
/// default stream, as torch's default), compiled kernels, and memory statistics.
pub struct CudaDevice {
    pub ordinal: usize,
    pub ctx: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    /// `(major, minor)` compute capability: kernels are compiled for exactly this.
    pub capability: (i32, i32),
    /// Streaming multiprocessors, for sizing grids (read once: launches are hot).
    pub multiprocessors: u32,
    pub(crate) pool: sys::CUmemoryPool,
    pub(crate) kernels: Mutex<super::compile::KernelCache>,
    pub(crate) stats: super::memory::MemoryStats,
    /// Index and target checks to read at the next synchronisation (`pending.rs`).
    pub(crate) pending: Mutex<Vec<super::pending::PendingCheck>>,
}

// SAFETY: the memory pool handle is a driver object usable from any thread.
unsafe impl Send for CudaDevice {}
unsafe impl Sync for CudaDevice {}

impl CudaDevice {
    fn open(ordinal: usize) -> Result<CudaDevice> {
        let ctx = CudaContext::new(ordinal).map_err(driver_err("creating the context"))?;
        let capability = ctx
            .compute_capability()
            .map_err(driver_err("cuDeviceGetAttribute"))?;
        // No stream-ordered pool means a very old driver or GPU; torch's caching allocator
        // would still run there, ferrotorch asks for a device that has one.
        if !ctx.has_async_alloc() {
            return Err(Error::runtime(format!(
                "CUDA device {ordinal} has no stream-ordered memory pool (needs CUDA 11.2+)"
            )));
        }
        let pool = super::memory::configure_pool(&ctx)?;
        let multiprocessors = ctx
            .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .map_err(driver_err("cuDeviceGetAttribute"))?
            .max(1) as u32;
        Ok(CudaDevice {
            ordinal,
            multiprocessors,
            stream: ctx.default_stream(),
            ctx,
            capability,
            pool,
            kernels: Default::default(),
            stats: Default::default(),
            pending: Default::default(),
        })
    }

    /// Makes this device's context current on the calling thread (needed before raw driver
    /// calls; cudarc's own entry points do it themselves).
    pub fn bind(&self) -> Result<()> {
        self.ctx
            .bind_to_thread()
            .map_err(driver_err("cuCtxSetCurrent"))
    }

    /// Waits for all work queued on this device, then reports a bad index or target found
    /// meanwhile (the first pending check's error, see `pending.rs`).
    pub fn synchronize(&self) -> Result<()> {
        self.wait()?;
        self.check_pending()
    }

    /// Waits for all work queued on this device, leaving the pending checks for the next
    /// [`synchronize`](Self::synchronize) (for waits that cannot report them, as in drop).
    pub(crate) fn wait(&self) -> Result<()> {
        self.stream.synchronize().map_err(driver_err("synchronize"))
    }

    /// True when all work queued on this device has finished (without waiting).
    pub(crate) fn is_idle(&self) -> Result<bool> {
        self.bind()?;
        // SAFETY: querying the device's stream, with its context current.
        match unsafe { sys::cuStreamQuery(self.stream.cu_stream()) } {
            sys::CUresult::CUDA_SUCCESS => Ok(true),
            sys::CUresult::CUDA_ERROR_NOT_READY => Ok(false),
            e => Err(driver_err("cuStreamQuery")(cudarc::driver::DriverError(e))),
        }
    }

    /// torch's device name, e.g. `NVIDIA H100 80GB HBM3`.
    pub fn name(&self) -> Result<String> {
        self.ctx.name().map_err(driver_err("cuDeviceGetName"))
    }

    pub fn total_memory(&self) -> Result<usize> {
        self.ctx.total_mem().map_err(driver_err("cuDeviceTotalMem"))
    }
}

/// The device with this ordinal, opened on first use.
pub fn device(ordinal: usize) -> Result<&'static CudaDevice> {
    static DEVICES: OnceLock<Vec<OnceLock<std::result::Result<CudaDevice, String>>>> =
        OnceLock::new();
    let n = match probe() {
        Ok(n) => *n,
        Err(why) => {
            return Err(Error::runtime(format!(
                "CUDA is not available: {why} (ferrotorch.cuda.is_available() is False)"
            )))
        }
    };
    if ordinal >= n {
        return Err(Error::runtime(format!(
            "CUDA error: invalid device ordinal: device {ordinal} requested, but {n} CUDA \
             device(s) are present"
        )));
    }
    let slots = DEVICES.get_or_init(|| (0..n).map(|_| OnceLock::new()).collect());
    slots[ordinal]
        .get_or_init(|| {
            guarded("opening the CUDA device", || CudaDevice::open(ordinal))
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|why| Error::runtime(why.clone()))
}

/// The device most recently selected with [`set_current`] on this thread (torch's
/// `cuda.current_device()`); 0 by default.
pub fn current() -> usize {
    CURRENT.with(|c| c.get())
}

pub fn set_current(ordinal: usize) -> Result<()> {
    device(ordinal)?;
    CURRENT.with(|c| c.set(ordinal));
    Ok(())
}

thread_local! {
    static CURRENT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
