//! The thread pool CPU kernels run on, one per process.
//!
//! rayon's global pool does not survive `fork()`: a forked child (a DataLoader worker) that
//! enters it waits forever for threads that exist only in its parent. So kernels never use the
//! global pool; they run their parallel parts inside [`pool`], which notices a new process id
//! and builds a fresh pool there. [`set_num_threads`] (`torch.set_num_threads`) resizes it.

use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Threads asked for by `set_num_threads`; 0: rayon's default (`RAYON_NUM_THREADS` or the
/// number of cores).
static REQUESTED: AtomicUsize = AtomicUsize::new(0);

/// The pool and the process that built it.
static POOL: Mutex<Option<(u32, Arc<ThreadPool>)>> = Mutex::new(None);

/// This process's pool (built on first use, and again after a fork or a resize).
pub fn pool() -> Arc<ThreadPool> {
    let pid = std::process::id();
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, pool)) = slot.as_ref() {
        if *owner == pid {
            return pool.clone();
        }
    }
    let pool = Arc::new(build(REQUESTED.load(Ordering::Relaxed)));
    if let Some((owner, inherited)) = slot.replace((pid, pool.clone())) {
        if owner != pid {
            // The parent's pool, copied by fork without its threads: dropping it would wait
            // for them forever.
            std::mem::forget(inherited);
        }
    }
    pool
}

fn build(threads: usize) -> ThreadPool {
    let builder = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ferrotorch-cpu-{i}"));
    builder.build().unwrap_or_else(|_| {
        ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("one thread")
    })
}

/// Threads the CPU kernels use (`torch.get_num_threads`).
pub fn threads() -> usize {
    pool().current_num_threads()
}

/// Resizes the pool to `n >= 1` threads (`torch.set_num_threads`).
pub fn set_num_threads(n: usize) {
    REQUESTED.store(n.max(1), Ordering::Relaxed);
    let pid = std::process::id();
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let old = slot.replace((pid, Arc::new(build(n.max(1)))));
    if let Some((owner, inherited)) = old {
        if owner != pid {
            std::mem::forget(inherited);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resizing_changes_the_thread_count() {
        set_num_threads(1);
        assert_eq!(threads(), 1);
        set_num_threads(2);
        assert_eq!(threads(), 2);
        assert_eq!(pool().install(rayon::current_num_threads), 2);
    }
}
