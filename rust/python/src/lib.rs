//! `ferrotorch._C`: PyO3 glue only -- argument conversion, the Tensor pyclass, error mapping.
//! No math here; every op calls into `ferrotorch_core`.

mod autograd;
mod creation;
mod cuda;
mod device;
mod dtype;
mod errors;
mod numpy_interop;
mod ops_attention;
mod ops_binary;
mod ops_conv;
mod ops_factory;
mod ops_index;
mod ops_matmul;
mod ops_misc;
mod ops_nn;
mod ops_reduce;
mod ops_shape;
mod ops_unary;
mod optim;
mod random;
mod serialization;
mod tensor;
mod threads;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_C")]
fn ferrotorch_c(m: &Bound<'_, PyModule>) -> PyResult<()> {
    tensor::register(m)?;
    autograd::register(m)?;
    dtype::register(m)?;
    device::register(m)?;
    creation::register(m)?;
    cuda::register(m)?;
    errors::register(m)?;
    numpy_interop::register(m)?;
    ops_attention::register(m)?;
    ops_binary::register(m)?;
    ops_conv::register(m)?;
    ops_factory::register(m)?;
    ops_index::register(m)?;
    ops_matmul::register(m)?;
    ops_misc::register(m)?;
    ops_nn::register(m)?;
    ops_reduce::register(m)?;
    ops_shape::register(m)?;
    ops_unary::register(m)?;
    optim::register(m)?;
    random::register(m)?;
    serialization::register(m)?;
    threads::register(m)?;
    Ok(())
}
