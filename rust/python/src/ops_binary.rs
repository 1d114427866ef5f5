//! Binary elementwise ops: Tensor methods, their in-place `name_` forms, `out=`, and every
//! arithmetic, bitwise and comparison operator. All of them go through one core entry point
//! (`binary` / `binary_into`) with a `BinaryOp`, so there is no per-op glue beyond the name.

use crate::creation::scalar_arg;
use crate::errors::IntoPyResult;
use crate::tensor::{maybe_operand, tensor_or_scalar, wrap, PyTensor};
use ferrotorch_core::autograd::functions::binary::{binary, binary_};
use ferrotorch_core::dtype::scalar_type_name;
use ferrotorch_core::layout::broadcast_shapes;
use ferrotorch_core::ops::binary::{binary_into, check_cast, BinaryOp, ONE};
use ferrotorch_core::{DType, Scalar, Tensor};
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;

/// A dunder's other operand: a Tensor or a Python number. Anything else fails extraction,
/// which makes PyO3 return `NotImplemented` so Python tries the reflected method.
pub struct Operand(pub Tensor);

impl<'a, 'py> FromPyObject<'a, 'py> for Operand {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        maybe_operand(&obj)
            .map(Operand)
            .ok_or_else(|| PyTypeError::new_err("expected a Tensor or a number"))
    }
}

/// `a (op) b`, written into `out` when given (resized by rebinding when its shape differs,
/// as torch resizes it).
fn compute(
    py: Python<'_>,
    op: BinaryOp,
    a: &Tensor,
    b: &Tensor,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let Some(out) = out.filter(|o| !o.is_none()) else {
        return Ok(wrap(py, binary(op, a, b).py()?)?.into_any());
    };
    let out = out.cast::<PyTensor>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{}(): argument 'out' must be Tensor, not {}",
            op.name(),
            out.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let dst = out.borrow().inner.clone();
    crate::autograd::check_out(op.name(), &[a, b])?;
    let shape = broadcast_shapes(a.shape(), b.shape(), op.name()).py()?;
    if dst.shape() == shape.as_slice() {
        binary_into(op, a, b, &dst).py()?;
    } else {
        let r = binary(op, a, b).py()?;
        check_cast(r.dtype(), dst.dtype()).py()?;
        let r = r.to_dtype(dst.dtype()).py()?;
        out.borrow_mut().inner = r;
    }
    Ok(out.clone().into_any().unbind())
}

/// `self.op_(other)`: the result is written into self's memory; returns self.
fn inplace<'py>(
    slf: &Bound<'py, PyTensor>,
    op: BinaryOp,
    b: &Tensor,
) -> PyResult<Bound<'py, PyTensor>> {
    let dst = slf.borrow().inner.clone();
    binary_(op, &dst, b).py()?;
    Ok(slf.clone())
}

/// torch's `alpha=` argument of `add`/`sub`.
fn alpha_arg(alpha: Option<&Bound<'_, PyAny>>, op: &str) -> PyResult<Scalar> {
    match alpha {
        Some(a) if !a.is_none() => scalar_arg(a, op),
        _ => Ok(ONE),
    }
}

/// The op selected by `div`'s `rounding_mode`.
fn div_op(rounding_mode: Option<&str>) -> PyResult<BinaryOp> {
    match rounding_mode {
        None => Ok(BinaryOp::Div),
        Some("trunc") => Ok(BinaryOp::DivTrunc),
        Some("floor") => Ok(BinaryOp::DivFloor),
        Some(m) => Err(PyRuntimeError::new_err(format!(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{m}'"
        ))),
    }
}

/// A method `name(other, *, out=None)`.
macro_rules! method {
    ($doc:literal, $name:ident, $arg:ident, $op:expr) => {
        #[pymethods]
        impl PyTensor {
            #[doc = $doc]
            #[pyo3(signature = ($arg, *, out=None))]
            fn $name(
                &self,
                py: Python<'_>,
                $arg: &Bound<'_, PyAny>,
                out: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let b = tensor_or_scalar($arg, stringify!($name))?;
                compute(py, $op, &self.inner, &b, out)
            }
        }
    };
}

/// An in-place method `name_(other)` returning self.
macro_rules! inplace_method {
    ($name:ident, $arg:ident, $op:expr) => {
        #[pymethods]
        impl PyTensor {
            #[doc = concat!("In-place version of `", stringify!($name), "`.")]
            fn $name<'py>(
                slf: &Bound<'py, Self>,
                $arg: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, Self>> {
                let b = tensor_or_scalar($arg, stringify!($name))?;
                inplace(slf, $op, &b)
            }
        }
    };
}

