//! Automatic mixed precision (`torch.autocast`). Inside a region, ops that gain from lower
//! precision (matrix products, convolutions, attention) cast their floating inputs to the
//! region's dtype, and ops that need range or accuracy (softmax, log-softmax, layer norm, the
//! NLL loss) compute in float32. float64 tensors and tensors on the other kind of device are
//! left alone, as in torch. The casts are ordinary recorded `to` ops, so gradients flow back to
//! float32 parameters in float32. Regions are per thread (like grad mode) and per device kind,
//! and the engine runs backward outside any region.

use crate::autograd::functions::convert::to_dtype;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;
use std::cell::Cell;

thread_local! {
    /// The active region's dtype per device kind (`[cpu, cuda]`); `None` outside a region.
    static REGION: Cell<[Option<DType>; 2]> = const { Cell::new([None, None]) };
}

/// The region's dtype for CPU (`cuda == false`) or CUDA tensors, if one is active.
pub fn region(cuda: bool) -> Option<DType> {
    REGION.with(|r| r.get()[cuda as usize])
}

/// Enters (`Some(dtype)`) or leaves (`None`) the region of one device kind.
pub fn set_region(cuda: bool, dtype: Option<DType>) {
    REGION.with(|r| {
        let mut all = r.get();
        all[cuda as usize] = dtype;
        r.set(all);
    });
}

/// Leaves every region until dropped (the engine holds one while running backward).
pub struct Suspend([Option<DType>; 2]);

impl Suspend {
    pub fn new() -> Self {
        Suspend(REGION.with(|r| r.replace([None, None])))
    }
}

impl Default for Suspend {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Suspend {
    fn drop(&mut self) {
        REGION.with(|r| r.set(self.0));
    }
}

/// The dtype `x` is cast to under `target` (`None` for the region's own dtype), if any.
fn cast_of(x: &Tensor, target: Option<DType>) -> Option<DType> {
    let region = region(x.is_cuda())?;
    let to = target.unwrap_or(region);
    let eligible = x.dtype().is_floating_point() && x.dtype() != DType::F64;
    (eligible && x.dtype() != to).then_some(to)
}

/// `xs` cast for an op of one list, or `None` when nothing changes (outside a region, or every
/// input already has its dtype): the op then runs on its inputs as they are.
fn cast_all<const N: usize>(
    xs: [Option<&Tensor>; N],
    target: Option<DType>,
) -> Result<Option<[Option<Tensor>; N]>> {
    if REGION.with(|r| r.get()) == [None, None]
        || !xs.iter().flatten().any(|x| cast_of(x, target).is_some())
    {
        return Ok(None);
    }
    let mut out: [Option<Tensor>; N] = std::array::from_fn(|_| None);
    for (o, x) in out.iter_mut().zip(xs) {
        *o = x
            .map(|x| match cast_of(x, target) {
                Some(dtype) => to_dtype(x, dtype),
                None => Ok(x.clone()),
            })
            .transpose()?;
    }
    Ok(Some(out))
}

/// Inputs of a lower-precision op (matmul, convolution, attention) in the region's dtype.
pub fn lower<const N: usize>(xs: [Option<&Tensor>; N]) -> Result<Option<[Option<Tensor>; N]>> {
    cast_all(xs, None)
}

/// Inputs of an op that runs in float32 inside a region (softmax, layer norm, losses).
pub fn float32<const N: usize>(xs: [Option<&Tensor>; N]) -> Result<Option<[Option<Tensor>; N]>> {
    cast_all(xs, Some(DType::F32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_only_inside_a_region_and_only_eligible_tensors() {
        let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
        let d = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
        assert!(lower([Some(&a)]).unwrap().is_none());
        set_region(false, Some(DType::BF16));
        let [Some(la), Some(ld)] = lower([Some(&a), Some(&d)]).unwrap().unwrap() else {
            panic!("two outputs")
        };
        assert_eq!((la.dtype(), ld.dtype()), (DType::BF16, DType::F64));
        assert!(float32([Some(&a)]).unwrap().is_none());
        {
            let _off = Suspend::new();
            assert!(lower([Some(&a)]).unwrap().is_none());
        }
        assert_eq!(region(false), Some(DType::BF16));
        assert_eq!(region(true), None);
        set_region(false, None);
    }
}
