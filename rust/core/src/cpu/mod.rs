//! CPU kernels. They know nothing of autograd or Python: typed pointers, shapes and strides in.

pub mod copy;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod iter;
pub mod loss;
pub mod norm;
pub mod pool;
pub mod reduce;
pub mod rowwise;
