//! Tensors to and from safetensors files. The `safetensors` crate writes headers and parses and
//! validates them (offsets inside the file, no overlaps, header size limits); this module maps
//! dtypes, makes saves atomic and durable, and memory-maps loads so tensors share the file's pages.

use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::storage::{CpuBuffer, Storage};
use crate::tensor::Tensor;
use safetensors::tensor::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a file holds: its tensors in file order, and its string metadata.
pub struct Loaded {
    pub tensors: Vec<(String, Tensor)>,
    pub metadata: HashMap<String, String>,
}

fn to_file_dtype(dtype: DType) -> Dtype {
    match dtype {
        DType::Bool => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::I8 => Dtype::I8,
        DType::I16 => Dtype::I16,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
    }
}

fn from_file_dtype(dtype: Dtype, name: &str) -> Result<DType> {
    Ok(match dtype {
        Dtype::BOOL => DType::Bool,
        Dtype::U8 => DType::U8,
        Dtype::I8 => DType::I8,
        Dtype::I16 => DType::I16,
        Dtype::I32 => DType::I32,
        Dtype::I64 => DType::I64,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        other => {
            return Err(Error::not_implemented(format!(
                "tensor '{name}' has dtype {other:?}, which ferrotorch does not support"
            )))
        }
    })
}

/// A contiguous CPU tensor as the crate's serialisation input.
struct HostView {
    tensor: Tensor,
    shape: Vec<usize>,
}

impl View for HostView {
    fn dtype(&self) -> Dtype {
        to_file_dtype(self.tensor.dtype())
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        let n = self.data_len();
        if n == 0 {
            return Cow::Borrowed(&[]);
        }
        // SAFETY: the tensor is contiguous, on the CPU and n bytes long; `self` keeps it alive.
        Cow::Borrowed(unsafe { std::slice::from_raw_parts(self.tensor.data_ptr_raw(), n) })
    }

    fn data_len(&self) -> usize {
        self.tensor.numel() * self.tensor.dtype().size()
    }
}

fn host_views(tensors: &[(String, Tensor)]) -> Result<Vec<(String, HostView)>> {
    tensors
        .iter()
        .map(|(name, t)| {
            let tensor = t.to_device(Device::Cpu)?.contiguous()?;
            let shape = tensor.shape().to_vec();
            Ok((name.clone(), HostView { tensor, shape }))
        })
        .collect()
}

fn format_error(what: &str, e: safetensors::SafeTensorError) -> Error {
    Error::runtime(format!("{what}: not a valid safetensors file ({e})"))
}

/// The whole file as bytes (for writing to a Python file object).
pub fn save_bytes(
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let views = host_views(tensors)?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| format_error("save", e))
}

/// Writes the file so that a crash at any moment leaves either the old file or the complete
/// new one at `path`: the data goes to a temporary file beside it, is flushed to disk, and
/// only then renamed over `path` (rename within a directory is atomic on POSIX).
pub fn save_file(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let views = host_views(tensors)?;
    let io = |e: std::io::Error| Error::runtime(format!("save: {}: {e}", path.display()));
    let temporary = temporary_path(path);
    let written = (|| -> Result<()> {
        // The crate writes through a private (0600) temporary file; the checkpoint gets the
        // permissions of the file it replaces, or those of a new file (umask applied).
        let permissions = match std::fs::metadata(path) {
            Ok(existing) => existing.permissions(),
            Err(_) => {
                std::fs::File::create(&temporary).map_err(io)?;
                std::fs::metadata(&temporary).map_err(io)?.permissions()
            }
        };
        safetensors::serialize_to_file(views, Some(metadata), &temporary)
            .map_err(|e| Error::runtime(format!("save: {}: {e}", path.display())))?;
        std::fs::set_permissions(&temporary, permissions).map_err(io)?;
        std::fs::File::open(&temporary)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written?;
    sync_directory(path);
    Ok(())
}

fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    path.with_file_name(unique)
}

/// Makes the rename itself durable. Best effort: some file systems refuse to sync directories.
fn sync_directory(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Loads a file through a private (copy-on-write) memory map: tensors use the file's pages
/// without a copy, and writing into a loaded tensor never changes the file.
pub fn load_file(path: &Path) -> Result<Loaded> {
    let what = format!("load: {}", path.display());
    let io = |e: std::io::Error| Error::runtime(format!("{what}: {e}"));
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len < 8 {
        return Err(Error::runtime(format!(
            "{what}: not a valid safetensors file (only {len} bytes)"
        )));
    }
    // SAFETY: a private mapping; another process truncating the file while it is mapped would
    // fault on access, as with any mapped file (ferrotorch's own saves replace, never truncate).
    let mut map = unsafe { memmap2::MmapOptions::new().map_copy(&file) }.map_err(io)?;
    let base = map.as_mut_ptr();
    let bytes: &[u8] = &map;
    // SAFETY: `bytes` points into `map`, which `Arc` keeps alive as the owner of every tensor.
    let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) };
    load_from(&what, bytes, base, Arc::new(map))
}

