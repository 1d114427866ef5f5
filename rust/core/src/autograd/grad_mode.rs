//! Grad mode: whether ops record the graph. Thread-local, as in torch: a `no_grad` block on one
//! thread does not change what another thread records.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static INFERENCE: Cell<bool> = const { Cell::new(false) };
    static ANOMALY: Cell<bool> = const { Cell::new(false) };
}

pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

pub fn set_grad_enabled(on: bool) {
    GRAD_ENABLED.with(|g| g.set(on));
}

pub fn is_inference_mode_enabled() -> bool {
    INFERENCE.with(|g| g.get())
}

pub fn set_inference_mode(on: bool) {
    INFERENCE.with(|g| g.set(on));
}

pub fn is_anomaly_enabled() -> bool {
    ANOMALY.with(|g| g.get())
}

pub fn set_anomaly_enabled(on: bool) {
    ANOMALY.with(|g| g.set(on));
}

/// Sets grad mode for a scope and restores the previous mode when dropped (also on error paths).
pub struct GradModeGuard {
    prev: bool,
}

impl GradModeGuard {
    pub fn new(enabled: bool) -> Self {
        let prev = is_grad_enabled();
        set_grad_enabled(enabled);
        GradModeGuard { prev }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.prev);
    }
}

/// `torch.no_grad()` for Rust code.
pub fn no_grad() -> GradModeGuard {
    GradModeGuard::new(false)
}
