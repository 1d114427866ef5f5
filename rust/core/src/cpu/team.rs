//! The team of threads that runs the CPU kernels' parallel loops, in the manner of OpenMP.
//!
//! The calling thread takes part in every loop, and the other members spin for a while after
//! each loop before they sleep. A loop therefore costs no thread hand-off when the machine is
//! busy with kernels, which is the common case in a training step. Tasks are claimed one at a
//! time from a shared counter, so a member that is late (asleep, or descheduled) only does less
//! of the work, and the caller never waits for one that has not started.
//!
//! rayon's `install`, which this replaces for kernels, hands the whole loop to the pool and
//! blocks the caller: two thread wake-ups per loop, 15-100 us each on a 2-core VM, longer than
//! an elementwise kernel on 32K elements takes.

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long an idle member keeps polling for the next loop before it sleeps. Python's overhead
/// between two kernels of a training step is mostly well under this.
const SPIN: Duration = Duration::from_micros(300);

thread_local! {
    /// Set on members and on a caller while it runs a loop: a loop started from inside one runs
    /// serially on the thread that started it.
    static IN_LOOP: Cell<bool> = const { Cell::new(false) };
}

/// What every participant of one loop runs: `body(first, claim)` runs task `first` and then
/// each task `claim` hands out.
type Body<'a> = dyn Fn(usize, &dyn Fn() -> Option<usize>) + Sync + 'a;

/// One parallel loop.
struct Job {
    /// The caller's closure, its lifetime erased. Only dereferenced by a participant that has
    /// claimed a task, and the caller does not return while any participant is active.
    body: *const Body<'static>,
    tasks: usize,
    /// Next unclaimed task.
    next: AtomicUsize,
    /// Members between their first claim attempt and the end of their part.
    active: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `body` points at a `Sync` closure, used as documented on the field.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

impl Job {
    fn claim(&self) -> Option<usize> {
        // SeqCst: a member counts itself active before it claims, and the caller closes the
        // counter before it reads `active`, so a successful claim is always seen as active.
        let t = self.next.fetch_add(1, Ordering::SeqCst);
        (t < self.tasks).then_some(t)
    }

    /// Runs tasks until none is left; returns the panic of the task that panicked, if one did.
    fn work(&self) -> Option<Box<dyn Any + Send>> {
        let first = self.claim()?;
        // SAFETY: a task was claimed, so the caller is still waiting for this participant.
        let body = unsafe { &*self.body };
        catch_unwind(AssertUnwindSafe(|| body(first, &|| self.claim()))).err()
    }
}

/// The members' shared state.
pub struct Team {
    size: usize,
    /// Bumped for every loop (and at shutdown).
    epoch: AtomicU64,
    job: Mutex<Option<Arc<Job>>>,
    /// One loop at a time; a caller that finds it taken runs its loop alone.
    busy: AtomicBool,
    shutdown: AtomicBool,
    sleepers: AtomicUsize,
    park: Mutex<()>,
    wake: Condvar,
}

impl Team {
    /// A team of `size` threads: the caller and `size - 1` members.
    pub fn new(size: usize) -> Arc<Team> {
        let team = Arc::new(Team {
            size: size.max(1),
            epoch: AtomicU64::new(0),
            job: Mutex::new(None),
            busy: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            park: Mutex::new(()),
            wake: Condvar::new(),
        });
        for i in 1..team.size {
            let member = team.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("ferrotorch-cpu-{i}"))
                .spawn(move || member.serve());
            if spawned.is_err() {
                // Fewer members only means less help: loops still finish on the caller.
                break;
            }
        }
        team
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Stops the members once they finish the loop they are in.
    pub fn shut_down(&self) {
        let _one_loop_at_a_time = loop {
            match self.take() {
                Some(guard) => break guard,
                None => std::thread::yield_now(),
            }
        };
        self.shutdown.store(true, Ordering::SeqCst);
        self.announce();
    }

