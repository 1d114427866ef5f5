//! Element types and torch's type-promotion rules.

use std::fmt;

/// The element type of a tensor. Order of variants is irrelevant; promotion uses explicit tables.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DType {
    Bool,
    U8,
    I8,
    I16,
    I32,
    I64,
    F16,
    BF16,
    F32,
    F64,
}

/// Every dtype, in the order torch lists them in its promotion table.
pub const ALL_DTYPES: [DType; 10] = [
    DType::U8,
    DType::I8,
    DType::I16,
    DType::I32,
    DType::I64,
    DType::F16,
    DType::F32,
    DType::F64,
    DType::Bool,
    DType::BF16,
];

/// Coarse kind of a dtype, ordered: bool < integer < floating.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Category {
    Bool,
    Integer,
    Floating,
}

impl DType {
    /// The dtype floating kernels compute and keep statistics in: f64 for f64, f32 for every
    /// other floating type (the `Acc` of `element::Float`).
    pub const fn float_acc(self) -> DType {
        match self {
            DType::F64 => DType::F64,
            _ => DType::F32,
        }
    }

    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    pub const fn is_floating_point(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }

    pub const fn is_integral(self, include_bool: bool) -> bool {
        match self {
            DType::Bool => include_bool,
            DType::U8 | DType::I8 | DType::I16 | DType::I32 | DType::I64 => true,
            _ => false,
        }
    }

    pub const fn is_signed(self) -> bool {
        !matches!(self, DType::Bool | DType::U8)
    }

    pub const fn category(self) -> Category {
        match self {
            DType::Bool => Category::Bool,
            DType::F16 | DType::BF16 | DType::F32 | DType::F64 => Category::Floating,
            _ => Category::Integer,
        }
    }

    /// torch's spelling without the `torch.` prefix, e.g. `float32`.
    pub const fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parses torch's names and common aliases (`float`, `double`, `half`, `long`, `int` ...).
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" => DType::Bool,
            "uint8" => DType::U8,
            "int8" => DType::I8,
            "int16" | "short" => DType::I16,
            "int32" | "int" => DType::I32,
            "int64" | "long" => DType::I64,
            "float16" | "half" => DType::F16,
            "bfloat16" => DType::BF16,
            "float32" | "float" => DType::F32,
            "float64" | "double" => DType::F64,
            _ => return None,
        })
    }

    /// The dtype that holds values of both `self` and `other`, as `torch.promote_types`.
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        if self == other {
            return self;
        }
        let (a, b) = (self, other);
        match (a.category(), b.category()) {
            (Category::Bool, _) => b,
            (_, Category::Bool) => a,
            (Category::Floating, Category::Integer) => a,
            (Category::Integer, Category::Floating) => b,
            (Category::Floating, Category::Floating) => match (a, b) {
                (F16, BF16) | (BF16, F16) => F32,
                _ => {
                    if a.size() >= b.size() {
                        a
                    } else {
                        b
                    }
                }
            },
            (Category::Integer, Category::Integer) => {
                // uint8 mixes with a signed type: the smallest signed type that holds both.
                match (a, b) {
                    (U8, I8) | (I8, U8) => I16,
                    (U8, x) | (x, U8) => x,
                    _ => {
                        if a.size() >= b.size() {
                            a
                        } else {
                            b
                        }
                    }
                }
            }
        }
    }
}

/// torch's C++ `ScalarType` name (`Float`, `Long` ...), as its error messages spell dtypes.
pub fn scalar_type_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "Bool",
        DType::U8 => "Byte",
        DType::I8 => "Char",
        DType::I16 => "Short",
        DType::I32 => "Int",
        DType::I64 => "Long",
        DType::F16 => "Half",
        DType::BF16 => "BFloat16",
        DType::F32 => "Float",
        DType::F64 => "Double",
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "torch.{}", self.name())
    }
}

/// How an operand takes part in type promotion (torch's `ResultTypeState`): tensors with
/// dimensions outrank zero-dim tensors, which outrank Python numbers, unless a lower-ranked
/// operand is of a higher category (an int tensor plus a float number gives a float).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Operand {
    Dim(DType),
    ZeroDim(DType),
    /// A Python number; its dtype is bool, int64 or the default float dtype.
    Scalar(DType),
}

