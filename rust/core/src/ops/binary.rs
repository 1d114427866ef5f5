//! Binary elementwise ops with broadcasting and torch's type promotion.

use crate::cpu::elementwise::map2;
use crate::dispatch_all;
use crate::dtype::{result_type, DType};
use crate::element::{Element, Float};
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::ops::check_same_device;
use crate::tensor::Tensor;

/// Broadcasts `a` and `b` to a common shape, converts both to `compute` dtype and allocates an
/// output of `out_dtype`: the shared front half of every binary op.
pub fn prepare_binary(
    op: &str,
    a: &Tensor,
    b: &Tensor,
    compute: DType,
    out_dtype: DType,
) -> Result<(Tensor, Tensor, Tensor)> {
    check_same_device(op, &[a, b])?;
    let shape = broadcast_shapes(a.shape(), b.shape(), op)?;
    let a = a.to_dtype(compute)?;
    let b = b.to_dtype(compute)?;
    let a = a.view_with(a.layout().broadcast_to(&shape, op)?)?;
    let b = b.view_with(b.layout().broadcast_to(&shape, op)?)?;
    let out = Tensor::empty(&shape, out_dtype, a.device())?;
    Ok((out, a, b))
}

/// The dtype `a (op) b` computes in, as `torch.result_type(a, b)`.
pub fn promote(a: &Tensor, b: &Tensor) -> DType {
    result_type(&[a.operand(), b.operand()])
}

macro_rules! arith {
    ($name:ident, $op:literal, $f:expr) => {
        #[doc = concat!("`torch.", $op, "(a, b)` with broadcasting and type promotion.")]
        pub fn $name(a: &Tensor, b: &Tensor) -> Result<Tensor> {
            let dt = promote(a, b);
            let (out, a, b) = prepare_binary($op, a, b, dt, dt)?;
            dispatch_all!(dt, T => map2::<T, T, T>(&out, &a, &b, |x, y| $f(x, y)));
            Ok(out)
        }
    };
}

trait Arith: Element {
    fn add_(self, o: Self) -> Self;
    fn sub_(self, o: Self) -> Self;
    fn mul_(self, o: Self) -> Self;
}
macro_rules! arith_native {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)] fn add_(self, o: Self) -> Self { self + o }
            #[inline(always)] fn sub_(self, o: Self) -> Self { self - o }
            #[inline(always)] fn mul_(self, o: Self) -> Self { self * o }
        }
    )*};
}
arith_native!(f32, f64, half::f16, half::bf16);
macro_rules! arith_wrapping {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)] fn add_(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn sub_(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)] fn mul_(self, o: Self) -> Self { self.wrapping_mul(o) }
        }
    )*};
}
arith_wrapping!(u8, i8, i16, i32, i64);
impl Arith for bool {
    fn add_(self, o: Self) -> Self { self | o }
    fn sub_(self, o: Self) -> Self { self ^ o }
    fn mul_(self, o: Self) -> Self { self & o }
}

arith!(add, "add", |x: T, y: T| x.add_(y));
arith!(sub_raw, "sub", |x: T, y: T| x.sub_(y));
arith!(mul, "mul", |x: T, y: T| x.mul_(y));

/// `torch.sub(a, b)`: like torch, refuses bool tensors.
pub fn sub(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.dtype() == DType::Bool && b.dtype() == DType::Bool {
        crate::bail!(
            Runtime,
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` \
             or `logical_xor()` operator instead."
        );
    }
    sub_raw(a, b)
}

/// `torch.div(a, b)` (true division): integer inputs give the default float dtype.
pub fn div(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let mut dt = promote(a, b);
    if !dt.is_floating_point() {
        dt = crate::dtype::default_float();
    }
    let (out, a, b) = prepare_binary("div", a, b, dt, dt)?;
    crate::dispatch_float!(dt, T => map2::<T, T, T>(&out, &a, &b, |x, y| T::from_acc(x.to_acc() / y.to_acc())),
        _ => crate::bail!(Runtime, "div: cannot compute in {dt}"));
    Ok(out)
}