    /// Runs `body` on the caller and on every member that arrives while tasks are left, and
    /// returns when all `tasks` are done. Re-raises a participant's panic.
    pub fn run(&self, tasks: usize, body: &Body<'_>) {
        let serial = |body: &Body<'_>| {
            if tasks > 0 {
                let next = Cell::new(1);
                body(0, &|| {
                    let t = next.replace(next.get() + 1);
                    (t < tasks).then_some(t)
                });
            }
        };
        if tasks <= 1 || self.size <= 1 || IN_LOOP.with(Cell::get) {
            return serial(body);
        }
        let Some(_one_loop_at_a_time) = self.take() else {
            return serial(body);
        };
        if self.shutdown.load(Ordering::SeqCst) {
            return serial(body);
        }
        // SAFETY: only the lifetime changes; see `Job::body`.
        let body: *const Body<'static> = unsafe { std::mem::transmute(body as *const Body<'_>) };
        let job = Arc::new(Job {
            body,
            tasks,
            next: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            panic: Mutex::new(None),
        });
        *lock(&self.job) = Some(job.clone());
        self.announce();
        IN_LOOP.with(|f| f.set(true));
        let mine = job.work();
        IN_LOOP.with(|f| f.set(false));
        // No task can be claimed from here on (the caller may have stopped early, by a panic),
        // so the members that are not yet active never touch `body`; wait for those that are.
        job.next.fetch_max(tasks, Ordering::SeqCst);
        let start = Instant::now();
        while job.active.load(Ordering::SeqCst) > 0 {
            if start.elapsed() < Duration::from_micros(50) {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        *lock(&self.job) = None;
        let theirs = lock(&job.panic).take();
        if let Some(p) = mine.or(theirs) {
            resume_unwind(p);
        }
    }

    /// The team for one loop, if no other thread's loop holds it.
    fn take(&self) -> Option<Taken<'_>> {
        self.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Taken(&self.busy))
    }

    /// Makes the new epoch visible and wakes the members that went to sleep.
    fn announce(&self) {
        // SeqCst pairs with `wait_for_epoch`: either the member sees the new epoch before it
        // sleeps, or this sees it counted as a sleeper and wakes it.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            drop(lock(&self.park));
            self.wake.notify_all();
        }
    }

    /// A member's life: wait for a loop, join it, repeat.
    fn serve(&self) {
        IN_LOOP.with(|f| f.set(true));
        let mut seen = 0;
        loop {
            seen = self.wait_for_epoch(seen);
            if self.shutdown.load(Ordering::SeqCst) {
                return;
            }
            let Some(job) = lock(&self.job).clone() else {
                continue;
            };
            job.active.fetch_add(1, Ordering::SeqCst);
            if let Some(p) = job.work() {
                lock(&job.panic).get_or_insert(p);
            }
            job.active.fetch_sub(1, Ordering::Release);
        }
    }

    /// Polls for an epoch after `seen` for [`SPIN`], then sleeps until one comes.
    fn wait_for_epoch(&self, seen: u64) -> u64 {
        let start = Instant::now();
        let mut polls = 0u32;
        loop {
            let e = self.epoch.load(Ordering::Acquire);
            if e != seen {
                return e;
            }
            polls += 1;
            if polls % 64 == 0 && start.elapsed() > SPIN {
                break;
            }
            std::hint::spin_loop();
        }
        let mut guard = lock(&self.park);
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        loop {
            let e = self.epoch.load(Ordering::SeqCst);
            if e != seen {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return e;
            }
            guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Holds [`Team::busy`]; releases it when dropped, by a panic too.
struct Taken<'a>(&'a AtomicBool);

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_squares(team: &Team, tasks: usize) -> usize {
        let slots: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
        team.run(tasks, &|first, claim| {
            let mut t = Some(first);
            while let Some(i) = t {
                slots[i].fetch_add(i * i, Ordering::Relaxed);
                t = claim();
            }
        });
        slots.iter().map(|s| s.load(Ordering::Relaxed)).sum()
    }

    #[test]
    fn every_task_runs_once() {
        for size in [1, 2, 4] {
            let team = Team::new(size);
            for tasks in [0, 1, 2, 3, 17, 1000] {
                let want: usize = (0..tasks).map(|i| i * i).sum();
                for _ in 0..50 {
                    assert_eq!(sum_squares(&team, tasks), want, "size {size} tasks {tasks}");
                }
            }
            std::thread::sleep(SPIN * 2); // members asleep: they must be woken
            assert_eq!(
                sum_squares(&team, 100),
                (0..100).map(|i| i * i).sum::<usize>()
            );
            team.shut_down();
            assert_eq!(
                sum_squares(&team, 10),
                (0..10).map(|i| i * i).sum::<usize>()
            );
        }
    }

    #[test]
    fn nested_and_concurrent_loops_run() {
        let team = Team::new(3);
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..20 {
                        team.run(8, &|first, claim| {
                            let mut t = Some(first);
                            while t.is_some() {
                                total.fetch_add(sum_squares(&team, 10), Ordering::Relaxed);
                                t = claim();
                            }
                        });
                    }
                });
            }
        });
        assert_eq!(total.into_inner(), 3 * 20 * 8 * 285);
    }

    #[test]
    fn a_panic_reaches_the_caller_after_the_loop() {
        let team = Team::new(2);
        let done = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            team.run(64, &|first, claim| {
                let mut t = Some(first);
                while let Some(i) = t {
                    if i == 40 {
                        panic!("task 40");
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    t = claim();
                }
            })
        }));
        assert!(r.is_err());
        // The team still works afterwards, on both threads.
        assert_eq!(sum_squares(&team, 10), 285);
        let threads = Mutex::new(std::collections::HashSet::new());
        team.run(20, &|first, claim| {
            let mut t = Some(first);
            while t.is_some() {
                lock(&threads).insert(std::thread::current().id());
                std::thread::sleep(Duration::from_millis(1));
                t = claim();
            }
        });
        assert_eq!(threads.into_inner().unwrap().len(), 2);
    }
}
