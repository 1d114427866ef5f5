//! Elementwise kernels: unary ops, binary ops and comparisons, where/clamp/lerp, and
//! isclose/allclose/equal (`kernels/unary.cu`, `kernels/binary.cu`).
//!
//! One program per (source, compute dtype) holds every op of the source; the op is a launch
//! argument. Callers have done all argument checking, type promotion and broadcasting: inputs
//! arrive as views of the output's shape in the compute dtype. An input may be a CPU tensor
//! of one element (torch lets a 0-d CPU tensor, such as a Python number, meet CUDA tensors):
//! its value travels as a launch argument, so `x * 2` costs no host-to-device copy.

use super::{device_of, geometry::coalesce, launch_config, ptr, type_name, Source};
use crate::dtype::DType;
use crate::element::to_bits;
use crate::error::Result;
use crate::layout::Layout;
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use crate::{cuda_launch, dispatch_all};
use cudarc::driver::DeviceRepr;

pub const UNARY: Source = Source {
    name: "unary",
    text: concat!(
        include_str!("kernels/elementwise.cuh"),
        include_str!("kernels/unary.cu")
    ),
};

pub const BINARY: Source = Source {
    name: "binary",
    text: concat!(
        include_str!("kernels/elementwise.cuh"),
        include_str!("kernels/binary.cu")
    ),
};

/// The specialisation of a program computing in `d`: the element type and its kind (which
/// ops exist for it), see `kernels/elementwise.cuh`.
fn defines(d: DType) -> [(&'static str, &'static str); 2] {
    let kind = match d {
        DType::Bool => "0",
        DType::I8 | DType::I16 | DType::I32 | DType::I64 => "1",
        DType::U8 => "2",
        DType::F16 | DType::BF16 | DType::F32 | DType::F64 => "3",
    };
    [("T", type_name(d)), ("KIND", kind)]
}

/// Every program this module can ask for.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = Vec::new();
    for d in crate::dtype::ALL_DTYPES {
        for s in [UNARY, BINARY] {
            v.push((s, defines(d).to_vec()));
        }
    }
    v
}

/// Unary ops with an output of the input's dtype; the order is `UnaryOp` of `unary.cu`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    Exp,
    Exp2,
    Log,
    Log2,
    Log10,
    Log1p,
    Expm1,
    Sqrt,
    Rsqrt,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Sigmoid,
    Erf,
    Erfc,
    Erfinv,
    Reciprocal,
    Floor,
    Ceil,
    Trunc,
    Round,
    Frac,
    RoundDecimals,
    Neg,
    Abs,
    Sign,
    Relu,
    Square,
    BitwiseNot,
    NanToNum,
    Gelu,
    GeluTanh,
}

/// Unary ops with a bool output; the order is `PredicateOp` of `unary.cu`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Predicate {
    IsNan,
    IsInf,
    IsFinite,
    IsPosInf,
    IsNegInf,
    LogicalNot,
}

/// Binary ops with an output of the compute dtype; the order is `BinaryOp` of `binary.cu`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    DivTrunc,
    DivFloor,
    Remainder,
    Fmod,
    Pow,
    Atan2,
    Hypot,
    Copysign,
    Xlogy,
    Maximum,
    Minimum,
    Fmax,
    Fmin,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    /// `a * gelu'(b)`: the gradient `a` at the input `b`.
    GeluBackward,
    GeluTanhBackward,
}

/// Binary ops with a bool output; the order is `CompareOp` of `binary.cu`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Xor,
}

/// Ops of three operands of one dtype (`ternary_*` in `binary.cu`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ternary {
    /// `clamp(a, min=b, max=c)`.
    Clamp,
    /// `clamp(a, min=b)`; the third operand is ignored.
    ClampMin,
    /// `clamp(a, max=c)`; the second operand is ignored.
    ClampMax,
    /// `lerp(a, end=b, weight=c)`.
    Lerp,
}

/// An input as a kernel reads it: device memory, or (null pointer) one value in `bits`.
struct Input<'a> {
    t: &'a Tensor,
    ptr: u64,
    bits: u64,
    /// A value's strides in the strided kernels: 0 in each of the output's dimensions.
    zeros: Vec<isize>,
}