method!(
    "Elementwise product (`torch.mul`).",
    mul,
    other,
    BinaryOp::Mul
);
inplace_method!(mul_, other, BinaryOp::Mul);
method!(
    "`floor(self / other)` (`torch.floor_divide`).",
    floor_divide,
    other,
    BinaryOp::DivFloor
);
inplace_method!(floor_divide_, other, BinaryOp::DivFloor);
method!(
    "Python-style modulus: the sign of `other` (`torch.remainder`).",
    remainder,
    other,
    BinaryOp::Remainder
);
inplace_method!(remainder_, other, BinaryOp::Remainder);
method!(
    "C-style modulus: the sign of `self` (`torch.fmod`).",
    fmod,
    other,
    BinaryOp::Fmod
);
inplace_method!(fmod_, other, BinaryOp::Fmod);
method!(
    "`self ** exponent` (`torch.pow`).",
    pow,
    exponent,
    BinaryOp::Pow
);
inplace_method!(pow_, exponent, BinaryOp::Pow);
method!(
    "`self ** exponent` computed in float64 (`torch.float_power`).",
    float_power,
    exponent,
    BinaryOp::FloatPower
);
method!(
    "Quadrant-aware `atan(self / other)` (`torch.atan2`).",
    atan2,
    other,
    BinaryOp::Atan2
);
inplace_method!(atan2_, other, BinaryOp::Atan2);
method!(
    "`sqrt(self**2 + other**2)` (`torch.hypot`).",
    hypot,
    other,
    BinaryOp::Hypot
);
inplace_method!(hypot_, other, BinaryOp::Hypot);
method!(
    "Magnitude of `self` with the sign of `other` (`torch.copysign`).",
    copysign,
    other,
    BinaryOp::Copysign
);
inplace_method!(copysign_, other, BinaryOp::Copysign);
method!(
    "`self * log(other)`, 0 where `self == 0` (`torch.xlogy`).",
    xlogy,
    other,
    BinaryOp::Xlogy
);
inplace_method!(xlogy_, other, BinaryOp::Xlogy);
method!(
    "Elementwise maximum; NaN propagates (`torch.maximum`).",
    maximum,
    other,
    BinaryOp::Maximum
);
method!(
    "Elementwise minimum; NaN propagates (`torch.minimum`).",
    minimum,
    other,
    BinaryOp::Minimum
);
method!(
    "Elementwise maximum ignoring NaN (`torch.fmax`).",
    fmax,
    other,
    BinaryOp::Fmax
);
method!(
    "Elementwise minimum ignoring NaN (`torch.fmin`).",
    fmin,
    other,
    BinaryOp::Fmin
);
method!(
    "`self == other` as bool (`torch.eq`).",
    eq,
    other,
    BinaryOp::Eq
);
inplace_method!(eq_, other, BinaryOp::Eq);
method!(
    "`self != other` as bool (`torch.ne`).",
    ne,
    other,
    BinaryOp::Ne
);
inplace_method!(ne_, other, BinaryOp::Ne);
method!(
    "`self < other` as bool (`torch.lt`).",
    lt,
    other,
    BinaryOp::Lt
);
inplace_method!(lt_, other, BinaryOp::Lt);
method!(
    "`self <= other` as bool (`torch.le`).",
    le,
    other,
    BinaryOp::Le
);
inplace_method!(le_, other, BinaryOp::Le);
method!(
    "`self > other` as bool (`torch.gt`).",
    gt,
    other,
    BinaryOp::Gt
);
inplace_method!(gt_, other, BinaryOp::Gt);
method!(
    "`self >= other` as bool (`torch.ge`).",
    ge,
    other,
    BinaryOp::Ge
);
inplace_method!(ge_, other, BinaryOp::Ge);
method!(
    "Elementwise logical AND of truth values (`torch.logical_and`).",
    logical_and,
    other,
    BinaryOp::LogicalAnd
);
inplace_method!(logical_and_, other, BinaryOp::LogicalAnd);
method!(
    "Elementwise logical OR of truth values (`torch.logical_or`).",
    logical_or,
    other,
    BinaryOp::LogicalOr
);
inplace_method!(logical_or_, other, BinaryOp::LogicalOr);
method!(
    "Elementwise logical XOR of truth values (`torch.logical_xor`).",
    logical_xor,
    other,
    BinaryOp::LogicalXor
);
inplace_method!(logical_xor_, other, BinaryOp::LogicalXor);
method!(
    "Bitwise AND of integer or bool tensors (`torch.bitwise_and`).",
    bitwise_and,
    other,
    BinaryOp::BitAnd
);
inplace_method!(bitwise_and_, other, BinaryOp::BitAnd);
method!(
    "Bitwise OR of integer or bool tensors (`torch.bitwise_or`).",
    bitwise_or,
    other,
    BinaryOp::BitOr
);
inplace_method!(bitwise_or_, other, BinaryOp::BitOr);
method!(
    "Bitwise XOR of integer or bool tensors (`torch.bitwise_xor`).",
    bitwise_xor,
    other,
    BinaryOp::BitXor
);
inplace_method!(bitwise_xor_, other, BinaryOp::BitXor);
method!(
    "`self << other` (`torch.bitwise_left_shift`).",
    bitwise_left_shift,
    other,
    BinaryOp::Shl
);
inplace_method!(bitwise_left_shift_, other, BinaryOp::Shl);
method!(
    "`self >> other` (`torch.bitwise_right_shift`).",
    bitwise_right_shift,
    other,
    BinaryOp::Shr
);
inplace_method!(bitwise_right_shift_, other, BinaryOp::Shr);

