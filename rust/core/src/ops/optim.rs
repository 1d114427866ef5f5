//! Fused multi-tensor optimizer steps: one call updates every parameter of a group, with its
//! state buffers, in place -- one pass over memory on the CPU, one kernel launch on CUDA --
//! instead of a dozen small tensor ops per parameter. The Python optimizers compute the
//! per-tensor constants (learning rate, bias corrections from each parameter's step count)
//! and pass them as rows of `SCALARS` numbers.

use crate::cpu::iter::SendPtr;
use crate::cpu::optim::Slot;
use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Constants per parameter (the layout of each rule is documented in `cpu/optim.rs`).
pub const SCALARS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Sgd,
    Adam,
    RmsProp,
    Adagrad,
    Adadelta,
    Adamax,
    NAdam,
    RAdam,
}

impl Rule {
    pub fn from_name(name: &str) -> Result<Rule> {
        Ok(match name {
            "sgd" => Rule::Sgd,
            "adam" => Rule::Adam,
            "rmsprop" => Rule::RmsProp,
            "adagrad" => Rule::Adagrad,
            "adadelta" => Rule::Adadelta,
            "adamax" => Rule::Adamax,
            "nadam" => Rule::NAdam,
            "radam" => Rule::RAdam,
            _ => {
                return Err(Error::value(format!(
                    "_fused_step: unknown update rule '{name}'"
                )))
            }
        })
    }

    /// The name of its CUDA kernel.
    pub fn kernel(self) -> &'static str {
        match self {
            Rule::Sgd => "sgd_k",
            Rule::Adam => "adam_k",
            Rule::RmsProp => "rmsprop_k",
            Rule::Adagrad => "adagrad_k",
            Rule::Adadelta => "adadelta_k",
            Rule::Adamax => "adamax_k",
            Rule::NAdam => "nadam_k",
            Rule::RAdam => "radam_k",
        }
    }
}

/// Updates `params[i]` and `states[j][i]` from `grads[i]` with constants `scalars[i]`; an
/// empty state list is a buffer the rule does not use (its pointer is null in the kernels).
/// Every tensor must be contiguous and share the parameters' device and floating dtype, and
/// each buffer must have its parameter's number of elements. Autograd does not see the
/// writes (optimizers step under `no_grad`), but saved-tensor version checks do.
pub fn fused_step(
    rule: Rule,
    params: &[Tensor],
    grads: &[Tensor],
    states: &[Vec<Tensor>],
    scalars: &[[f64; SCALARS]],
) -> Result<()> {
    let Some(first) = params.first() else {
        return Ok(());
    };
    let (device, dtype) = (first.device(), first.dtype());
    if !dtype.is_floating_point() {
        return Err(Error::runtime(format!(
            "_fused_step: parameters must be floating point, got {dtype}"
        )));
    }
    if states.len() > 3 {
        return Err(Error::runtime(
            "_fused_step: at most 3 state buffers per parameter",
        ));
    }
    let n = params.len();
    if grads.len() != n
        || scalars.len() != n
        || states.iter().any(|s| !s.is_empty() && s.len() != n)
    {
        return Err(Error::runtime(format!(
            "_fused_step: {n} parameters but {} gradients, {} constant rows and state lists of \
             lengths {:?}",
            grads.len(),
            scalars.len(),
            states.iter().map(Vec::len).collect::<Vec<_>>()
        )));
    }
    for i in 0..n {
        let p = &params[i];
        let buffers = std::iter::once(("parameter", p))
            .chain(std::iter::once(("gradient", &grads[i])))
            .chain(
                states
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| ("state", &s[i])),
            );
        for (what, t) in buffers {
            if t.device() != device || t.dtype() != dtype {
                return Err(Error::runtime(format!(
                    "_fused_step: {what} {i} is {} on {}, but the parameters are {dtype} on \
                     {device}",
                    t.dtype(),
                    t.device()
                )));
            }
            if t.numel() != p.numel() || !t.is_contiguous() {
                return Err(Error::runtime(format!(
                    "_fused_step: {what} {i} of shape {:?} (contiguous: {}) does not match its \
                     contiguous parameter of shape {:?}",
                    t.shape(),
                    t.is_contiguous(),
                    p.shape()
                )));
            }
        }
    }
    match device {
        Device::Cpu => step_cpu(rule, dtype, params, grads, states, scalars),
        Device::Cuda(_) => crate::cuda::optim::step(rule, params, grads, states, scalars)?,
    }
    for t in params.iter().chain(states.iter().flatten()) {
        t.storage().bump_version();
    }
    Ok(())
}

