//! The threads CPU kernels run on, one set per process.
//!
//! Kernels run their parallel loops on the process's [`Team`] through [`parallel_for`] and its
//! kin; the few users of rayon's parallel iterators (sorting, compiling CUDA sources) run them
//! inside [`pool`]. Neither survives `fork()`: a forked child (a DataLoader worker) that
//! entered its parent's would wait forever for threads that exist only in the parent. So both
//! are built per process id, and [`set_num_threads`] (`torch.set_num_threads`) resizes both.

use super::team::Team;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Threads asked for by `set_num_threads`; 0: `OMP_NUM_THREADS` (torch's), `RAYON_NUM_THREADS`
/// or the number of cores.
static REQUESTED: AtomicUsize = AtomicUsize::new(0);

/// A per-process object and the process that built it.
type Owned<T> = Mutex<Option<(u32, Arc<T>)>>;

static POOL: Owned<ThreadPool> = Mutex::new(None);
static TEAM: Owned<Team> = Mutex::new(None);

/// Threads the CPU kernels use (`torch.get_num_threads`).
pub fn threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    match REQUESTED.load(Ordering::Relaxed) {
        0 => *DEFAULT.get_or_init(|| {
            let from = |var| {
                std::env::var(var)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .filter(|&n: &usize| n > 0)
            };
            from("OMP_NUM_THREADS")
                .or_else(|| from("RAYON_NUM_THREADS"))
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        }),
        n => n,
    }
}

/// This process's object in `slot`, built by `build` on first use and again after a fork.
fn per_process<T>(slot: &Owned<T>, build: impl FnOnce() -> Arc<T>) -> Arc<T> {
    let pid = std::process::id();
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, it)) = slot.as_ref() {
        if *owner == pid {
            return it.clone();
        }
    }
    let it = build();
    if let Some((_, inherited)) = slot.replace((pid, it.clone())) {
        // The parent's, copied by fork without its threads: dropping it would wait for them
        // forever.
        std::mem::forget(inherited);
    }
    it
}

/// This process's team (built on first use, and again after a fork or a resize).
pub fn team() -> Arc<Team> {
    per_process(&TEAM, || Team::new(threads()))
}

/// This process's rayon pool, for parallel iterators (built on first use, and again after a
/// fork or a resize).
pub fn pool() -> Arc<ThreadPool> {
    per_process(&POOL, || {
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads())
            .thread_name(|i| format!("ferrotorch-rayon-{i}"))
            .build();
        Arc::new(pool.unwrap_or_else(|_| {
            ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .expect("one thread")
        }))
    })
}

/// Resizes the team and the pool to `n >= 1` threads (`torch.set_num_threads`).
pub fn set_num_threads(n: usize) {
    REQUESTED.store(n.max(1), Ordering::Relaxed);
    let pid = std::process::id();
    if let Some((owner, team)) = TEAM.lock().unwrap_or_else(|e| e.into_inner()).take() {
        if owner == pid {
            team.shut_down();
        } else {
            std::mem::forget(team);
        }
    }
    if let Some((owner, pool)) = POOL.lock().unwrap_or_else(|e| e.into_inner()).take() {
        if owner != pid {
            std::mem::forget(pool);
        }
    }
}

/// Runs `f(t)` for every `t < tasks` on the team; returns when all are done.
pub fn parallel_for(tasks: usize, f: impl Fn(usize) + Sync) {
    team().run(tasks, &|first, claim| {
        let mut t = Some(first);
        while let Some(i) = t {
            f(i);
            t = claim();
        }
    });
}

/// Runs `f` over `0..n` cut into ranges of `chunk` (the last may be shorter) on the team.
pub fn parallel_ranges(n: usize, chunk: usize, f: impl Fn(std::ops::Range<usize>) + Sync) {
    let chunk = chunk.max(1);
    parallel_for(
        n.div_ceil(chunk),
        |c| f(c * chunk..((c + 1) * chunk).min(n)),
    );
}

/// Elements of work that make a task worth claiming: a claim is an atomic add that the threads
/// share, which a task of a few elements would spend most of its time on.
const TASK_ELEMENTS: usize = super::iter::PARALLEL_THRESHOLD / 8;

/// How many items of `item_work` elements each make one task.
pub fn items_per_task(item_work: usize) -> usize {
    (TASK_ELEMENTS / item_work.max(1)).max(1)
}

/// Runs `f(i)` for every item `i < n` (rows, planes, channels of `item_work` elements each) on
/// the team, the items grouped into tasks of [`items_per_task`].
pub fn parallel_items(n: usize, item_work: usize, f: impl Fn(usize) + Sync) {
    parallel_ranges(n, items_per_task(item_work), |r| r.for_each(&f));
}

/// [`parallel_for`] where each thread's tasks share one `init()` state (scratch buffers).
pub fn parallel_for_init<S>(
    tasks: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize) + Sync,
) {
    team().run(tasks, &|first, claim| {
        let mut state = init();
        let mut t = Some(first);
        while let Some(i) = t {
            f(&mut state, i);
            t = claim();
        }
    });
}

/// `(0..tasks).map(f)` collected in order, the tasks run on the team.
pub fn parallel_map<R: Send>(tasks: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let slots: Vec<Mutex<Option<R>>> = (0..tasks).map(|_| Mutex::new(None)).collect();
    parallel_for(tasks, |t| {
        *slots[t].lock().unwrap_or_else(|e| e.into_inner()) = Some(f(t))
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every task ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resizing_changes_the_thread_count() {
        set_num_threads(1);
        assert_eq!(threads(), 1);
        assert_eq!(team().size(), 1);
        set_num_threads(2);
        assert_eq!(threads(), 2);
        assert_eq!(team().size(), 2);
        assert_eq!(pool().install(rayon::current_num_threads), 2);
        assert_eq!(
            parallel_map(100, |t| t * 2),
            (0..100).map(|t| t * 2).collect::<Vec<_>>()
        );
    }
}
