//! Random numbers: a counter-based Philox4x32-10 generator and the stream layout every
//! distribution follows, so that a CUDA backend can reproduce CPU streams bit for bit.
//!
//! # Stream layout (the contract a CUDA port must follow)
//!
//! * A [`Generator`] holds a 64-bit `seed` and a 64-bit `offset`, counted in Philox *blocks*
//!   (one block = one Philox4x32-10 evaluation = four 32-bit words).
//! * The Philox key is the seed: `key = (seed as u32, (seed >> 32) as u32)`.
//! * Block `b` of the generator is `philox4x32_10(counter, key)` with
//!   `counter = (b as u32, (b >> 32) as u32, subsequence as u32, (subsequence >> 32) as u32)`.
//!   ferrotorch always uses subsequence 0; the upper half of the counter is reserved.
//! * A call that draws for `n` elements reserves `blocks = ceil(n / per_block)` consecutive
//!   blocks starting at the generator's current offset, then advances the offset by `blocks`.
//!   Element `i` (row-major index of the output) reads block `offset + i / per_block` and lane
//!   `i % per_block` inside it, where a lane is `words` consecutive 32-bit words:
//!   `words = 1` -> word `lane`; `words = 2` -> the u64 `w[2*lane] | w[2*lane+1] << 32`.
//!   `per_block = 4 / words`.
//! * Which `words` each distribution uses, and how a lane becomes a value (details on each op
//!   in [`dist`]; `unit(bits, m) = (bits >> (64 - m)) * 2^-m` with one-word lanes in the high
//!   half of `bits`):
//!
//!   | op | words | value |
//!   |----|-------|-------|
//!   | `uniform_` f32/f16/bf16 | 1 | `from + unit(bits, 24/11/8) * (to - from)`, stepped below `to` if rounded onto it |
//!   | `uniform_` f64 | 2 | same with `unit(bits, 53)` |
//!   | `normal_`, `log_normal_` | 1 (f64: 2) | Box-Muller on lane pairs (0,1), (2,3): `r cos`, `r sin` |
//!   | `exponential_`, `cauchy_` | 1 (f64: 2) | `-ln(1-u)/lambd`, `median + sigma tan(pi (u - 1/2))` |
//!   | `random_`/`randint` | 1 if `to - from <= 2^32` else 2 | `from + word(s) % (to - from)` |
//!   | `bernoulli*`, `geometric_` | 2 | `unit(bits, 53) < p`, `ceil(ln(1-u) / ln(1-p))` |
//!   | `randperm(n)` | 2 | Fisher-Yates: step i swaps i with `i + bits_i % (n - i)` |
//!   | `multinomial` | 2 | see [`dist::multinomial`] |
//!
//! Because every element's counter is a pure function of (offset, i), values do not depend on
//! how many threads generate them, and a draw of `n` elements equals the first `n` elements
//! of a larger draw from the same state.

#[path = "random_dist.rs"]
pub mod dist;

use crate::cpu::iter::PARALLEL_THRESHOLD;
use std::sync::{Arc, Mutex};

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"),
/// identical to Random123's `philox4x32_R(10, ctr, key)` and cuRAND's Philox4_32_10.
#[inline]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The torch default seed of a fresh process (`torch.initial_seed()` before any seeding).
pub const DEFAULT_SEED: u64 = 67280421310721;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    seed: u64,
    offset: u64,
}

/// A source of random numbers: a Philox key (the seed) and a position in its stream.
/// Shared between threads; each draw reserves its blocks under a short lock.
#[derive(Debug)]
pub struct Generator {
    state: Mutex<State>,
}

/// Where a single draw reads its blocks: the key and the first block (counter) it owns.
#[derive(Clone, Copy, Debug)]
pub struct Stream {
    pub key: [u32; 2],
    pub start: u64,
}

impl Stream {
    /// Block `b` of this draw.
    #[inline]
    pub fn block(&self, b: u64) -> [u32; 4] {
        let c = self.start.wrapping_add(b);
        philox4x32_10([c as u32, (c >> 32) as u32, 0, 0], self.key)
    }
}

impl Default for Generator {
    fn default() -> Self {
        Generator::new(DEFAULT_SEED)
    }
}

