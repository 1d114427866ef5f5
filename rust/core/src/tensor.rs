//! `Tensor`: a cheap-to-clone handle to a strided view of a storage.

use crate::cpu;
use crate::device::Device;
use crate::dtype::{DType, Operand};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::layout::{checked_numel, Layout};
use crate::scalar::Scalar;
use crate::storage::{CpuBuffer, Storage};
use crate::{bail, dispatch_all};
use std::sync::Arc;

/// The empty storage behind [`Tensor::phantom`] layouts (exempt from bounds checks).
fn phantom_storage() -> &'static Arc<Storage> {
    static PHANTOM: std::sync::OnceLock<Arc<Storage>> = std::sync::OnceLock::new();
    PHANTOM.get_or_init(|| {
        Arc::new(Storage::zeroed(0, Device::Cpu).expect("an empty allocation cannot fail"))
    })
}

/// The data of a tensor: which storage, how it is viewed, and as what element type.
pub struct TensorImpl {
    pub storage: Arc<Storage>,
    pub layout: Layout,
    pub dtype: DType,
    /// A Python number turned into a 0-d tensor for an op: it takes part in type promotion
    /// with the lowest priority (torch's "wrapped number").
    pub wrapped_number: bool,
    /// Autograd state, allocated the first time autograd touches this tensor.
    pub autograd: std::sync::OnceLock<Box<crate::autograd::AutogradMeta>>,
    /// For a view made while grad mode was on: the tensor whose storage it views (never itself
    /// a view). In-place writes through the view rebase that tensor's history.
    pub view_base: Option<Tensor>,
}

/// A tensor handle. Cloning shares the same view; views made from it share the storage.
#[derive(Clone)]
pub struct Tensor(pub Arc<TensorImpl>);

impl Tensor {
    /// Wraps a storage in a view, checking the view stays inside it.
    pub fn from_parts(storage: Arc<Storage>, layout: Layout, dtype: DType) -> Result<Tensor> {
        let (_, end) = layout.storage_span();
        let phantom = Arc::ptr_eq(&storage, phantom_storage());
        if layout.numel() > 0 && end * dtype.size() > storage.nbytes() && !phantom {
            bail!(
                Runtime,
                "setStorage: sizes {:?}, strides {:?}, storage offset {}, and itemsize {} \
                 requiring a storage size of {} are out of bounds for storage of size {}",
                layout.shape,
                layout.strides,
                layout.offset,
                dtype.size(),
                end * dtype.size(),
                storage.nbytes()
            );
        }
        Ok(Tensor(Arc::new(TensorImpl {
            storage,
            layout,
            dtype,
            wrapped_number: false,
            autograd: Default::default(),
            view_base: None,
        })))
    }

    /// A new contiguous tensor filled with zeros (every dtype's zero is all-zero bits).
    pub fn zeros(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        let numel = checked_numel(shape, "zeros")?;
        let nbytes = numel
            .checked_mul(dtype.size())
            .ok_or_else(|| Error::runtime(format!("zeros: shape {shape:?} is too large")))?;
        let storage = Arc::new(Storage::zeroed(nbytes, device)?);
        Tensor::from_parts(storage, Layout::contiguous(shape), dtype)
    }

    /// A new contiguous tensor whose contents the caller is about to overwrite.
    pub fn empty(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        let numel = checked_numel(shape, "empty")?;
        let nbytes = numel
            .checked_mul(dtype.size())
            .ok_or_else(|| Error::runtime(format!("empty: shape {shape:?} is too large")))?;
        let storage = Arc::new(Storage::uninit(nbytes, device)?);
        Tensor::from_parts(storage, Layout::contiguous(shape), dtype)
    }

    /// A new contiguous CPU tensor left uninitialised, unlike [`Tensor::empty`]: only for an
    /// output that a kernel writes in full before anything reads it (see
    /// [`CpuBuffer::uninit`](crate::storage::CpuBuffer::uninit) for why it matters).
    pub fn empty_unzeroed(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let numel = checked_numel(shape, "empty")?;
        let nbytes = numel
            .checked_mul(dtype.size())
            .ok_or_else(|| Error::runtime(format!("empty: shape {shape:?} is too large")))?;
        let storage = Arc::new(Storage::cpu(crate::storage::CpuBuffer::uninit(nbytes)?));
        Tensor::from_parts(storage, Layout::contiguous(shape), dtype)
    }

