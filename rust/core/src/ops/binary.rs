//! Binary elementwise ops with broadcasting and torch's type promotion.
//!
//! Every op is a [`BinaryOp`]; one driver ([`binary`] / [`binary_into`]) checks devices,
//! dtypes and shapes once, converts the operands to the compute dtype, and hands broadcast
//! views to the typed kernel in [`super::binary_kernels`]. `binary_into` writes straight into
//! an existing tensor (in-place ops, `out=`) when its dtype is the result dtype, so `a += b`
//! on a contiguous `a` makes no temporary.

use crate::bail;
use crate::cpu::iter::{for_each_run, SendPtr, PARALLEL_THRESHOLD};
use crate::device::Device;
use crate::dtype::scalar_type_name;
use crate::dtype::{can_cast, default_float, result_type, DType};
use crate::element::Element;
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::ops::check_same_device;
use crate::ops::unary::kernel_name_on;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// A binary elementwise operation. `Add`/`Sub` carry torch's `alpha` (`a + alpha * b`).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum BinaryOp {
    Add(Scalar),
    Sub(Scalar),
    Mul,
    /// True division: integer inputs give the default float dtype.
    Div,
    DivTrunc,
    /// `rounding_mode='floor'`, `floor_divide`, `//`.
    DivFloor,
    /// Python's `%`: the result takes the sign of the divisor.
    Remainder,
    /// C's `fmod`: the result takes the sign of the dividend.
    Fmod,
    Pow,
    /// `pow` computed in float64.
    FloatPower,
    Atan2,
    Hypot,
    Copysign,
    Xlogy,
    /// Propagates NaN.
    Maximum,
    Minimum,
    /// Ignores NaN (returns the other operand).
    Fmax,
    Fmin,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogicalAnd,
    LogicalOr,
    LogicalXor,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

/// `alpha = 1`: the plain `add`/`sub`.
pub const ONE: Scalar = Scalar::Int(1);

/// Fails unless a result of dtype `result` may be written into a tensor of dtype `out`.
pub fn check_cast(result: DType, out: DType) -> Result<()> {
    if !can_cast(result, out) {
        bail!(
            Runtime,
            "result type {} can't be cast to the desired output type {}",
            scalar_type_name(result),
            scalar_type_name(out)
        );
    }
    Ok(())
}