#[pymethods]
impl PyTensor {
    /// `self + alpha * other` (`torch.add`).
    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn add(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let b = tensor_or_scalar(other, "add")?;
        compute(
            py,
            BinaryOp::Add(alpha_arg(alpha, "add")?),
            &self.inner,
            &b,
            out,
        )
    }

    /// In-place version of `add`.
    #[pyo3(signature = (other, *, alpha=None))]
    fn add_<'py>(
        slf: &Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let b = tensor_or_scalar(other, "add_")?;
        inplace(slf, BinaryOp::Add(alpha_arg(alpha, "add_")?), &b)
    }

    /// `self - alpha * other` (`torch.sub`); bool tensors are refused as in torch.
    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn sub(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let b = tensor_or_scalar(other, "sub")?;
        compute(
            py,
            BinaryOp::Sub(alpha_arg(alpha, "sub")?),
            &self.inner,
            &b,
            out,
        )
    }

    /// In-place version of `sub`.
    #[pyo3(signature = (other, *, alpha=None))]
    fn sub_<'py>(
        slf: &Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let b = tensor_or_scalar(other, "sub_")?;
        inplace(slf, BinaryOp::Sub(alpha_arg(alpha, "sub_")?), &b)
    }

    /// `self / other` (`torch.div`): true division unless `rounding_mode` is `'trunc'` or
    /// `'floor'`; integer true division gives the default float dtype.
    #[pyo3(signature = (other, *, rounding_mode=None, out=None))]
    fn div(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        rounding_mode: Option<&str>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let b = tensor_or_scalar(other, "div")?;
        compute(py, div_op(rounding_mode)?, &self.inner, &b, out)
    }

    /// In-place version of `div`.
    #[pyo3(signature = (other, *, rounding_mode=None))]
    fn div_<'py>(
        slf: &Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        rounding_mode: Option<&str>,
    ) -> PyResult<Bound<'py, Self>> {
        let b = tensor_or_scalar(other, "div_")?;
        inplace(slf, div_op(rounding_mode)?, &b)
    }

    /// In-place version of `float_power`: self must already be float64.
    fn float_power_<'py>(
        slf: &Bound<'py, Self>,
        exponent: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let b = tensor_or_scalar(exponent, "float_power_")?;
        let d = slf.borrow().inner.dtype();
        if d != DType::F64 {
            return Err(PyRuntimeError::new_err(format!(
                "the base given to float_power_ has dtype {} but the operation's result requires \
                 dtype Double",
                scalar_type_name(d)
            )));
        }
        inplace(slf, BinaryOp::FloatPower, &b)
    }

    fn __richcmp__(&self, py: Python<'_>, other: Operand, op: CompareOp) -> PyResult<Py<PyTensor>> {
        let op = match op {
            CompareOp::Lt => BinaryOp::Lt,
            CompareOp::Le => BinaryOp::Le,
            CompareOp::Eq => BinaryOp::Eq,
            CompareOp::Ne => BinaryOp::Ne,
            CompareOp::Gt => BinaryOp::Gt,
            CompareOp::Ge => BinaryOp::Ge,
        };
        wrap(py, binary(op, &self.inner, &other.0).py()?)
    }

    fn __pow__(
        &self,
        py: Python<'_>,
        other: Operand,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        wrap(py, binary(BinaryOp::Pow, &self.inner, &other.0).py()?)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        other: Operand,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        wrap(py, binary(BinaryOp::Pow, &other.0, &self.inner).py()?)
    }
    fn __ipow__(&self, other: Operand, _modulo: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        binary_(BinaryOp::Pow, &self.inner, &other.0).py().map(drop)
    }
}

