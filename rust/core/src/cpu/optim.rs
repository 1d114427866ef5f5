//! The element-wise optimizer updates (`ops::optim`) on the CPU: every element of every
//! parameter of a group in one pass, tasks of `CHUNK` elements spread over threads.
//!
//! Each rule reads the parameter, its gradient and up to three state buffers and writes the
//! parameter and the states, in the order of operations of torch's single-tensor
//! implementation, in the accumulation type (f32, or f64 for f64 parameters). `c` holds the
//! rule's per-tensor constants in the layout `python/ferrotorch/optim/_fused.py` documents.

use super::iter::{SendPtr, PARALLEL_THRESHOLD};
use crate::element::num_like::FloatMath;
use crate::element::Float;
use crate::ops::optim::{Rule, SCALARS};

/// Elements per task: large enough to amortise scheduling, small enough to balance threads.
const CHUNK: usize = 1 << 14;

/// Pointers of one parameter and its buffers (state pointers beyond the rule's count are null).
pub struct Slot<T> {
    pub param: SendPtr<T>,
    pub grad: SendPtr<T>,
    pub states: [SendPtr<T>; 3],
    pub numel: usize,
    pub consts: [f64; SCALARS],
}

#[inline(always)]
fn on<A: FloatMath>(flag: A) -> bool {
    flag != A::from_f64(0.0)
}

/// torch's `lerp`: exact at both ends whichever side the weight is on.
#[inline(always)]
fn lerp<A: FloatMath>(from: A, to: A, w: A) -> A {
    let half = A::from_f64(0.5);
    if w.abs() < half {
        from + w * (to - from)
    } else {
        to - (to - from) * (A::from_f64(1.0) - w)
    }
}

/// `g` after `maximize` and coupled weight decay (`g + wd * p`).
#[inline(always)]
fn decayed<A: FloatMath>(g: A, p: A, wd: A, maximize: A) -> A {
    let g = if on(maximize) { -g } else { g };
    if on(wd) {
        g + wd * p
    } else {
        g
    }
}

// c: [lr, wd, momentum, dampening, nesterov, maximize, first_step]
#[inline(always)]
fn sgd<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let [lr, wd, momentum, dampening, nesterov, maximize, first] =
        [c[0], c[1], c[2], c[3], c[4], c[5], c[6]];
    let mut g = decayed(g, p, wd, maximize);
    if on(momentum) {
        let one = A::from_f64(1.0);
        s[0] = if on(first) {
            g
        } else {
            s[0] * momentum + (one - dampening) * g
        };
        g = if on(nesterov) {
            g + momentum * s[0]
        } else {
            s[0]
        };
    }
    p + (-lr) * g
}

// c: [lr, beta1, beta2, eps, wd, step_size, bias_correction2_sqrt, amsgrad, maximize, decoupled]
#[inline(always)]
fn adam<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let one = A::from_f64(1.0);
    let [lr, beta1, beta2, eps, wd] = [c[0], c[1], c[2], c[3], c[4]];
    let [step_size, bc2_sqrt, amsgrad, maximize, decoupled] = [c[5], c[6], c[7], c[8], c[9]];
    let (mut p, g) = if on(decoupled) {
        let g = if on(maximize) { -g } else { g };
        (if on(wd) { p * (one - lr * wd) } else { p }, g)
    } else {
        (p, decayed(g, p, wd, maximize))
    };
    s[0] = lerp(s[0], g, one - beta1);
    s[1] = s[1] * beta2 + (one - beta2) * (g * g);
    let v = if on(amsgrad) {
        s[2] = s[2].max_(s[1]);
        s[2]
    } else {
        s[1]
    };
    let denom = v.sqrt() / bc2_sqrt + eps;
    p = p + (-step_size) * (s[0] / denom);
    p
}

// c: [lr, alpha, eps, wd, momentum, centered, maximize]; states: square_avg, momentum, grad_avg
#[inline(always)]
fn rmsprop<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let one = A::from_f64(1.0);
    let [lr, alpha, eps, wd, momentum, centered, maximize] =
        [c[0], c[1], c[2], c[3], c[4], c[5], c[6]];
    let g = decayed(g, p, wd, maximize);
    s[0] = s[0] * alpha + (one - alpha) * (g * g);
    let avg = if on(centered) {
        s[2] = lerp(s[2], g, one - alpha);
        (s[0] + (-one) * (s[2] * s[2])).sqrt()
    } else {
        s[0].sqrt()
    } + eps;
    if momentum > A::from_f64(0.0) {
        s[1] = s[1] * momentum + g / avg;
        p + (-lr) * s[1]
    } else {
        p + (-lr) * (g / avg)
    }
}