impl BinaryOp {
    /// The op's torch name, used in error messages.
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add(_) => "add",
            Sub(_) => "sub",
            Mul => "mul",
            Div | DivTrunc | DivFloor => "div",
            Remainder => "remainder",
            Fmod => "fmod",
            Pow => "pow",
            FloatPower => "float_power",
            Atan2 => "atan2",
            Hypot => "hypot",
            Copysign => "copysign",
            Xlogy => "xlogy",
            Maximum => "maximum",
            Minimum => "minimum",
            Fmax => "fmax",
            Fmin => "fmin",
            Eq => "eq",
            Ne => "ne",
            Lt => "lt",
            Le => "le",
            Gt => "gt",
            Ge => "ge",
            LogicalAnd => "logical_and",
            LogicalOr => "logical_or",
            LogicalXor => "logical_xor",
            BitAnd => "bitwise_and",
            BitOr => "bitwise_or",
            BitXor => "bitwise_xor",
            Shl => "bitwise_left_shift",
            Shr => "bitwise_right_shift",
        }
    }

    /// The name of torch's CPU kernel, as its "not implemented for 'Bool'" errors spell it.
    fn kernel_name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            DivTrunc => "div_trunc_cpu",
            DivFloor => "div_floor_cpu",
            Remainder => "remainder_cpu",
            Fmod => "fmod_cpu",
            Pow => "pow",
            Hypot => "hypot_cpu",
            BitAnd => "bitwise_and_cpu",
            BitOr => "bitwise_or_cpu",
            BitXor => "bitwise_xor_cpu",
            Shl => "lshift_cpu",
            Shr => "rshift_cpu",
            _ => self.name(),
        }
    }

    fn unsupported(self, d: DType, device: Device) -> crate::error::Error {
        crate::error::Error::runtime(format!(
            "\"{}\" not implemented for '{}'",
            kernel_name_on(self.kernel_name(), device),
            scalar_type_name(d)
        ))
    }

    /// Ops whose integer kernels divide by the second operand.
    fn divides(self) -> bool {
        matches!(
            self,
            BinaryOp::DivTrunc | BinaryOp::DivFloor | BinaryOp::Remainder | BinaryOp::Fmod
        )
    }

    /// `(compute dtype, result dtype)` for operands `a`, `b`, or the error torch raises.
    pub fn dtypes(self, a: &Tensor, b: &Tensor) -> Result<(DType, DType)> {
        use BinaryOp::*;
        let common = promote(a, b);
        let to_float = |d: DType| {
            if d.is_floating_point() {
                d
            } else {
                default_float()
            }
        };
        Ok(match self {
            Add(_) | Mul | Maximum | Minimum | Fmax | Fmin => (common, common),
            Sub(_) => {
                let (ba, bb) = (a.dtype() == DType::Bool, b.dtype() == DType::Bool);
                if ba && bb {
                    bail!(
                        Runtime,
                        "Subtraction, the `-` operator, with two bool tensors is not supported. \
                         Use the `^` or `logical_xor()` operator instead."
                    );
                }
                if ba || bb {
                    bail!(
                        Runtime,
                        "Subtraction, the `-` operator, with a bool tensor is not supported. If \
                         you are trying to invert a mask, use the `~` or `logical_not()` \
                         operator instead."
                    );
                }
                (common, common)
            }
            Div | Atan2 | Copysign | Xlogy => (to_float(common), to_float(common)),
            DivTrunc | DivFloor | Remainder | Fmod | Pow => {
                if common == DType::Bool {
                    return Err(self.unsupported(common, a.device()));
                }
                (common, common)
            }
            Hypot => {
                if !common.is_floating_point() {
                    return Err(self.unsupported(common, a.device()));
                }
                (common, common)
            }
            FloatPower => (DType::F64, DType::F64),
            Eq | Ne | Lt | Le | Gt | Ge | LogicalAnd | LogicalOr | LogicalXor => {
                (common, DType::Bool)
            }
            BitAnd | BitOr | BitXor => {
                if common.is_floating_point() {
                    return Err(self.unsupported(common, a.device()));
                }
                (common, common)
            }
            Shl | Shr => {
                if !common.is_integral(false) {
                    return Err(self.unsupported(common, a.device()));
                }
                (common, common)
            }
        })
    }

    /// Checks that depend on values rather than dtypes: `alpha`, negative integer powers.
    fn check_values(self, b: &Tensor, compute: DType) -> Result<()> {
        match self {
            BinaryOp::Add(alpha) | BinaryOp::Sub(alpha) => {
                if matches!(alpha, Scalar::Bool(_)) && compute != DType::Bool {
                    bail!(Runtime, "Boolean alpha only supported for Boolean results.");
                }
                if alpha.is_float() && !compute.is_floating_point() {
                    bail!(
                        Runtime,
                        "For integral input tensors, argument alpha must not be a floating point \
                         number."
                    );
                }
            }
            // torch refuses only a *number* exponent; a tensor of negative exponents follows
            // integer power rules (0 except for bases 1 and -1).
            BinaryOp::Pow
                if b.0.wrapped_number
                    && compute.is_integral(false)
                    && b.dtype().is_integral(false)
                    && b.item()?.to_i64() < 0 =>
            {
                bail!(
                    Runtime,
                    "Integers to negative integer powers are not allowed."
                );
            }
            _ => {}
        }
        Ok(())
    }
}

/// `a (op) b` as a new tensor.
pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    run(op, a, b, None)
}