impl Generator {
    pub const fn new(seed: u64) -> Generator {
        Generator {
            state: Mutex::new(State { seed, offset: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave State inconsistent (two plain words).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `manual_seed`: restarts the stream of `seed`.
    pub fn manual_seed(&self, seed: u64) {
        *self.lock() = State { seed, offset: 0 };
    }

    /// `seed()`: seeds from a non-deterministic source and returns that seed.
    pub fn seed(&self) -> u64 {
        let seed = nondeterministic_seed();
        self.manual_seed(seed);
        seed
    }

    pub fn initial_seed(&self) -> u64 {
        self.lock().seed
    }

    /// The current position of the stream, in blocks.
    pub fn offset(&self) -> u64 {
        self.lock().offset
    }

    /// The state as 16 bytes: seed then offset, both little-endian.
    pub fn get_state(&self) -> [u8; 16] {
        let s = *self.lock();
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&s.seed.to_le_bytes());
        out[8..].copy_from_slice(&s.offset.to_le_bytes());
        out
    }

    /// Restores a state produced by [`Generator::get_state`].
    pub fn set_state(&self, bytes: &[u8]) -> crate::Result<()> {
        if bytes.len() != 16 {
            crate::bail!(
                Runtime,
                "set_state: expected a uint8 tensor of 16 bytes (seed and offset), got {} bytes",
                bytes.len()
            );
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(&bytes[..8]);
        let mut o = [0u8; 8];
        o.copy_from_slice(&bytes[8..]);
        *self.lock() = State {
            seed: u64::from_le_bytes(s),
            offset: u64::from_le_bytes(o),
        };
        Ok(())
    }

    /// Reserves `blocks` consecutive blocks for one draw and advances the offset past them.
    pub fn reserve(&self, blocks: u64) -> Stream {
        let mut s = self.lock();
        let start = s.offset;
        s.offset = s.offset.wrapping_add(blocks);
        Stream {
            key: [s.seed as u32, (s.seed >> 32) as u32],
            start,
        }
    }

    /// Reserves the blocks for `n` elements of `words` 32-bit words each.
    pub fn reserve_elems(&self, n: usize, words: usize) -> Stream {
        self.reserve(n.div_ceil(4 / words) as u64)
    }
}

static DEFAULT: Generator = Generator::new(DEFAULT_SEED);

/// The process-wide default CPU generator (`torch.default_generator`).
pub fn default_generator() -> &'static Generator {
    &DEFAULT
}

/// A generator handle as ops receive it: the default one or a user's `Generator` object.
#[derive(Clone, Debug)]
pub enum GenRef {
    Default,
    Owned(Arc<Generator>),
}

impl GenRef {
    pub fn get(&self) -> &Generator {
        match self {
            GenRef::Default => default_generator(),
            GenRef::Owned(g) => g,
        }
    }
}

/// A seed from the clock, the process id and a counter, mixed (as `torch.seed()`, not
/// cryptographic).
fn nondeterministic_seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    let x = nanos ^ ((std::process::id() as u64) << 32) ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let w = philox4x32_10(
        [x as u32, (x >> 32) as u32, c as u32, 0],
        [0x1234_5678, 0x9ABC_DEF0],
    );
    // torch seeds are 64-bit but Python users often store them; keep them non-negative as i64.
    ((w[0] as u64) | ((w[1] as u64) << 32)) & (i64::MAX as u64)
}

/// Blocks handed to one task.
const BLOCKS_PER_TASK: usize = 1 << 11;

/// Fills `out` in the layout above: `f(block_words, first, chunk)` is called for each block
/// with the (up to) `per_block` elements it covers, `first` being the index of `chunk[0]`. Runs in parallel above the size threshold;
/// results are identical either way.
pub fn fill_blocks<T: Send>(
    out: &mut [T],
    per_block: usize,
    stream: Stream,
    f: impl Fn(&[u32; 4], usize, &mut [T]) + Sync,
) {
    let task = per_block * BLOCKS_PER_TASK;
    let run = |task_idx: usize, part: &mut [T]| {
        let base = (task_idx * BLOCKS_PER_TASK) as u64;
        for (j, chunk) in part.chunks_mut(per_block).enumerate() {
            let b = base + j as u64;
            f(&stream.block(b), b as usize * per_block, chunk);
        }
    };
    if out.len() < PARALLEL_THRESHOLD || crate::cpu::threads() <= 1 {
        for (t, part) in out.chunks_mut(task).enumerate() {
            run(t, part);
        }
    } else {
        let (len, p) = (out.len(), crate::cpu::iter::SendPtr(out.as_mut_ptr()));
        crate::cpu::parallel_for(len.div_ceil(task), |t| {
            let start = t * task;
            // SAFETY: task t's part is inside `out` and no other task touches it.
            run(t, unsafe {
                std::slice::from_raw_parts_mut(p.get().add(start), task.min(len - start))
            })
        });
    }
}

/// Lane `i` of a block as 64 random bits, most significant first: one word occupies the high
/// half (`words == 1`), two words form `w[2i] | w[2i+1] << 32` (`words == 2`).
#[inline(always)]
pub fn lane_bits(w: &[u32; 4], i: usize, words: usize) -> u64 {
    if words == 1 {
        (w[i & 3] as u64) << 32
    } else {
        let j = (2 * i) & 2;
        (w[j] as u64) | ((w[j + 1] as u64) << 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answers() {
        // Random123 kat_vectors for philox4x32_10.
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn reserve_advances_offset() {
        let g = Generator::new(5);
        let a = g.reserve_elems(10, 1);
        assert_eq!(a.start, 0);
        assert_eq!(g.offset(), 3);
        let b = g.reserve_elems(3, 2);
        assert_eq!(b.start, 3);
        assert_eq!(g.offset(), 5);
        let st = g.get_state();
        g.manual_seed(7);
        g.set_state(&st).unwrap_or_default();
        assert_eq!(g.offset(), 5);
        assert_eq!(g.initial_seed(), 5);
    }

    #[test]
    fn parallel_fill_matches_serial() {
        let stream = Stream {
            key: [1, 2],
            start: 9,
        };
        let n = PARALLEL_THRESHOLD * 4 + 3;
        let mut par = vec![0u32; n];
        fill_blocks(&mut par, 4, stream, |w, _, c| {
            c.copy_from_slice(&w[..c.len()])
        });
        let serial: Vec<u32> = (0..n)
            .map(|i| stream.block((i / 4) as u64)[i % 4])
            .collect();
        assert_eq!(par, serial);
    }
}