impl<'a> Input<'a> {
    /// `t` as an input of an output of `ndim` dimensions.
    fn new(t: &'a Tensor, ndim: usize) -> Result<Input<'a>> {
        if t.is_cuda() {
            return Ok(Input {
                t,
                ptr: ptr(t),
                bits: 0,
                zeros: Vec::new(),
            });
        }
        // A CPU scalar, possibly broadcast (every stride 0): its one element.
        let one = t.view_with(Layout {
            shape: vec![],
            strides: vec![],
            offset: t.offset(),
        })?;
        Ok(Input {
            t,
            ptr: 0,
            bits: scalar_bits(one.item()?, t.dtype()),
            zeros: vec![0; ndim],
        })
    }

    fn strides(&self) -> &[isize] {
        if self.ptr == 0 {
            &self.zeros
        } else {
            self.t.strides()
        }
    }

    /// The element step of the contiguous kernels (1, or 0 for a value or broadcast scalar),
    /// or `None` when the input needs the strided kernel.
    fn step(&self) -> Option<i64> {
        let t = self.t;
        if self.ptr == 0
            || t.shape()
                .iter()
                .zip(t.strides())
                .all(|(&n, &s)| n <= 1 || s == 0)
        {
            Some(0)
        } else if t.is_contiguous() {
            Some(1)
        } else {
            None
        }
    }
}

/// `value` as the bytes of a `dtype` element, as kernels read number arguments.
pub fn scalar_bits(value: Scalar, dtype: DType) -> u64 {
    dispatch_all!(dtype, T => to_bits::<T>(value.to_elem()))
}

/// The contiguous steps of all inputs when `out` is contiguous and every input is contiguous
/// or a single value, else `None` (the strided kernel).
fn flat_steps<const N: usize>(out: &Tensor, inputs: &[Input; N]) -> Option<[i64; N]> {
    if !out.is_contiguous() {
        return None;
    }
    let mut steps = [0i64; N];
    for (s, x) in steps.iter_mut().zip(inputs) {
        *s = x.step()?;
    }
    Some(steps)
}

/// `out = op(x)` for an op of [`Unary`] with parameters `p` (bits, see `unary.cu`).
pub fn unary(op: Unary, out: &Tensor, x: &Tensor, p: [u64; 3]) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = defines(x.dtype());
    let (o, i, code, n64, cfg) = (ptr(out), ptr(x), op as i32, n as i64, launch_config(dev, n));
    if out.is_contiguous() && x.is_contiguous() {
        let f = dev.kernel(&UNARY, &defines, "unary_contiguous")?;
        return cuda_launch!(dev, f, "unary_contiguous", cfg; code, o, i, p[0], p[1], p[2], n64);
    }
    let [so, si] = coalesce(out.shape(), [out.strides(), x.strides()])?;
    let f = dev.kernel(&UNARY, &defines, "unary_strided")?;
    cuda_launch!(dev, f, "unary_strided", cfg; code, o, so, i, si, p[0], p[1], p[2], n64)
}

/// `out = op(x)` (bool `out`) for an op of [`Predicate`].
pub fn predicate(op: Predicate, out: &Tensor, x: &Tensor) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = defines(x.dtype());
    let (o, i, code, n64, cfg) = (ptr(out), ptr(x), op as i32, n as i64, launch_config(dev, n));
    if out.is_contiguous() && x.is_contiguous() {
        let f = dev.kernel(&UNARY, &defines, "predicate_contiguous")?;
        return cuda_launch!(dev, f, "predicate_contiguous", cfg; code, o, i, n64);
    }
    let [so, si] = coalesce(out.shape(), [out.strides(), x.strides()])?;
    let f = dev.kernel(&UNARY, &defines, "predicate_strided")?;
    cuda_launch!(dev, f, "predicate_strided", cfg; code, o, so, i, si, n64)
}