/// `a (op) b` written into `dst` (the in-place form when `dst` is `a`, and `out=`). `dst` must
/// have the broadcast shape and a dtype the result may be cast to. Returns `dst`.
pub fn binary_into(op: BinaryOp, a: &Tensor, b: &Tensor, dst: &Tensor) -> Result<Tensor> {
    run(op, a, b, Some(dst))
}

fn run(op: BinaryOp, a: &Tensor, b: &Tensor, dst: Option<&Tensor>) -> Result<Tensor> {
    let name = op.name();
    let device = common_device(name, &[a, b])?;
    let on_cuda = matches!(device, Device::Cuda(_));
    let (compute, out_dtype) = op.dtypes(a, b)?;
    op.check_values(b, compute)?;
    let shape = if a.shape() == b.shape() {
        a.shape().to_vec()
    } else {
        broadcast_shapes(a.shape(), b.shape(), name)?
    };
    let a = convert(a, compute)?;
    let b = convert(b, compute)?;
    // torch's CUDA kernels do not raise (and looking would cost a device round trip).
    if op.divides() && compute.is_integral(false) && !on_cuda && has_zero(&b) {
        bail!(Runtime, "ZeroDivisionError");
    }
    // `out` receives the kernel's output (every element of it, so a fresh one is not cleared
    // first); `copy_back` is set when that is a temporary.
    let (out, copy_back) = match dst {
        None => (Tensor::empty_output(&shape, out_dtype, device)?, None),
        Some(d) => {
            if d.device() != device {
                check_same_device(name, &[d, if a.device() == device { &a } else { &b }])?;
            }
            if d.shape() != shape.as_slice() {
                bail!(
                    Runtime,
                    "{name}: output with shape {:?} doesn't match the broadcast shape {:?}",
                    d.shape(),
                    shape
                );
            }
            check_cast(out_dtype, d.dtype())?;
            check_no_internal_overlap(d)?;
            if d.dtype() == out_dtype {
                (d.clone(), None)
            } else {
                (Tensor::empty_output(&shape, out_dtype, device)?, Some(d))
            }
        }
    };
    let a = operand_view(&a, &out, &shape, name)?;
    let b = operand_view(&b, &out, &shape, name)?;
    if on_cuda {
        super::binary_kernels::cuda_kernel(op, &out, &a, &b)?;
    } else {
        super::binary_kernels::kernel(op, &out, &a, &b, compute);
    }
    match (dst, copy_back) {
        (_, Some(d)) => {
            d.copy_(&out)?;
            Ok(d.clone())
        }
        (Some(d), None) => {
            d.storage().bump_version();
            Ok(d.clone())
        }
        (None, None) => Ok(out),
    }
}

/// `x` as `dtype`. A one-element operand (typically a Python number) is converted with a
/// single cast instead of the general strided copy: this is on the per-op overhead path.
fn convert(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype || x.numel() != 1 || x.is_cuda() {
        return x.to_dtype(dtype);
    }
    let t = Tensor::empty(x.shape(), dtype, x.device())?;
    // SAFETY: both tensors hold exactly one element at their data pointers.
    crate::dispatch_all!(x.dtype(), S => crate::dispatch_all!(dtype, D => unsafe {
        *t.data_ptr::<D>() = (*x.data_ptr::<S>()).cast::<D>();
    }));
    Ok(t)
}

/// The device an op of `tensors` runs on, as torch decides it: tensors must share a device,
/// except that a 0-d CPU tensor (a Python number, say) may meet CUDA tensors, whose device
/// then wins.
pub fn common_device(op: &str, tensors: &[&Tensor]) -> Result<Device> {
    let cpu_scalar = |t: &&&Tensor| !t.is_cuda() && t.ndim() == 0;
    match tensors.iter().find(|t| t.is_cuda()) {
        Some(first) => {
            let others: Vec<&Tensor> = std::iter::once(*first)
                .chain(tensors.iter().filter(|t| !cpu_scalar(t)).copied())
                .collect();
            check_same_device(op, &others)?;
            Ok(first.device())
        }
        None => {
            check_same_device(op, tensors)?;
            Ok(tensors.first().map_or(Device::Cpu, |t| t.device()))
        }
    }
}

