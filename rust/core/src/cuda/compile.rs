//! Kernel sources compiled by NVRTC for the device's own architecture, at first use.
//!
//! A kernel is named by its source, a set of `#define`s (the dtypes it is specialised for) and
//! its function name. The machine code (CUBIN) is cached in memory per device and on disk under
//! `$FERROTORCH_KERNEL_CACHE` (default `~/.cache/ferrotorch/kernels`), keyed by a hash of the
//! source, the defines, the architecture and the NVRTC version, so a process pays for NVRTC
//! once per specialisation and machine. Nothing here needs a GPU except loading the result,
//! which lets a test on a machine without one compile every kernel.

use super::device::{caught, driver_err, guarded, CudaDevice};
use crate::error::{Error, Result};
use cudarc::driver::{CudaFunction, CudaModule};
use cudarc::nvrtc::{sys as nvrtc, Ptx};
use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

/// Declarations every kernel source starts with (dtypes, conversions, strided indexing).
const COMMON: &str = include_str!("kernels/common.cuh");

/// A `.cu` file of `kernels/`.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub name: &'static str,
    pub text: &'static str,
}

/// `#define NAME VALUE` pairs a source is specialised with.
pub type Defines<'a> = &'a [(&'a str, &'a str)];

fn full_text(source: &Source, defines: Defines) -> String {
    let mut s = String::new();
    for (k, v) in defines {
        s.push_str(&format!("#define {k} {v}\n"));
    }
    s.push_str(COMMON);
    s.push('\n');
    s.push_str(source.text);
    s
}

fn nvrtc_call(what: &str, r: nvrtc::nvrtcResult) -> Result<()> {
    if r == nvrtc::nvrtcResult::NVRTC_SUCCESS {
        Ok(())
    } else {
        Err(Error::runtime(format!("NVRTC error: {what}: {r:?}")))
    }
}

/// NVRTC's `(major, minor)` version, opening the library on first use.
pub fn nvrtc_version() -> Result<(i32, i32)> {
    guarded("loading NVRTC (libnvrtc.so)", || {
        let (mut major, mut minor) = (0, 0);
        // SAFETY: two out-parameters.
        nvrtc_call("nvrtcVersion", unsafe {
            nvrtc::nvrtcVersion(&mut major, &mut minor)
        })?;
        Ok((major, minor))
    })
}

/// Compiles `source` specialised by `defines` into a CUBIN for `sm_{arch}` (e.g. 90). Errors
/// carry NVRTC's log.
pub fn compile(source: &Source, defines: Defines, arch: u32) -> Result<Vec<u8>> {
    nvrtc_version()?; // opens the library (quietly) or says why it cannot
    let text = full_text(source, defines);
    caught("NVRTC", || compile_text(source.name, &text, arch))
}

/// Compiles kernel code given as text (after the common declarations), e.g. to check it.
pub fn compile_str(name: &str, text: &str, arch: u32) -> Result<Vec<u8>> {
    nvrtc_version()?;
    let full = format!("{COMMON}\n{text}");
    caught("NVRTC", || compile_text(name, &full, arch))
}

fn compile_text(name: &str, text: &str, arch: u32) -> Result<Vec<u8>> {
    let src = CString::new(text).map_err(|_| Error::runtime("kernel source contains NUL"))?;
    let cname = CString::new(name).map_err(|_| Error::runtime("kernel name contains NUL"))?;
    let options: Vec<CString> = [
        format!("--gpu-architecture=sm_{arch}"),
        "--std=c++17".into(),
        // Precise math, as torch's kernels: no fast-math, IEEE division and square root.
        "--fmad=true".into(),
    ]
    .into_iter()
    .map(|o| CString::new(o).expect("options have no NUL"))
    .collect();
    let option_ptrs: Vec<*const c_char> = options.iter().map(|o| o.as_ptr()).collect();
    let mut prog: nvrtc::nvrtcProgram = std::ptr::null_mut();
    // SAFETY: valid C strings; the program is destroyed below on every path.
    unsafe {
        nvrtc_call(
            "nvrtcCreateProgram",
            nvrtc::nvrtcCreateProgram(
                &mut prog,
                src.as_ptr(),
                cname.as_ptr(),
                0,
                std::ptr::null(),
                std::ptr::null(),
            ),
        )?;
        let compiled =
            nvrtc::nvrtcCompileProgram(prog, option_ptrs.len() as i32, option_ptrs.as_ptr());
        let result = if compiled == nvrtc::nvrtcResult::NVRTC_SUCCESS {
            let mut size = 0usize;
            nvrtc_call(
                "nvrtcGetCUBINSize",
                nvrtc::nvrtcGetCUBINSize(prog, &mut size),
            )
            .and_then(|_| {
                let mut cubin = vec![0u8; size];
                nvrtc_call(
                    "nvrtcGetCUBIN",
                    nvrtc::nvrtcGetCUBIN(prog, cubin.as_mut_ptr() as *mut c_char),
                )
                .map(|_| cubin)
            })
        } else {
            Err(Error::runtime(format!(
                "NVRTC could not compile kernel source {name} for sm_{arch}:\n{}",
                program_log(prog)
            )))
        };
        nvrtc::nvrtcDestroyProgram(&mut prog);
        result
    }
}

