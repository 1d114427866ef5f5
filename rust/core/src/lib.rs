//! ferrotorch-core: tensors, kernels and (later) autograd, with no Python in sight.
//!
//! Data flow: an op in [`ops`] checks its arguments once (shapes, dtypes, devices), allocates
//! the output, and calls a typed kernel in [`cpu`] chosen with the `dispatch_*!` macros.

pub mod autograd;
pub mod cpu;
pub mod cuda;
pub mod device;
pub mod dtype;
pub mod element;
pub mod error;
pub mod layout;
pub mod ops;
pub mod random;
pub mod scalar;
pub mod serialization;
pub mod storage;
pub mod tensor;

pub use device::Device;
pub use dtype::DType;
pub use error::{Error, ErrorKind, Result};
pub use scalar::Scalar;
pub use tensor::Tensor;