/// The byte range a view touches (empty for an empty view).
fn byte_span(t: &Tensor) -> (usize, usize) {
    let (start, end) = t.layout().storage_span();
    let base = t.address();
    (base, base + (end - start) * t.dtype().size())
}

/// Whether writing `out` element by element could clobber an element of `x` before it is
/// read: their memory overlaps (by address, so two tensors made from one NumPy array count)
/// and `x` is not exactly the same view as `out`.
fn hazard(x: &Tensor, out: &Tensor) -> bool {
    if x.numel() == 0 || out.numel() == 0 {
        return false;
    }
    let ((xs, xe), (os, oe)) = (byte_span(x), byte_span(out));
    let overlaps = xs < oe && os < xe;
    let same_view = xs == os && x.dtype() == out.dtype() && x.strides() == out.strides();
    overlaps && !same_view
}

/// `x` broadcast to `shape`; copied first when it overlaps `out` in another layout, so no
/// element is overwritten before it is read.
fn operand_view(x: &Tensor, out: &Tensor, shape: &[usize], op: &str) -> Result<Tensor> {
    let view = |x: &Tensor| -> Result<Tensor> {
        if x.shape() == shape {
            Ok(x.clone())
        } else {
            x.view_with(x.layout().broadcast_to(shape, op)?)
        }
    };
    let v = view(x)?;
    if hazard(&v, out) {
        return view(&x.copy_to_new(x.dtype())?);
    }
    Ok(v)
}

/// torch refuses to write through a view where several elements share one memory location.
fn check_no_internal_overlap(t: &Tensor) -> Result<()> {
    if t.shape()
        .iter()
        .zip(t.strides())
        .any(|(&n, &s)| n > 1 && s == 0)
    {
        bail!(
            Runtime,
            "unsupported operation: more than one element of the written-to tensor refers to a \
             single memory location. Please clone() the tensor before performing the operation."
        );
    }
    Ok(())
}

/// Whether an integer tensor holds a zero (integer division checks this up front).
fn has_zero(t: &Tensor) -> bool {
    fn any_zero<T: Element>(t: &Tensor) -> bool {
        match t.contiguous() {
            // SAFETY: contiguous tensor of dtype T with numel elements.
            Ok(c) => unsafe { std::slice::from_raw_parts(c.data_ptr::<T>(), c.numel()) }
                .iter()
                .any(|&v| v == T::zero()),
            Err(_) => false,
        }
    }
    crate::dispatch_int!(t.dtype(), T => any_zero::<T>(t), _ => false)
}

/// True if every dimension of more than one element has stride 0 (a broadcast scalar).
fn is_splat(t: &Tensor) -> bool {
    t.shape()
        .iter()
        .zip(t.strides())
        .all(|(&n, &s)| n <= 1 || s == 0)
}

/// Reinterprets a value of one element type as another. Only called where both are the same
/// type (checked through `DTYPE`), to let generic code read an output slot as an input.
#[inline(always)]
fn same<S: Element, D: Element>(v: &S) -> D {
    debug_assert_eq!(S::DTYPE, D::DTYPE);
    // SAFETY: callers guarantee S and D are the same type.
    unsafe { std::mem::transmute_copy(v) }
}

