//! Ops, one file per family. Each op checks its arguments once (shapes, dtypes, devices),
//! allocates its output and calls a typed CPU kernel.

pub mod activation;
pub mod attention;
pub mod batch_norm;
pub mod binary;
pub mod binary_kernels;
pub mod compare;
pub mod conv;
pub mod convert;
pub mod convolution;
pub mod convolution_gemm;
pub mod cross_entropy;
pub mod einsum;
pub mod factory;
pub mod index;
pub mod index_gather;
pub mod index_kernels;
pub mod index_mask;
pub mod index_search;
pub mod loss;
pub mod matmul;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod reduce;
pub mod reduce_scan;
pub mod resample;
pub mod rnn;
pub mod shape;
pub mod shape_copy;
pub mod softmax;
pub mod sort;
pub mod unary;
pub mod unary_math;
pub mod unary_misc;
pub mod unary_ternary;

use crate::bail;
use crate::error::Result;
use crate::tensor::Tensor;

/// Fails unless every tensor is on the same device, with torch's message.
pub fn check_same_device(op: &str, tensors: &[&Tensor]) -> Result<()> {
    if let Some(first) = tensors.first() {
        for t in &tensors[1..] {
            if t.device() != first.device() {
                bail!(
                    Runtime,
                    "{op}: Expected all tensors to be on the same device, but found at least two \
                     devices, {} and {}!",
                    first.device(),
                    t.device()
                );
            }
        }
    }
    Ok(())
}
