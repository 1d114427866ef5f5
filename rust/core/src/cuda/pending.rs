//! Deferred checks of index and target values on CUDA.
//!
//! Kernels that take indices (gathers, scatters, embedding rows) or class targets (nll_loss,
//! cross entropy) find bad values on the device and record them in a small flag instead of
//! touching memory out of range. Reading that flag right after the launch would synchronise the
//! stream at each such op, leaving the GPU idle while the host queues the next work. Instead the
//! flag is kept here with the report that turns its values into the op's error, and read at the
//! device's next synchronisation (`CudaDevice::synchronize`, which every transfer to or from the
//! host and `cuda.synchronize()` go through): the error surfaces there, as torch's device-side
//! assert does, but as the op's own exception, and the device stays usable. Every [`LIMIT`]
//! checks are read at once, so the list stays small in a loop that never synchronises.

use super::device::{driver_err, CudaDevice};
use super::{device_of, ptr};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use cudarc::driver::result;

/// Checks held before they are read together (one synchronisation per this many checked ops).
const LIMIT: usize = 64;

/// What a flag's values mean: the op's error, or `None` when nothing was out of range.
type Report = Box<dyn FnOnce(&[i64]) -> Option<Error> + Send>;

/// One op's check: its flag (a few int32 or int64 on the device, kept alive until read) and
/// its report.
pub(crate) struct PendingCheck {
    flag: Tensor,
    report: Report,
}

impl CudaDevice {
    /// Leaves the verdict of a launched kernel's `flag` (int32 or int64, at most 4 values) to
    /// the next synchronisation, where `report` turns its values into the op's error. When
    /// [`LIMIT`] checks are held, reads them all now and returns the first error.
    pub(crate) fn defer_check(
        &self,
        flag: Tensor,
        report: impl FnOnce(&[i64]) -> Option<Error> + Send + 'static,
    ) -> Result<()> {
        if !matches!(flag.dtype(), DType::I32 | DType::I64)
            || flag.numel() > 4
            || !flag.is_contiguous()
        {
            return Err(Error::runtime(
                "internal error: a deferred check's flag is up to 4 contiguous int32 or int64",
            ));
        }
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.push(PendingCheck {
                flag,
                report: Box::new(report),
            });
            pending.len() >= LIMIT
        };
        if full {
            self.check_pending()
        } else {
            Ok(())
        }
    }

    /// Reads every held check (waiting for the device's queued work) and returns the error of
    /// the first one that found a bad value. The checks are dropped either way, so a bad op
    /// raises once.
    pub fn check_pending(&self) -> Result<()> {
        // Taken out of the lock: nothing below runs while it is held.
        let checks = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if checks.is_empty() {
            return Ok(());
        }
        // Raw copies, not `to_device`: a transfer synchronises, which would come back here.
        let mut bytes: Vec<Vec<u8>> = checks
            .iter()
            .map(|c| vec![0u8; c.flag.numel() * c.flag.dtype().size()])
            .collect();
        let stream = self.stream.cu_stream();
        self.bind()?;
        let copied = checks.iter().zip(bytes.iter_mut()).try_for_each(|(c, b)| {
            // SAFETY: the flag is a live contiguous device tensor of `b.len()` bytes; `b` is
            // host memory of that size, which outlives the wait below.
            unsafe { result::memcpy_dtoh_async(b.as_mut_slice(), ptr(&c.flag), stream) }.map_err(
                driver_err("reading a deferred index check (cuMemcpyDtoHAsync)"),
            )
        });
        // Waited for even after a failed copy: the ones queued before it write `bytes`.
        let waited = self.wait();
        copied?;
        waited?;
        for (check, b) in checks.into_iter().zip(bytes) {
            let values = flag_values(check.flag.dtype(), &b);
            if let Some(e) = (check.report)(&values) {
                return Err(e);
            }
        }
        Ok(())
    }
}

fn flag_values(d: DType, bytes: &[u8]) -> Vec<i64> {
    match d {
        DType::I32 => bytes
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]) as i64)
            .collect(),
        _ => bytes
            .chunks_exact(8)
            .map(|c| i64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
    }
}

/// Element `index` of the contiguous int64 device tensor `t`, read without going through a
/// synchronisation's checks (for reports that name a value the flag points at).
pub(crate) fn read_i64(t: &Tensor, index: usize) -> Result<i64> {
    if t.dtype() != DType::I64 || !t.is_contiguous() || index >= t.numel() {
        return Err(Error::runtime(format!(
            "internal error: reading element {index} of a {:?} tensor of {} elements as int64",
            t.dtype(),
            t.numel()
        )));
    }
    let dev = device_of(t)?;
    let mut value = [0i64; 1];
    dev.bind()?;
    // SAFETY: a live contiguous int64 device tensor with more than `index` elements, so its
    // element `index` lies 8 * index bytes past its first; `value` is read after the wait.
    unsafe {
        result::memcpy_dtoh_async(
            &mut value,
            ptr(t) + (index * std::mem::size_of::<i64>()) as u64,
            dev.stream.cu_stream(),
        )
    }
    .map_err(driver_err("reading an index value (cuMemcpyDtoHAsync)"))?;
    dev.wait()?;
    Ok(value[0])
}
