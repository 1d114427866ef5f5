//! Separable resampling on CUDA tensors (`kernels/resample.cu`; see `ops::resample`).

use super::rowwise::defines;
use super::{device_of, launch_config, ptr, Source};
use crate::error::Result;
use crate::ops::resample::Dims;
use crate::tensor::Tensor;

pub const SOURCE: Source = Source {
    name: "resample",
    text: include_str!("kernels/resample.cu"),
};

/// `y` from the contiguous `x` and the three dims' `(index, weight)` taps on the device
/// (weights in the compute dtype).
pub fn resample(x: &Tensor, y: &Tensor, taps: &[(Tensor, Tensor)], d: Dims) -> Result<()> {
    let dev = device_of(x)?;
    let name = "resample_k";
    let f = dev.kernel(&SOURCE, &defines(x.dtype()), name)?;
    let (xp, yp) = (ptr(x), ptr(y));
    let [(i0, w0), (i1, w1), (i2, w2)] = [0, 1, 2].map(|k| (ptr(&taps[k].0), ptr(&taps[k].1)));
    let planes = d.planes as i64;
    let [in0, in1, in2] = d.ins.map(|v| v as i64);
    let [o0, o1, o2] = d.outs.map(|v| v as i64);
    let [k0, k1, k2] = d.ks.map(|v| v as i64);
    crate::cuda_launch!(dev, f, name, launch_config(dev, y.numel());
        xp, yp, i0, w0, i1, w1, i2, w2, planes, in0, in1, in2, o0, o1, o2, k0, k1, k2)
}

/// Every (source, defines) the resampling program can request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    super::float_specialisations(SOURCE)
}