/// Loads from bytes already in memory (a Python file object's contents).
pub fn load_bytes(mut data: Vec<u8>) -> Result<Loaded> {
    let base = data.as_mut_ptr();
    // SAFETY: the Vec's heap block does not move when the Vec does; `Arc` keeps it alive.
    let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(base, data.len()) };
    load_from("load", bytes, base, Arc::new(data))
}

fn load_from<O: Send + Sync + 'static>(
    what: &str,
    bytes: &'static [u8],
    base: *mut u8,
    owner: Arc<O>,
) -> Result<Loaded> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| format_error(what, e))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format_error(what, e))?;
    let mut views = file.tensors();
    views.sort_by_key(|(_, v)| v.data().as_ptr() as usize);
    let mut tensors = Vec::with_capacity(views.len());
    for (name, view) in views {
        let dtype = from_file_dtype(view.dtype(), &name)
            .map_err(|e| Error::runtime(format!("{what}: {}", e.message)))?;
        let data = view.data();
        if dtype == DType::Bool && data.iter().any(|&b| b > 1) {
            return Err(Error::runtime(format!(
                "{what}: bool tensor '{name}' holds bytes other than 0 and 1"
            )));
        }
        let offset = data.as_ptr() as usize - bytes.as_ptr() as usize;
        let layout = Layout::contiguous(view.shape());
        let buffer = if (data.as_ptr() as usize) % dtype.size() == 0 {
            let owner: Box<dyn std::any::Any + Send + Sync> = Box::new(owner.clone());
            // SAFETY: the range lies inside the mapping (the crate validated the offsets) and
            // is aligned for the dtype; `owner` keeps the mapping alive.
            unsafe { CpuBuffer::foreign(base.add(offset), data.len(), owner) }
        } else {
            // Files from other writers may place tensors at offsets the dtype cannot be read
            // from directly: those tensors are copied into aligned memory.
            let copy = CpuBuffer::zeroed(data.len())?;
            // SAFETY: both ranges are data.len() bytes and distinct allocations.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), copy.as_ptr(), data.len()) };
            copy
        };
        tensors.push((
            name,
            Tensor::from_parts(Arc::new(Storage::cpu(buffer)), layout, dtype)?,
        ));
    }
    let metadata = header.metadata().clone().unwrap_or_default();
    Ok(Loaded { tensors, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(String, Tensor)> {
        vec![
            (
                "w".into(),
                Tensor::from_vec(vec![1.5f32, -2.0, 3.25, 0.0, 7.0, 8.0], &[2, 3]).unwrap(),
            ),
            ("n".into(), Tensor::from_vec(vec![3i64], &[]).unwrap()),
            (
                "e".into(),
                Tensor::from_vec(Vec::<f64>::new(), &[0, 4]).unwrap(),
            ),
        ]
    }

    fn values(t: &Tensor) -> Vec<f64> {
        t.to_dtype(DType::F64).unwrap().to_vec::<f64>()
    }

    #[test]
    fn file_round_trip_keeps_values_shapes_and_dtypes() {
        let dir = std::env::temp_dir().join(format!("ft_ser_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.safetensors");
        let meta = HashMap::from([("k".to_string(), "v".to_string())]);
        save_file(&path, &sample(), meta.clone()).unwrap();
        let loaded = load_file(&path).unwrap();
        assert_eq!(loaded.metadata, meta);
        let by_name: HashMap<_, _> = loaded.tensors.into_iter().collect();
        for (name, t) in sample() {
            let got = &by_name[&name];
            assert_eq!(got.dtype(), t.dtype());
            assert_eq!(got.shape(), t.shape());
            assert_eq!(values(got), values(&t));
        }
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncated_bytes_are_an_error_at_every_length() {
        let bytes = save_bytes(&sample(), HashMap::new()).unwrap();
        assert!(load_bytes(bytes.clone()).is_ok());
        for n in 0..bytes.len() {
            assert!(load_bytes(bytes[..n].to_vec()).is_err(), "length {n}");
        }
    }

    #[test]
    fn bool_bytes_other_than_zero_and_one_are_refused() {
        let t = Tensor::from_vec(vec![true, false], &[2]).unwrap();
        let mut bytes = save_bytes(&[("b".into(), t)], HashMap::new()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] = 7;
        assert!(load_bytes(bytes).is_err());
    }
}
