//! Differentiable ops: the kernels of [`crate::ops`] plus the graph node each records, with its
//! backward rule. One file per family; rules use these same functions, so they can themselves
//! be differentiated (`create_graph=True`).

pub mod activation;
pub mod attention;
pub mod binary;
pub mod conv;
pub mod convert;
pub mod convolution;
pub mod cross_entropy;
pub mod einsum;
pub mod embedding;
pub mod index;
pub mod index_gather;
pub mod index_mask;
pub mod index_scatter;
pub mod inplace;
pub mod loss;
pub mod matmul;
pub mod norm;
pub mod pool;
pub mod reduce;
pub mod reduce_scan;
pub mod reduce_select;
pub mod reduce_stat;
pub mod resample;
pub mod rnn;
pub mod shape;
pub mod shape_copy;
pub mod softmax;
pub mod unary;

use crate::error::Result;
use crate::tensor::Tensor;
use crate::Scalar;

/// A Python-number operand (lowest promotion priority, never requires grad).
pub fn number(v: f64) -> Result<Tensor> {
    Tensor::wrapped_scalar(Scalar::Float(v))
}

/// `Some(f())` when `wanted`, for rules that skip gradients nobody needs.
pub fn when(wanted: bool, f: impl FnOnce() -> Result<Tensor>) -> Result<Option<Tensor>> {
    if wanted {
        f().map(Some)
    } else {
        Ok(None)
    }
}