fn combine_categories(higher: Option<DType>, lower: Option<DType>) -> Option<DType> {
    match (higher, lower) {
        (None, l) => l,
        (h, None) => h,
        (Some(h), Some(l)) => {
            if h.is_floating_point() {
                Some(h)
            } else if h == DType::Bool || l.is_floating_point() {
                Some(h.promote(l))
            } else {
                Some(h)
            }
        }
    }
}

/// The result dtype of an operation over `operands`, as `torch.result_type`.
pub fn result_type(operands: &[Operand]) -> DType {
    let (mut dim, mut zero, mut scalar) = (None::<DType>, None::<DType>, None::<DType>);
    let merge = |slot: &mut Option<DType>, d: DType| *slot = Some(slot.map_or(d, |s| s.promote(d)));
    for op in operands {
        match *op {
            Operand::Dim(d) => merge(&mut dim, d),
            Operand::ZeroDim(d) => merge(&mut zero, d),
            Operand::Scalar(d) => merge(&mut scalar, d),
        }
    }
    combine_categories(dim, combine_categories(zero, scalar)).unwrap_or(DType::F32)
}

#[cfg(test)]
mod tests {
    use super::DType::*;
    use super::*;

    #[test]
    fn promote_table_matches_torch() {
        assert_eq!(U8.promote(I8), I16);
        assert_eq!(U8.promote(I32), I32);
        assert_eq!(Bool.promote(U8), U8);
        assert_eq!(I64.promote(F16), F16);
        assert_eq!(F16.promote(BF16), F32);
        assert_eq!(BF16.promote(F64), F64);
        assert_eq!(I8.promote(I16), I16);
        for a in ALL_DTYPES {
            for b in ALL_DTYPES {
                assert_eq!(a.promote(b), b.promote(a), "{a} {b}");
            }
        }
    }

    #[test]
    fn result_type_with_scalars() {
        assert_eq!(result_type(&[Operand::Dim(I32), Operand::Scalar(I64)]), I32);
        assert_eq!(result_type(&[Operand::Dim(I32), Operand::Scalar(F32)]), F32);
        assert_eq!(result_type(&[Operand::Dim(F16), Operand::Scalar(F32)]), F16);
        assert_eq!(result_type(&[Operand::Dim(U8), Operand::ZeroDim(I64)]), U8);
        assert_eq!(
            result_type(&[Operand::Dim(I64), Operand::ZeroDim(F64)]),
            F64
        );
        assert_eq!(
            result_type(&[Operand::Dim(Bool), Operand::Scalar(I64)]),
            I64
        );
        assert_eq!(
            result_type(&[Operand::Dim(F32), Operand::ZeroDim(F64)]),
            F32
        );
        assert_eq!(
            result_type(&[Operand::ZeroDim(I32), Operand::Scalar(F32)]),
            F32
        );
    }
}

static DEFAULT_FLOAT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(2);
const DEFAULT_CHOICES: [DType; 4] = [DType::F16, DType::BF16, DType::F32, DType::F64];

/// The dtype of float Python numbers and of float factories without `dtype=`
/// (`torch.get_default_dtype()`); float32 unless changed.
pub fn default_float() -> DType {
    DEFAULT_CHOICES[DEFAULT_FLOAT.load(std::sync::atomic::Ordering::Relaxed) as usize]
}

/// `torch.set_default_dtype`: only floating dtypes are allowed.
pub fn set_default_float(dtype: DType) -> crate::error::Result<()> {
    let idx = DEFAULT_CHOICES
        .iter()
        .position(|&d| d == dtype)
        .ok_or_else(|| {
            crate::error::Error::type_error(format!(
                "only floating-point types are supported as the default type, got {dtype}"
            ))
        })?;
    DEFAULT_FLOAT.store(idx as u8, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// Whether an op computed in `from` may write its result into a tensor of `to`
/// (`torch.can_cast`): no float to integer, nothing but bool to bool.
pub fn can_cast(from: DType, to: DType) -> bool {
    if from.is_floating_point() && !to.is_floating_point() {
        return false;
    }
    if from != DType::Bool && to == DType::Bool {
        return false;
    }
    true
}