/// `__op__`, `__rop__` and `__iop__` of one operator.
macro_rules! dunders {
    ($fwd:ident, $rev:ident, $inp:ident, $op:expr) => {
        #[pymethods]
        impl PyTensor {
            fn $fwd(&self, py: Python<'_>, other: Operand) -> PyResult<Py<PyTensor>> {
                wrap(py, binary($op, &self.inner, &other.0).py()?)
            }
            fn $rev(&self, py: Python<'_>, other: Operand) -> PyResult<Py<PyTensor>> {
                wrap(py, binary($op, &other.0, &self.inner).py()?)
            }
            fn $inp(&self, other: Operand) -> PyResult<()> {
                binary_($op, &self.inner, &other.0).py().map(drop)
            }
        }
    };
}

dunders!(__add__, __radd__, __iadd__, BinaryOp::Add(ONE));
dunders!(__sub__, __rsub__, __isub__, BinaryOp::Sub(ONE));
dunders!(__mul__, __rmul__, __imul__, BinaryOp::Mul);
dunders!(__truediv__, __rtruediv__, __itruediv__, BinaryOp::Div);
dunders!(
    __floordiv__,
    __rfloordiv__,
    __ifloordiv__,
    BinaryOp::DivFloor
);
dunders!(__mod__, __rmod__, __imod__, BinaryOp::Remainder);
dunders!(__and__, __rand__, __iand__, BinaryOp::BitAnd);
dunders!(__or__, __ror__, __ior__, BinaryOp::BitOr);
dunders!(__xor__, __rxor__, __ixor__, BinaryOp::BitXor);
dunders!(__lshift__, __rlshift__, __ilshift__, BinaryOp::Shl);
dunders!(__rshift__, __rrshift__, __irshift__, BinaryOp::Shr);

/// Module functions whose first argument may be a Python number (`torch.pow(2, t)`).
macro_rules! number_first {
    ($rust:ident, $name:tt, $arg:ident, $op:expr) => {
        #[doc = concat!("`torch.", $name, "(input, ", stringify!($arg), ")`; `input` may be a number.")]
        #[pyfunction]
        #[pyo3(name = $name, signature = (input, $arg, *, out=None))]
        fn $rust(
            py: Python<'_>,
            input: &Bound<'_, PyAny>,
            $arg: &Bound<'_, PyAny>,
            out: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Py<PyAny>> {
            let a = tensor_or_scalar(input, $name)?;
            let b = tensor_or_scalar($arg, $name)?;
            compute(py, $op, &a, &b, out)
        }
    };
}

number_first!(fn_pow, "pow", exponent, BinaryOp::Pow);
number_first!(
    fn_float_power,
    "float_power",
    exponent,
    BinaryOp::FloatPower
);
number_first!(fn_remainder, "remainder", other, BinaryOp::Remainder);
number_first!(fn_xlogy, "xlogy", other, BinaryOp::Xlogy);
number_first!(
    fn_bitwise_left_shift,
    "bitwise_left_shift",
    other,
    BinaryOp::Shl
);
number_first!(
    fn_bitwise_right_shift,
    "bitwise_right_shift",
    other,
    BinaryOp::Shr
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fn_pow, m)?)?;
    m.add_function(wrap_pyfunction!(fn_float_power, m)?)?;
    m.add_function(wrap_pyfunction!(fn_remainder, m)?)?;
    m.add_function(wrap_pyfunction!(fn_xlogy, m)?)?;
    m.add_function(wrap_pyfunction!(fn_bitwise_left_shift, m)?)?;
    m.add_function(wrap_pyfunction!(fn_bitwise_right_shift, m)?)?;
    Ok(())
}