fn step_cpu(
    rule: Rule,
    dtype: DType,
    params: &[Tensor],
    grads: &[Tensor],
    states: &[Vec<Tensor>],
    scalars: &[[f64; SCALARS]],
) {
    fn slots<T: crate::element::Element>(
        params: &[Tensor],
        grads: &[Tensor],
        states: &[Vec<Tensor>],
        scalars: &[[f64; SCALARS]],
    ) -> Vec<Slot<T>> {
        (0..params.len())
            .map(|i| Slot {
                param: SendPtr(params[i].data_ptr::<T>()),
                grad: SendPtr(grads[i].data_ptr::<T>()),
                states: std::array::from_fn(|j| {
                    let used = states.get(j).filter(|s| !s.is_empty());
                    SendPtr(used.map_or(std::ptr::null_mut(), |s| s[i].data_ptr::<T>()))
                }),
                numel: params[i].numel(),
                consts: scalars[i],
            })
            .collect()
    }
    use crate::cpu::optim::step;
    match dtype {
        DType::F32 => step(rule, &slots::<f32>(params, grads, states, scalars)),
        DType::F64 => step(rule, &slots::<f64>(params, grads, states, scalars)),
        DType::F16 => step(rule, &slots::<half::f16>(params, grads, states, scalars)),
        DType::BF16 => step(rule, &slots::<half::bf16>(params, grads, states, scalars)),
        _ => unreachable!("checked floating point above"),
    }
}

/// `torch.nn.utils.clip_grad_norm_` as one op: the norm of all gradients together (each
/// gradient's norm, then the norm of those, on the first gradient's device), and every gradient
/// scaled in place by `min(1, max_norm / (total + 1e-6))`. The total stays on the device: only
/// `error_if_nonfinite` reads it back.
pub fn clip_grad_norm_(
    grads: &[Tensor],
    max_norm: f64,
    norm_type: f64,
    error_if_nonfinite: bool,
) -> Result<Tensor> {
    use crate::ops::binary::{binary, binary_into, BinaryOp};
    use crate::ops::reduce::{vector_norm, NormOrd};
    use crate::scalar::Scalar;
    let Some(first) = grads.first() else {
        return Tensor::scalar(Scalar::Float(0.0), DType::F32);
    };
    let device = first.device();
    let ord = NormOrd(norm_type);
    let norms = grads
        .iter()
        .map(|g| vector_norm(g, ord, None, false, None)?.to_device(device))
        .collect::<Result<Vec<_>>>()?;
    let total = vector_norm(
        &crate::ops::shape_copy::stack(&norms, 0)?,
        ord,
        None,
        false,
        None,
    )?;
    if error_if_nonfinite {
        let value = total
            .to_device(Device::Cpu)?
            .to_dtype(DType::F64)?
            .to_vec::<f64>()[0];
        if !value.is_finite() {
            return Err(Error::runtime(format!(
                "The total norm of order {norm_type} for gradients from `parameters` is \
                 non-finite, so it cannot be clipped. To disable this error and scale the \
                 gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
            )));
        }
    }
    let eps = Tensor::wrapped_scalar(Scalar::Float(1e-6))?;
    let max = Tensor::wrapped_scalar(Scalar::Float(max_norm))?;
    let one = Tensor::wrapped_scalar(Scalar::Float(1.0))?;
    let coef = binary(
        BinaryOp::Div,
        &max,
        &binary(BinaryOp::Add(Scalar::Int(1)), &total, &eps)?,
    )?;
    let coef = binary(BinaryOp::Minimum, &coef, &one)?;
    for g in grads {
        let c = coef.to_device(g.device())?.to_dtype(g.dtype())?;
        binary_into(BinaryOp::Mul, g, &c, g)?;
        g.storage().bump_version();
    }
    Ok(total)
}
