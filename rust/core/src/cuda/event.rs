//! Events on a device's stream: markers to wait for and to time work between.

use super::device::{device, driver_err, CudaDevice};
use crate::error::Result;
use cudarc::driver::{sys::CUevent_flags, CudaEvent};

/// `torch.cuda.Event`.
pub struct Event {
    event: CudaEvent,
    device: &'static CudaDevice,
}

impl Event {
    pub fn new(ordinal: usize, enable_timing: bool) -> Result<Event> {
        let device = device(ordinal)?;
        let flags = if enable_timing {
            CUevent_flags::CU_EVENT_DEFAULT
        } else {
            CUevent_flags::CU_EVENT_DISABLE_TIMING
        };
        let event = device
            .ctx
            .new_event(Some(flags))
            .map_err(driver_err("cuEventCreate"))?;
        Ok(Event { event, device })
    }

    /// Marks the current end of the device's queued work.
    pub fn record(&self) -> Result<()> {
        self.event
            .record(&self.device.stream)
            .map_err(driver_err("cuEventRecord"))
    }

    /// Waits for the work before the last `record`. Pending index and target checks
    /// (`pending.rs`) are reported here too when the device has nothing else queued, so reading
    /// them costs no extra wait; otherwise at the device's next synchronisation.
    pub fn synchronize(&self) -> Result<()> {
        self.event
            .synchronize()
            .map_err(driver_err("cuEventSynchronize"))?;
        if self.device.is_idle()? {
            self.device.check_pending()?;
        }
        Ok(())
    }

    /// True once the work before the last `record` has finished.
    pub fn query(&self) -> bool {
        self.event.is_complete()
    }

    /// Milliseconds between this event and `end` (both recorded with timing enabled).
    pub fn elapsed_ms(&self, end: &Event) -> Result<f32> {
        self.event
            .elapsed_ms(&end.event)
            .map_err(driver_err("cuEventElapsedTime"))
    }
}

// SAFETY: CUDA events are driver handles usable from any thread.
unsafe impl Send for Event {}
unsafe impl Sync for Event {}
