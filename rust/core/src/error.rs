//! One error type for the core. The binding maps each kind to the Python exception torch raises.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Which Python exception an error becomes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorKind {
    /// Shape, dtype or device mismatch and most misuse: `RuntimeError`.
    Runtime,
    /// An index or dimension out of range: `IndexError`.
    Index,
    /// A bad argument value: `ValueError`.
    Value,
    /// An argument of the wrong type: `TypeError`.
    Type,
    /// Not implemented for this dtype/device yet: `NotImplementedError`.
    NotImplemented,
    /// A device allocation that did not fit: `OutOfMemoryError` (a `RuntimeError`).
    OutOfMemory,
}

/// An error with a message that names the op and the shapes/dtypes/devices involved.
#[derive(Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// An error raised by user code the core called back into (a Python hook or custom
    /// Function during backward), carried through unchanged so the binding can re-raise it.
    pub foreign: Option<Arc<dyn Any + Send + Sync>>,
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}, {:?})", self.kind, self.message)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            foreign: None,
        }
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }
    pub fn index(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Index, message)
    }
    pub fn value(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Value, message)
    }
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Type, message)
    }
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotImplemented, message)
    }
    /// Wraps an error object of the caller's world (e.g. a Python exception).
    pub fn foreign(payload: Arc<dyn Any + Send + Sync>, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Runtime,
            message: message.into(),
            foreign: Some(payload),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `return Err(Error::runtime(format!(...)))` in one line.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($arg)*)))
    };
}