/// # Safety
/// `prog` must be a live NVRTC program.
unsafe fn program_log(prog: nvrtc::nvrtcProgram) -> String {
    let mut size = 0usize;
    if nvrtc::nvrtcGetProgramLogSize(prog, &mut size) != nvrtc::nvrtcResult::NVRTC_SUCCESS {
        return String::new();
    }
    let mut log = vec![0u8; size];
    nvrtc::nvrtcGetProgramLog(prog, log.as_mut_ptr() as *mut c_char);
    String::from_utf8_lossy(&log)
        .trim_end_matches('\0')
        .to_string()
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("FERROTORCH_KERNEL_CACHE") {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("ferrotorch").join("kernels"))
}

/// CUBIN of `source` for `arch`, from the disk cache or NVRTC (then stored). A cache that
/// cannot be read or written is skipped, never an error.
fn cubin(source: &Source, defines: Defines, arch: u32) -> Result<Vec<u8>> {
    let version = nvrtc_version()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (full_text(source, defines), arch, version).hash(&mut h);
    let file = cache_dir().map(|d| {
        d.join(format!(
            "{}-sm{arch}-nvrtc{}.{}-{:016x}.cubin",
            source.name,
            version.0,
            version.1,
            h.finish()
        ))
    });
    if let Some(Ok(bytes)) = file.as_ref().map(std::fs::read) {
        return Ok(bytes);
    }
    let bytes = compile(source, defines, arch)?;
    if let Some(path) = file {
        // Write then rename, so a concurrent reader never sees half a file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let stored = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| std::fs::write(&tmp, &bytes))
            .and_then(|_| std::fs::rename(&tmp, &path));
        if stored.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(bytes)
}

impl CudaDevice {
    /// The kernel `function` of `source` specialised by `defines`, compiled and loaded on
    /// first use. Launches are hot, so a cache hit allocates nothing: entries are found by a
    /// hash and confirmed by comparing their parts.
    pub fn kernel(
        &self,
        source: &Source,
        defines: Defines,
        function: &str,
    ) -> Result<CudaFunction> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (source.name, defines, function).hash(&mut h);
        let hash = h.finish();
        let mut cache = self.kernels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = cache.functions.get(&hash).and_then(|entries| {
            entries
                .iter()
                .find(|e| e.is(source, defines, function))
                .map(|e| e.f.clone())
        }) {
            return Ok(f);
        }
        let mut module_key = source.name.to_string();
        for (k, v) in defines {
            module_key.push_str(&format!("|{k}={v}"));
        }
        let module = match cache.modules.get(&module_key) {
            Some(m) => m.clone(),
            None => {
                let arch = (self.capability.0 * 10 + self.capability.1) as u32;
                let image = cubin(source, defines, arch)?;
                let m = self
                    .ctx
                    .load_module(Ptx::from_binary(image))
                    .map_err(driver_err("cuModuleLoadData"))?;
                cache.modules.insert(module_key, m.clone());
                m
            }
        };
        let f = module
            .load_function(function)
            .map_err(driver_err(&format!("kernel {function} of {}", source.name)))?;
        cache.functions.entry(hash).or_default().push(Entry {
            source: source.name,
            defines: defines
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            function: function.to_string(),
            f: f.clone(),
        });
        Ok(f)
    }
}

/// Loaded modules (one per source and defines) and the functions taken from them.
#[derive(Default)]
pub(crate) struct KernelCache {
    modules: HashMap<String, Arc<CudaModule>>,
    functions: HashMap<u64, Vec<Entry>>,
}

struct Entry {
    source: &'static str,
    defines: Vec<(String, String)>,
    function: String,
    f: CudaFunction,
}

impl Entry {
    fn is(&self, source: &Source, defines: Defines, function: &str) -> bool {
        self.source == source.name
            && self.function == function
            && self.defines.len() == defines.len()
            && self
                .defines
                .iter()
                .zip(defines)
                .all(|((k, v), (k2, v2))| k == k2 && v == v2)
    }
}