/// `out = a (op) b` computing in `a`'s dtype; `out` has that dtype. `alpha` scales `b` in
/// `Add`/`Sub` (torch's `a + alpha * b`).
pub fn binary(op: Binary, out: &Tensor, a: &Tensor, b: &Tensor, alpha: Scalar) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let dt = a.dtype();
    let defines = defines(dt);
    let inputs = [Input::new(a, out.ndim())?, Input::new(b, out.ndim())?];
    let [x, y] = &inputs;
    let al = scalar_bits(alpha, dt);
    let (o, code, n64, cfg) = (ptr(out), op as i32, n as i64, launch_config(dev, n));
    if let Some([sa, sb]) = flat_steps(out, &inputs) {
        let f = dev.kernel(&BINARY, &defines, "binary_contiguous")?;
        return cuda_launch!(dev, f, "binary_contiguous", cfg;
            code, o, x.ptr, sa, x.bits, y.ptr, sb, y.bits, al, n64);
    }
    let [so, ga, gb] = coalesce(out.shape(), [out.strides(), x.strides(), y.strides()])?;
    let f = dev.kernel(&BINARY, &defines, "binary_strided")?;
    cuda_launch!(dev, f, "binary_strided", cfg;
        code, o, so, x.ptr, ga, x.bits, y.ptr, gb, y.bits, al, n64)
}

/// `out = a (op) b` (bool `out`) comparing in `a`'s dtype.
pub fn compare(op: Compare, out: &Tensor, a: &Tensor, b: &Tensor) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = defines(a.dtype());
    let inputs = [Input::new(a, out.ndim())?, Input::new(b, out.ndim())?];
    let [x, y] = &inputs;
    let (o, code, n64, cfg) = (ptr(out), op as i32, n as i64, launch_config(dev, n));
    if let Some([sa, sb]) = flat_steps(out, &inputs) {
        let f = dev.kernel(&BINARY, &defines, "compare_contiguous")?;
        return cuda_launch!(dev, f, "compare_contiguous", cfg;
            code, o, x.ptr, sa, x.bits, y.ptr, sb, y.bits, n64);
    }
    let [so, ga, gb] = coalesce(out.shape(), [out.strides(), x.strides(), y.strides()])?;
    let f = dev.kernel(&BINARY, &defines, "compare_strided")?;
    cuda_launch!(dev, f, "compare_strided", cfg;
        code, o, so, x.ptr, ga, x.bits, y.ptr, gb, y.bits, n64)
}

/// `out = op(a, b, c)`, all of `out`'s dtype. An operand the op ignores may be any tensor of
/// that dtype and shape (e.g. `a` again).
pub fn ternary(op: Ternary, out: &Tensor, a: &Tensor, b: &Tensor, c: &Tensor) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = defines(out.dtype());
    let inputs = [
        Input::new(a, out.ndim())?,
        Input::new(b, out.ndim())?,
        Input::new(c, out.ndim())?,
    ];
    let [x, y, z] = &inputs;
    let (o, code, n64, cfg) = (ptr(out), op as i32, n as i64, launch_config(dev, n));
    if let Some([sa, sb, sc]) = flat_steps(out, &inputs) {
        let f = dev.kernel(&BINARY, &defines, "ternary_contiguous")?;
        return cuda_launch!(dev, f, "ternary_contiguous", cfg;
            code, o, x.ptr, sa, x.bits, y.ptr, sb, y.bits, z.ptr, sc, z.bits, n64);
    }
    let [so, ga, gb, gc] = coalesce(
        out.shape(),
        [out.strides(), x.strides(), y.strides(), z.strides()],
    )?;
    let f = dev.kernel(&BINARY, &defines, "ternary_strided")?;
    cuda_launch!(dev, f, "ternary_strided", cfg;
        code, o, so, x.ptr, ga, x.bits, y.ptr, gb, y.bits, z.ptr, gc, z.bits, n64)
}

