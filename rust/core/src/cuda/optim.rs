//! Fused optimizer steps on CUDA tensors (`kernels/optim.cu`): the parameters' pointers,
//! constants and block assignments go to the device as one small table, then one launch
//! updates every element of every parameter. `ops::optim` has checked the tensors.

use super::rowwise::defines;
use super::{device_of, ptr, Source};
use crate::error::Result;
use crate::ops::optim::{Rule, SCALARS};
use crate::tensor::Tensor;
use cudarc::driver::LaunchConfig;

pub const SOURCE: Source = Source {
    name: "optim",
    text: include_str!("kernels/optim.cu"),
};

/// Elements per block (256 threads, 16 elements each).
const CHUNK: usize = 4096;

pub fn step(
    rule: Rule,
    params: &[Tensor],
    grads: &[Tensor],
    states: &[Vec<Tensor>],
    scalars: &[[f64; SCALARS]],
) -> Result<()> {
    let dev = device_of(&params[0])?;
    let n = params.len();
    let mut table: Vec<i64> = Vec::with_capacity((6 + SCALARS) * n);
    for (i, p) in params.iter().enumerate() {
        table.push(ptr(p) as i64);
        table.push(ptr(&grads[i]) as i64);
        for j in 0..3 {
            let used = states.get(j).filter(|s| !s.is_empty());
            table.push(used.map_or(0, |s| ptr(&s[i])) as i64);
        }
        table.push(p.numel() as i64);
    }
    table.extend(scalars.iter().flatten().map(|v| v.to_bits() as i64));
    let mut blocks = 0u32;
    for (i, p) in params.iter().enumerate() {
        for start in (0..p.numel()).step_by(CHUNK) {
            table.extend([i as i64, start as i64]);
            blocks += 1;
        }
    }
    if blocks == 0 {
        return Ok(());
    }
    // Dropped (back to the stream-ordered pool) after the launch is queued, which is safe.
    let table = super::transfer::upload_table(dev, &table)?;
    let name = rule.kernel();
    let f = dev.kernel(&SOURCE, &defines(params[0].dtype()), name)?;
    let cfg = LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let (tp, n64, chunk) = (table.ptr(), n as i64, CHUNK as i64);
    crate::cuda_launch!(dev, f, name, cfg; tp, n64, chunk)
}

/// Every (source, defines) the optimizer program can request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    super::float_specialisations(SOURCE)
}
