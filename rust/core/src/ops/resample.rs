//! Separable resampling of the last 1 to 3 dims (the kernel of `interpolate`'s nearest, linear,
//! cubic and area modes): output position `o` of a dim takes `sum_j weight[o, j] *
//! input[index[o, j]]`, the taps of all dims multiplied together, in one pass over the output.
//!
//! The op is linear, so its gradient is the same op with each dim's taps transposed (for each
//! input position, the outputs that read it and with which weight): no atomics, deterministic,
//! and the backward of the backward is the forward again.

use crate::dtype::scalar_type_name;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// The taps of one dim: `out` rows of `k` (index, weight) pairs, row-major.
#[derive(Clone, Debug)]
pub struct Taps {
    pub index: Vec<i64>,
    pub weight: Vec<f64>,
    pub out: usize,
    pub k: usize,
}

impl Taps {
    /// Checks the sizes and that every index reads one of `n_in` positions.
    pub fn check(&self, n_in: usize) -> Result<()> {
        if self.index.len() != self.out * self.k || self.weight.len() != self.index.len() {
            bail!(
                Runtime,
                "resample: taps of {} x {} need that many indices and weights, got {} and {}",
                self.out,
                self.k,
                self.index.len(),
                self.weight.len()
            );
        }
        if let Some(&i) = self.index.iter().find(|&&i| i < 0 || i as usize >= n_in) {
            bail!(
                Runtime,
                "resample: tap index {i} is out of bounds for a dim of size {n_in}"
            );
        }
        Ok(())
    }

    /// The transposed taps: for each of the `n_in` input positions, the outputs reading it and
    /// their weights, padded with zero weights to the longest list.
    pub fn transpose(&self, n_in: usize) -> Taps {
        let mut lists: Vec<Vec<(i64, f64)>> = vec![Vec::new(); n_in];
        for o in 0..self.out {
            for j in 0..self.k {
                let (i, w) = (self.index[o * self.k + j], self.weight[o * self.k + j]);
                if w != 0.0 {
                    lists[i as usize].push((o as i64, w));
                }
            }
        }
        let k = lists.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut t = Taps {
            index: vec![0; n_in * k],
            weight: vec![0.0; n_in * k],
            out: n_in,
            k,
        };
        for (i, list) in lists.iter().enumerate() {
            for (j, &(o, w)) in list.iter().enumerate() {
                t.index[i * k + j] = o;
                t.weight[i * k + j] = w;
            }
        }
        t
    }

    /// The identity taps of a dim of size 1 (fills the unused leading dims of the kernel).
    fn unit() -> Taps {
        Taps {
            index: vec![0],
            weight: vec![1.0],
            out: 1,
            k: 1,
        }
    }
}

/// Resamples the last `taps.len()` (1 to 3) dims of the floating `x` (at least one leading
/// dim before them) with the given taps.
pub fn resample(x: &Tensor, taps: &[Taps]) -> Result<Tensor> {
    let nd = taps.len();
    if !(1..=3).contains(&nd) || x.ndim() < nd + 1 {
        bail!(
            Runtime,
            "resample: expected 1 to 3 resampled dims after at least one other, got {nd} for an \
             input of size {:?}",
            x.shape()
        );
    }
    if !x.dtype().is_floating_point() {
        bail!(
            Runtime,
            "\"resample\" not implemented for '{}'",
            scalar_type_name(x.dtype())
        );
    }
    let lead = x.ndim() - nd;
    let in_sizes = &x.shape()[lead..];
    for (t, &n) in taps.iter().zip(in_sizes) {
        t.check(n)?;
    }
    // Three dims for the kernel: unit dims in front of the resampled ones.
    let mut all: Vec<Taps> = vec![Taps::unit(); 3 - nd];
    all.extend(taps.iter().cloned());
    let mut ins = vec![1usize; 3 - nd];
    ins.extend_from_slice(in_sizes);
    let planes: usize = x.shape()[..lead].iter().product();
    let mut out_shape = x.shape()[..lead].to_vec();
    out_shape.extend(taps.iter().map(|t| t.out));
    let y = Tensor::empty(&out_shape, x.dtype(), x.device())?;
    if y.numel() == 0 {
        return Ok(y);
    }
    let xc = x.contiguous()?;
    let dims = Dims {
        planes,
        ins: [ins[0], ins[1], ins[2]],
        outs: [all[0].out, all[1].out, all[2].out],
        ks: [all[0].k, all[1].k, all[2].k],
    };
    if x.is_cuda() {
        let wd = x.dtype().float_acc();
        let mut dev_taps = Vec::with_capacity(3);
        for t in &all {
            let index =
                Tensor::from_vec(t.index.clone(), &[t.index.len()])?.to_device(x.device())?;
            let weight = Tensor::from_vec(t.weight.clone(), &[t.weight.len()])?
                .to_dtype(wd)?
                .to_device(x.device())?;
            dev_taps.push((index, weight));
        }
        crate::cuda::resample::resample(&xc, &y, &dev_taps, dims)?;
    } else {
        dispatch_float!(x.dtype(), T => unsafe {
            // SAFETY: `xc` and `y` are contiguous with the sizes `dims` gives; `y` is fresh.
            crate::cpu::resample::resample::<T>(
                std::slice::from_raw_parts(xc.data_ptr::<T>() as *const T, xc.numel()),
                std::slice::from_raw_parts_mut(y.data_ptr::<T>(), y.numel()),
                [&all[0], &all[1], &all[2]],
                dims,
            )
        }, _ => {});
    }
    Ok(y)
}

/// The kernel's view: `planes` leading positions, then three dims of input sizes `ins`, output
/// sizes `outs` and `ks` taps each.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub planes: usize,
    pub ins: [usize; 3],
    pub outs: [usize; 3],
    pub ks: [usize; 3],
}
