//! A Python number as the core sees it, before it is given a dtype.

use crate::dtype::DType;
use crate::element::Element;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Scalar {
    /// The dtype torch gives a Python number in type promotion.
    pub fn dtype(self, default_float: DType) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => default_float,
        }
    }

    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }

    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::Int(i) => i,
            Scalar::Float(f) => f as i64,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Scalar::Float(_))
    }

    /// The value converted to `T` with torch's casting rules.
    pub fn to_elem<T: Element>(self) -> T {
        match self {
            Scalar::Bool(b) => b.cast(),
            Scalar::Int(i) => i.cast(),
            Scalar::Float(f) => f.cast(),
        }
    }

    pub fn from_elem<T: Element>(v: T) -> Scalar {
        match T::DTYPE {
            DType::Bool => Scalar::Bool(v.to_i64() != 0),
            d if d.is_floating_point() => Scalar::Float(v.to_f64()),
            _ => Scalar::Int(v.to_i64()),
        }
    }
}