/// `out = where(cond, a, b)`: `cond` is a bool CUDA tensor, `a` and `b` of `out`'s dtype.
pub fn where_(out: &Tensor, cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = defines(out.dtype());
    let inputs = [
        Input::new(cond, out.ndim())?,
        Input::new(a, out.ndim())?,
        Input::new(b, out.ndim())?,
    ];
    let [c, x, y] = &inputs;
    if c.ptr == 0 {
        // The kernel reads the condition from memory; callers move a CPU one over first.
        return Err(crate::Error::runtime(
            "where: the condition must be on the output's device",
        ));
    }
    let (o, n64, cfg) = (ptr(out), n as i64, launch_config(dev, n));
    if let Some([sc, sa, sb]) = flat_steps(out, &inputs) {
        let f = dev.kernel(&BINARY, &defines, "where_contiguous")?;
        return cuda_launch!(dev, f, "where_contiguous", cfg;
            o, c.ptr, sc, x.ptr, sa, x.bits, y.ptr, sb, y.bits, n64);
    }
    let [so, gc, ga, gb] = coalesce(
        out.shape(),
        [out.strides(), c.strides(), x.strides(), y.strides()],
    )?;
    let f = dev.kernel(&BINARY, &defines, "where_strided")?;
    cuda_launch!(dev, f, "where_strided", cfg;
        o, so, c.ptr, gc, x.ptr, ga, x.bits, y.ptr, gb, y.bits, n64)
}

/// The closeness test of `isclose` (`Close` in `binary.cu`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Close {
    rtol: f64,
    atol: f64,
    equal_nan: i32,
    /// Integer operands: the default float dtype is float64.
    wide: i32,
    /// Plain equality (`torch.equal`).
    exact: i32,
}

// SAFETY: plain old data with the C layout the kernels declare.
unsafe impl DeviceRepr for Close {}

fn close(rtol: f64, atol: f64, equal_nan: bool, exact: bool) -> Close {
    Close {
        rtol,
        atol,
        equal_nan: equal_nan as i32,
        wide: (crate::dtype::default_float() == DType::F64) as i32,
        exact: exact as i32,
    }
}

/// `out = isclose(a, b)` (bool `out`; `a`, `b` CUDA views of its shape, of one dtype).
pub fn isclose(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = defines(a.dtype());
    let c = close(rtol, atol, equal_nan, false);
    let inputs = [Input::new(a, out.ndim())?, Input::new(b, out.ndim())?];
    let [x, y] = &inputs;
    let (o, n64, cfg) = (ptr(out), n as i64, launch_config(dev, n));
    if let Some([sa, sb]) = flat_steps(out, &inputs) {
        let f = dev.kernel(&BINARY, &defines, "isclose_contiguous")?;
        return cuda_launch!(dev, f, "isclose_contiguous", cfg; o, x.ptr, sa, y.ptr, sb, c, n64);
    }
    let [so, ga, gb] = coalesce(out.shape(), [out.strides(), x.strides(), y.strides()])?;
    let f = dev.kernel(&BINARY, &defines, "isclose_strided")?;
    cuda_launch!(dev, f, "isclose_strided", cfg; o, so, x.ptr, ga, y.ptr, gb, c, n64)
}

/// Whether every pair of `a` and `b` (CUDA views of one shape and dtype) is close (`exact`:
/// equal). Reads one flag back from the device.
pub fn all_close(
    a: &Tensor,
    b: &Tensor,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    exact: bool,
) -> Result<bool> {
    let dev = device_of(a)?;
    let n = a.numel();
    if n == 0 {
        return Ok(true);
    }
    let flag = Tensor::full(&[1], Scalar::Int(1), DType::I32, a.device())?;
    let defines = defines(a.dtype());
    let c = close(rtol, atol, equal_nan, exact);
    let [ga, gb] = coalesce(a.shape(), [a.strides(), b.strides()])?;
    let (pf, pa, pb, n64) = (ptr(&flag), ptr(a), ptr(b), n as i64);
    let f = dev.kernel(&BINARY, &defines, "all_close")?;
    cuda_launch!(dev, f, "all_close", launch_config(dev, n); pf, pa, ga, pb, gb, c, n64)?;
    Ok(flag.item()?.to_i64() != 0)
}