// c: [clr, wd, eps, maximize]; states: sum
#[inline(always)]
fn adagrad<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let g = decayed(g, p, c[1], c[3]);
    s[0] = s[0] + g * g;
    p + (-c[0]) * (g / (s[0].sqrt() + c[2]))
}

// c: [lr, rho, eps, wd, maximize]; states: square_avg, acc_delta
#[inline(always)]
fn adadelta<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let one = A::from_f64(1.0);
    let [lr, rho, eps] = [c[0], c[1], c[2]];
    let g = decayed(g, p, c[3], c[4]);
    s[0] = s[0] * rho + (one - rho) * (g * g);
    let std = (s[0] + eps).sqrt();
    let delta = (s[1] + eps).sqrt() / std * g;
    s[1] = s[1] * rho + (one - rho) * (delta * delta);
    p + (-lr) * delta
}

// c: [clr, beta1, beta2, eps, wd, maximize]; states: exp_avg, exp_inf
#[inline(always)]
fn adamax<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let one = A::from_f64(1.0);
    let [clr, beta1, beta2, eps] = [c[0], c[1], c[2], c[3]];
    let g = decayed(g, p, c[4], c[5]);
    s[0] = lerp(s[0], g, one - beta1);
    s[1] = (s[1] * beta2).max_(g.abs() + eps);
    p + (-clr) * (s[0] / s[1])
}

// c: [lr, beta1, beta2, eps, wd, decoupled, maximize, bias_correction2, grad_coef, avg_coef]
// (the coefficients carry the Nesterov momentum schedule; states: exp_avg, exp_avg_sq)
#[inline(always)]
fn nadam<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let one = A::from_f64(1.0);
    let [lr, beta1, beta2, eps, wd, decoupled, maximize] =
        [c[0], c[1], c[2], c[3], c[4], c[5], c[6]];
    let [bc2, grad_coef, avg_coef] = [c[7], c[8], c[9]];
    let (mut p, g) = if on(decoupled) {
        let g = if on(maximize) { -g } else { g };
        (if on(wd) { p * (one - lr * wd) } else { p }, g)
    } else {
        (p, decayed(g, p, wd, maximize))
    };
    s[0] = lerp(s[0], g, one - beta1);
    s[1] = s[1] * beta2 + (one - beta2) * (g * g);
    let denom = (s[1] / bc2).sqrt() + eps;
    p = p + (-grad_coef) * (g / denom);
    p + (-avg_coef) * (s[0] / denom)
}

// c: [lr, beta1, beta2, eps, wd, decoupled, maximize, bias_correction1, bc2_sqrt, rect]
// (rect <= 0: the variance is not tractable yet and the step is plain momentum)
#[inline(always)]
fn radam<A: FloatMath>(c: &[A; SCALARS], p: A, g: A, s: &mut [A; 3]) -> A {
    let one = A::from_f64(1.0);
    let [lr, beta1, beta2, eps, wd, decoupled, maximize] =
        [c[0], c[1], c[2], c[3], c[4], c[5], c[6]];
    let [bc1, bc2_sqrt, rect] = [c[7], c[8], c[9]];
    let (p, g) = if on(decoupled) {
        let g = if on(maximize) { -g } else { g };
        (if on(wd) { p * (one - lr * wd) } else { p }, g)
    } else {
        (p, decayed(g, p, wd, maximize))
    };
    s[0] = lerp(s[0], g, one - beta1);
    s[1] = s[1] * beta2 + (one - beta2) * (g * g);
    let corrected = s[0] / bc1;
    if rect > A::from_f64(0.0) {
        let adaptive = bc2_sqrt / (s[1].sqrt() + eps);
        p + (-one) * (corrected * lr * adaptive * rect)
    } else {
        p + (-one) * (corrected * lr)
    }
}

/// Runs `rule` over every element of every slot.
pub fn step<T: Float>(rule: Rule, slots: &[Slot<T>]) {
    match rule {
        Rule::Sgd => run(slots, sgd::<T::Acc>),
        Rule::Adam => run(slots, adam::<T::Acc>),
        Rule::RmsProp => run(slots, rmsprop::<T::Acc>),
        Rule::Adagrad => run(slots, adagrad::<T::Acc>),
        Rule::Adadelta => run(slots, adadelta::<T::Acc>),
        Rule::Adamax => run(slots, adamax::<T::Acc>),
        Rule::NAdam => run(slots, nadam::<T::Acc>),
        Rule::RAdam => run(slots, radam::<T::Acc>),
    }
}

/// Elements per block: each block is loaded into local arrays in the accumulation type, updated
/// by one branch-free loop over whole arrays (which the compiler vectorises: the arrays cannot
/// alias and the flags are loop-invariant selects), and written back.
const BLOCK: usize = 64;