    /// A new contiguous tensor for an op's output that its kernel writes in full (a map over
    /// the output, a copy or a fill): uninitialised on the CPU ([`Tensor::empty_unzeroed`]),
    /// plain device memory on a GPU.
    pub fn empty_output(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        match device {
            Device::Cpu => Tensor::empty_unzeroed(shape, dtype),
            _ => Tensor::empty(shape, dtype, device),
        }
    }

    pub fn full(shape: &[usize], value: Scalar, dtype: DType, device: Device) -> Result<Tensor> {
        let t = Tensor::empty(shape, dtype, device)?;
        t.fill_(value)?;
        Ok(t)
    }

    /// A CPU tensor that takes ownership of `data`.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let numel = checked_numel(shape, "tensor")?;
        if numel != data.len() {
            bail!(
                Runtime,
                "tensor: {} values do not fill shape {shape:?}",
                data.len()
            );
        }
        let t = Tensor::empty(shape, T::DTYPE, Device::Cpu)?;
        // SAFETY: fresh contiguous storage of exactly `numel` elements of T.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), t.data_ptr::<T>(), numel) };
        Ok(t)
    }

    pub fn scalar(value: Scalar, dtype: DType) -> Result<Tensor> {
        Tensor::full(&[], value, dtype, Device::Cpu)
    }

    /// A Python number as an op operand: 0-d, full precision (bool/int64/float64), and marked
    /// so type promotion treats it as a number, not a tensor.
    pub fn wrapped_scalar(value: Scalar) -> Result<Tensor> {
        let dtype = match value {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => DType::F64,
        };
        let t = Tensor::scalar(value, dtype)?;
        let inner = TensorImpl {
            storage: t.0.storage.clone(),
            layout: t.0.layout.clone(),
            dtype,
            wrapped_number: true,
            autograd: Default::default(),
            view_base: None,
        };
        Ok(Tensor(Arc::new(inner)))
    }

    /// How this tensor takes part in type promotion.
    pub fn operand(&self) -> Operand {
        if self.0.wrapped_number {
            let d = if self.dtype().is_floating_point() {
                crate::dtype::default_float()
            } else {
                self.dtype()
            };
            Operand::Scalar(d)
        } else if self.ndim() == 0 {
            Operand::ZeroDim(self.dtype())
        } else {
            Operand::Dim(self.dtype())
        }
    }

    /// Wraps foreign host memory (e.g. a NumPy array) without copying.
    ///
    /// # Safety
    /// See [`CpuBuffer::foreign`]; `layout` must address only memory inside the buffer.
    pub unsafe fn from_foreign(buffer: CpuBuffer, layout: Layout, dtype: DType) -> Result<Tensor> {
        Tensor::from_parts(Arc::new(Storage::cpu(buffer)), layout, dtype)
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }
    pub fn strides(&self) -> &[isize] {
        &self.0.layout.strides
    }
    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }
    pub fn offset(&self) -> usize {
        self.0.layout.offset
    }
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }
    pub fn device(&self) -> Device {
        self.0.storage.device()
    }
    pub fn storage(&self) -> &Arc<Storage> {
        &self.0.storage
    }
    pub fn ndim(&self) -> usize {
        self.0.layout.ndim()
    }
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }
    /// True if `self` and `other` view the same storage.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// Pointer to this view's first element (CPU only). Caller uses the view's strides.
    pub fn data_ptr<T: Element>(&self) -> *mut T {
        debug_assert_eq!(T::DTYPE, self.dtype());
        // SAFETY: from_parts checked the offset is inside the storage.
        unsafe { (self.0.storage.cpu_ptr() as *mut T).add(self.offset()) }
    }

    /// Untyped pointer to this view's first element (CPU only).
    pub fn data_ptr_raw(&self) -> *mut u8 {
        // SAFETY: from_parts checked the offset is inside the storage.
        unsafe {
            self.0
                .storage
                .cpu_ptr()
                .add(self.offset() * self.dtype().size())
        }
    }

    /// Address of the first element, as `Tensor.data_ptr()` reports it.
    pub fn address(&self) -> usize {
        self.0.storage.address() + self.offset() * self.dtype().size()
    }

    /// The same values on `device` (self if already there).
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        crate::cuda::transfer::to_device(self, device)
    }

    pub fn is_cuda(&self) -> bool {
        matches!(self.device(), Device::Cuda(_))
    }

    /// Another view of the same storage. Made in grad mode, it remembers its base, so that
    /// autograd can follow in-place writes through it.
    pub fn view_with(&self, layout: Layout) -> Result<Tensor> {
        let t = Tensor::from_parts(self.0.storage.clone(), layout, self.dtype())?;
        if !crate::autograd::is_grad_enabled() {
            return Ok(t);
        }
        let base = self.0.view_base.clone().unwrap_or_else(|| self.clone());
        let mut inner = Arc::into_inner(t.0).expect("a tensor made just now has one owner");
        inner.view_base = Some(base);
        Ok(Tensor(Arc::new(inner)))
    }

    /// A new handle viewing the same elements (a view of `self`).
    pub fn alias(&self) -> Tensor {
        self.view_with(self.layout().clone())
            .unwrap_or_else(|_| self.detach())
    }

    /// A tensor with a shape and contiguous strides but no memory, for replaying view ops on
    /// layouts alone. Reading its data is a bug.
    pub(crate) fn phantom(shape: &[usize], dtype: DType) -> Tensor {
        Tensor(Arc::new(TensorImpl {
            storage: phantom_storage().clone(),
            layout: Layout::contiguous(shape),
            dtype,
            wrapped_number: false,
            autograd: Default::default(),
            view_base: None,
        }))
    }

    /// Values in row-major order, converted to `T`.
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        let c = self
            .to_device(Device::Cpu)
            .and_then(|t| t.to_dtype(T::DTYPE))
            .and_then(|t| t.contiguous());
        match c {
            // SAFETY: contiguous, of dtype T, numel elements.
            Ok(c) => unsafe { std::slice::from_raw_parts(c.data_ptr::<T>(), c.numel()).to_vec() },
            Err(_) => Vec::new(),
        }
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> Result<Scalar> {
        if self.numel() != 1 {
            bail!(
                Runtime,
                "a Tensor with {} elements cannot be converted to Scalar",
                self.numel()
            );
        }
        let t = self.to_device(Device::Cpu)?;
        // SAFETY: one element at data_ptr.
        Ok(dispatch_all!(t.dtype(), T => Scalar::from_elem(unsafe { *t.data_ptr::<T>() })))
    }

    /// A contiguous tensor with the same values (self if already contiguous).
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        self.copy_to_new(self.dtype())
    }

    /// A new contiguous tensor with these values converted to `dtype`.
    pub fn copy_to_new(&self, dtype: DType) -> Result<Tensor> {
        let out = Tensor::empty(self.shape(), dtype, self.device())?;
        out.copy_from_unchecked(self)?;
        Ok(out)
    }

    /// Same values as `dtype` (self if already that dtype).
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        self.copy_to_new(dtype)
    }

    /// `self.copy_(src)`: broadcasts `src` to this shape and converts its dtype.
    /// `self.copy_(src)`: broadcasts `src` to this shape and converts its dtype; `src` may
    /// be on another device (as in torch, `copy_` is how values cross devices).
    pub fn copy_(&self, src: &Tensor) -> Result<()> {
        let src_layout = src.layout().broadcast_to(self.shape(), "copy_")?;
        let src = src.view_with(src_layout)?;
        let src = if src.device() == self.device() {
            src
        } else {
            src.contiguous()?.to_device(self.device())?
        };
        self.copy_from_unchecked(&src)?;
        self.storage().bump_version();
        Ok(())
    }

    /// Copies `src` (same shape and device) into self, converting dtype; reads before writes
    /// when the two overlap in memory by going through a temporary.
    fn copy_from_unchecked(&self, src: &Tensor) -> Result<()> {
        let src = if self.shares_storage(src) && self.layout() != src.layout() {
            src.copy_to_new(src.dtype())?
        } else {
            src.clone()
        };
        if self.is_cuda() {
            return crate::cuda::copy(self, &src);
        }
        dispatch_all!(self.dtype(), D => dispatch_all!(src.dtype(), S => unsafe {
            cpu::copy::cast_copy::<S, D>(
                self.shape(), self.data_ptr::<D>(), self.strides(),
                src.data_ptr::<S>(), src.strides(),
            )
        }));
        Ok(())
    }

    /// `self.fill_(value)`.
    pub fn fill_(&self, value: Scalar) -> Result<()> {
        if self.is_cuda() {
            let bits =
                dispatch_all!(self.dtype(), T => crate::element::to_bits::<T>(value.to_elem()));
            crate::cuda::fill(self, bits)?;
        } else {
            dispatch_all!(self.dtype(), T => unsafe {
                cpu::copy::fill::<T>(self.shape(), self.data_ptr::<T>(), self.strides(), value.to_elem())
            });
        }
        self.storage().bump_version();
        Ok(())
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor(shape={:?}, dtype={}, device={})",
            self.shape(),
            self.dtype(),
            self.device()
        )
    }
}