/// One contiguous run: `o[i] = f(a[i], b[i])` where a splat operand (`sa`/`sb`) is read once.
/// An input may be the output itself (in-place) but never overlaps it otherwise; each aliasing
/// case gets its own loop so the compiler sees disjoint slices and vectorises.
///
/// # Safety
/// `o` is valid for `len` writes; `a`/`b` for `len` reads (1 if splat).
// Not inlined: zip2 calls it from two places, and one copy per kernel keeps build times sane.
#[inline(never)]
unsafe fn flat<A: Element, B: Element, O: Element>(
    o: *mut O,
    a: *const A,
    b: *const B,
    len: usize,
    sa: bool,
    sb: bool,
    f: impl Fn(A, B) -> O,
) {
    let a_is_o = !sa && A::DTYPE == O::DTYPE && std::ptr::eq(a.cast::<u8>(), o.cast::<u8>());
    let b_is_o = !sb && B::DTYPE == O::DTYPE && std::ptr::eq(b.cast::<u8>(), o.cast::<u8>());
    let (x0, y0) = (*a, *b);
    let os = std::slice::from_raw_parts_mut(o, len);
    match (sa, sb) {
        (true, true) => os.fill(f(x0, y0)),
        (false, true) if a_is_o => os.iter_mut().for_each(|z| *z = f(same(z), y0)),
        (false, true) => {
            let xs = std::slice::from_raw_parts(a, len);
            os.iter_mut().zip(xs).for_each(|(z, &x)| *z = f(x, y0));
        }
        (true, false) if b_is_o => os.iter_mut().for_each(|z| *z = f(x0, same(z))),
        (true, false) => {
            let ys = std::slice::from_raw_parts(b, len);
            os.iter_mut().zip(ys).for_each(|(z, &y)| *z = f(x0, y));
        }
        (false, false) => match (a_is_o, b_is_o) {
            (true, true) => os.iter_mut().for_each(|z| *z = f(same(z), same(z))),
            (true, false) => {
                let ys = std::slice::from_raw_parts(b, len);
                os.iter_mut().zip(ys).for_each(|(z, &y)| *z = f(same(z), y));
            }
            (false, true) => {
                let xs = std::slice::from_raw_parts(a, len);
                os.iter_mut().zip(xs).for_each(|(z, &x)| *z = f(x, same(z)));
            }
            (false, false) => {
                let xs = std::slice::from_raw_parts(a, len);
                let ys = std::slice::from_raw_parts(b, len);
                os.iter_mut()
                    .zip(xs)
                    .zip(ys)
                    .for_each(|((z, &x), &y)| *z = f(x, y));
            }
        },
    }
}

/// `out[i] = f(a[i], b[i])` over operands already broadcast to `out`'s shape. Flat loops when
/// `out` is contiguous and each input is contiguous or a broadcast scalar (split across threads
/// above [`PARALLEL_THRESHOLD`]); otherwise the strided engine, still using flat loops for
/// unit-stride runs. Inputs may be `out` itself in the same layout, nothing else overlapping.
pub fn zip2<A: Element, B: Element, O: Element>(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O + Sync + Send + Copy,
) {
    let n = out.numel();
    if n == 0 {
        return;
    }
    let (po, pa, pb) = (
        SendPtr(out.data_ptr::<O>()),
        SendPtr(a.data_ptr::<A>()),
        SendPtr(b.data_ptr::<B>()),
    );
    if n == 1 {
        // SAFETY: one element each.
        unsafe { *po.get() = f(*pa.get(), *pb.get()) };
        return;
    }
    if out.is_contiguous() {
        let kind = |t: &Tensor| {
            if t.is_contiguous() {
                Some(false)
            } else if is_splat(t) {
                Some(true)
            } else {
                None
            }
        };
        if let (Some(sa), Some(sb)) = (kind(a), kind(b)) {
            // SAFETY: every operand is contiguous over n elements or a single splat element.
            let run = move |start: usize, len: usize| unsafe {
                let a = if sa { pa.get() } else { pa.get().add(start) };
                let b = if sb { pb.get() } else { pb.get().add(start) };
                flat(po.get().add(start), a, b, len, sa, sb, f);
            };
            let threads = crate::cpu::threads();
            if n < PARALLEL_THRESHOLD || threads <= 1 {
                run(0, n);
            } else {
                let chunk = (n / (threads * 4)).max(PARALLEL_THRESHOLD / 4);
                crate::cpu::parallel_for(n.div_ceil(chunk), |c| {
                    let start = c * chunk;
                    run(start, chunk.min(n - start));
                });
            }
            return;
        }
    }
    for_each_run(
        out.shape(),
        [out.strides(), a.strides(), b.strides()],
        move |off, st, len| unsafe {
            // SAFETY: the engine hands out in-bounds runs of the views' layouts.
            let o = po.get().offset(off[0]);
            let (x, y) = (
                pa.get().offset(off[1]) as *const A,
                pb.get().offset(off[2]) as *const B,
            );
            if st[0] == 1 && (st[1] == 0 || st[1] == 1) && (st[2] == 0 || st[2] == 1) {
                flat(o, x, y, len, st[1] == 0, st[2] == 0, f);
            } else {
                for i in 0..len as isize {
                    *o.offset(i * st[0]) = f(*x.offset(i * st[1]), *y.offset(i * st[2]));
                }
            }
        },
    );
}

