//! CPU kernels. They know nothing of autograd or Python: typed pointers, shapes and strides in.

pub mod attention;
pub mod batch_norm;
pub mod convolution;
pub mod copy;
pub mod cross_entropy;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod iter;
pub mod loss;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod reduce;
pub mod resample;
pub mod rnn;
pub mod rowwise;
pub mod team;
pub mod threads;

pub use threads::{
    items_per_task, parallel_for, parallel_for_init, parallel_items, parallel_map, parallel_ranges,
    pool, threads,
};