fn run<T, F>(slots: &[Slot<T>], f: F)
where
    T: Float,
    F: Fn(&[T::Acc; SCALARS], T::Acc, T::Acc, &mut [T::Acc; 3]) -> T::Acc + Sync,
{
    let tasks: Vec<(usize, usize)> = slots
        .iter()
        .enumerate()
        .flat_map(|(i, s)| (0..s.numel).step_by(CHUNK).map(move |start| (i, start)))
        .collect();
    let total: usize = slots.iter().map(|s| s.numel).sum();
    let task = |&(i, start): &(usize, usize)| {
        let slot = &slots[i];
        let c = slot.consts.map(T::Acc::from_f64);
        let end = (start + CHUNK).min(slot.numel);
        // SAFETY: [start, end) lies inside every buffer of this slot (checked by ops::optim),
        // tasks cover disjoint ranges, and null state pointers are never dereferenced.
        unsafe { update_range(slot, start, end, &c, &f) }
    };
    if total >= PARALLEL_THRESHOLD && tasks.len() > 1 && crate::cpu::threads() > 1 {
        crate::cpu::parallel_for(tasks.len(), |t| task(&tasks[t]));
    } else {
        tasks.iter().for_each(task);
    }
}

/// Runs `f` over elements `[start, end)` of one slot, with AVX2 where the CPU has it.
///
/// # Safety
/// `[start, end)` must lie inside the slot's parameter, gradient and non-null state buffers, and
/// no other thread may touch that range meanwhile.
unsafe fn update_range<T, F>(slot: &Slot<T>, start: usize, end: usize, c: &[T::Acc; SCALARS], f: &F)
where
    T: Float,
    F: Fn(&[T::Acc; SCALARS], T::Acc, T::Acc, &mut [T::Acc; 3]) -> T::Acc,
{
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        return update_range_avx2(slot, start, end, c, f);
    }
    update_range_body(slot, start, end, c, f)
}

/// [`update_range_body`] compiled for AVX2 (no FMA: results stay bit-identical to the
/// baseline build, since Rust never contracts `a * b + c`).
///
/// # Safety
/// As [`update_range`]; the CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_range_avx2<T, F>(
    slot: &Slot<T>,
    start: usize,
    end: usize,
    c: &[T::Acc; SCALARS],
    f: &F,
) where
    T: Float,
    F: Fn(&[T::Acc; SCALARS], T::Acc, T::Acc, &mut [T::Acc; 3]) -> T::Acc,
{
    update_range_body(slot, start, end, c, f)
}

#[inline(always)]
unsafe fn update_range_body<T, F>(
    slot: &Slot<T>,
    start: usize,
    end: usize,
    c: &[T::Acc; SCALARS],
    f: &F,
) where
    T: Float,
    F: Fn(&[T::Acc; SCALARS], T::Acc, T::Acc, &mut [T::Acc; 3]) -> T::Acc,
{
    let zero = T::Acc::from_f64(0.0);
    let used: [bool; 3] = std::array::from_fn(|j| !slot.states[j].0.is_null());
    let load = |src: *mut T, at: usize, dst: &mut [T::Acc; BLOCK], n: usize| {
        for (d, s) in dst
            .iter_mut()
            .zip(std::slice::from_raw_parts(src.add(at), n))
        {
            *d = s.to_acc();
        }
    };
    let store = |dst: *mut T, at: usize, src: &[T::Acc; BLOCK], n: usize| {
        for (d, s) in std::slice::from_raw_parts_mut(dst.add(at), n)
            .iter_mut()
            .zip(src)
        {
            *d = T::from_acc(*s);
        }
    };
    let mut at = start;
    while at < end {
        let n = BLOCK.min(end - at);
        // Lanes past `n` compute on zeros and are never stored.
        let (mut p, mut g) = ([zero; BLOCK], [zero; BLOCK]);
        let mut s = [[zero; BLOCK]; 3];
        load(slot.param.0, at, &mut p, n);
        load(slot.grad.0, at, &mut g, n);
        for j in 0..3 {
            if used[j] {
                load(slot.states[j].0, at, &mut s[j], n);
            }
        }
        for k in 0..BLOCK {
            let mut st = [s[0][k], s[1][k], s[2][k]];
            p[k] = f(c, p[k], g[k], &mut st);
            for j in 0..3 {
                s[j][k] = st[j];
            }
        }
        store(slot.param.0, at, &p, n);
        for j in 0..3 {
            if used[j] {
                store(slot.states[j].0, at, &s[j], n);
            }
        }
        at += n;
    }
}