/// Broadcasts `a` and `b` to a common shape, converts both to `compute` dtype and allocates an
/// output of `out_dtype`: the shared front half of a binary op with its own kernel.
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

/// `torch.add(a, b)`.
pub fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Add(ONE), a, b)
}

/// `torch.sub(a, b)`: like torch, refuses bool tensors.
pub fn sub(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Sub(ONE), a, b)
}

/// `torch.mul(a, b)`.
pub fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Mul, a, b)
}

/// `torch.div(a, b)` (true division): integer inputs give the default float dtype.
pub fn div(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(BinaryOp::Div, a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t<T: Element>(v: Vec<T>, shape: &[usize]) -> Tensor {
        Tensor::from_vec(v, shape).unwrap()
    }

    #[test]
    fn broadcast_add_and_promotion() {
        let a = t(vec![1i32, 2, 3], &[3, 1]);
        let b = t(vec![0.5f32, 1.5], &[2]);
        let c = add(&a, &b).unwrap();
        assert_eq!(c.dtype(), DType::F32);
        assert_eq!(c.to_vec::<f32>(), vec![1.5, 2.5, 2.5, 3.5, 3.5, 4.5]);
    }

    #[test]
    fn in_place_writes_into_self() {
        let a = t(vec![1.0f32, 2.0, 3.0], &[3]);
        let r = binary_into(
            BinaryOp::Mul,
            &a,
            &Tensor::wrapped_scalar(Scalar::Int(2)).unwrap(),
            &a,
        )
        .unwrap();
        assert!(r.shares_storage(&a));
        assert_eq!(a.to_vec::<f32>(), vec![2.0, 4.0, 6.0]);
        let i = t(vec![1i64, 2], &[2]);
        let err = binary_into(BinaryOp::Div, &i, &i, &i).unwrap_err();
        assert!(err
            .message
            .contains("result type Float can't be cast to the desired output type Long"));
    }

    #[test]
    fn integer_division_by_zero_is_an_error() {
        let a = t(vec![1i64, 2], &[2]);
        let z = t(vec![1i64, 0], &[2]);
        for op in [
            BinaryOp::DivFloor,
            BinaryOp::DivTrunc,
            BinaryOp::Remainder,
            BinaryOp::Fmod,
        ] {
            assert_eq!(binary(op, &a, &z).unwrap_err().message, "ZeroDivisionError");
        }
    }

    #[test]
    fn strided_in_place_with_overlapping_operand() {
        // a += a.T on a square matrix must read the original values.
        let a = t(vec![1i64, 2, 3, 4], &[2, 2]);
        let at = a
            .view_with(crate::layout::Layout {
                shape: vec![2, 2],
                strides: vec![1, 2],
                offset: 0,
            })
            .unwrap();
        binary_into(BinaryOp::Add(ONE), &a, &at, &a).unwrap();
        assert_eq!(a.to_vec::<i64>(), vec![2, 5, 5, 8]);
    }
}
