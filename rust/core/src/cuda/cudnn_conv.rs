//! Convolution forward, backward-data and backward-filter through cuDNN's legacy API.
//!
//! Tensors are dense NCHW/NCDHW; a 1-d convolution runs as a 2-d one over a unit height. The
//! algorithm is cuDNN's own heuristic choice (`cudnnGet*Algorithm_v7`, no benchmarking): the
//! first one, in cuDNN's order, whose status is success, that passes the precision and
//! determinism switches and whose workspace can be allocated. The choice is cached per
//! problem, as torch's algorithm cache is.
//!
//! Each call returns `Ok(false)` when cuDNN declines (library missing, no usable algorithm, a
//! "not supported" or "bad parameter" status): the caller then runs im2col + cuBLAS. Only
//! failures of work cuDNN accepted (or of our own allocator) are errors.

use super::cudnn::{self, cudnn_err, data_type, int, ConvDesc, FilterDesc, TensorDesc};
use super::memory::CudaBuffer;
use super::{device_of, ptr};
use crate::dtype::DType;
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::Tensor;
use cudarc::cudnn::{result, sys};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::Mutex;

/// Stride, padding, dilation (one per spatial dim) and groups of a convolution.
#[derive(Clone, Debug)]
pub struct Geometry<'a> {
    pub stride: &'a [usize],
    pub padding: &'a [usize],
    pub dilation: &'a [usize],
    pub groups: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Direction {
    Forward,
    BackwardData,
    BackwardFilter,
}

/// cuDNN's `cudnnConvolution*AlgoPerf_t` (all three share this layout) with the enums read as
/// plain integers, so a value this build's bindings do not know cannot be undefined behaviour.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Perf {
    algo: u32,
    status: u32,
    time: f32,
    memory: usize,
    determinism: u32,
    math_type: u32,
    reserved: [i32; 3],
}

/// The chosen algorithm and math type of one problem.
#[derive(Clone, Copy)]
struct Choice {
    algo: u32,
    math: sys::cudnnMathType_t,
}

/// What identifies a problem for the algorithm cache.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    dir: Direction,
    device: usize,
    dtype: DType,
    x: Vec<i32>,
    w: Vec<i32>,
    geometry: Vec<i32>,
    tf32: bool,
    deterministic: bool,
}

static CACHE: Mutex<Option<HashMap<Key, Choice>>> = Mutex::new(None);

/// Why cuDNN was not used: declined (fall back) or failed (an error for the caller).
enum Stop {
    Declined,
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Failed(e)
    }
}

/// A cuDNN status: "bad parameter" and "not supported" decline, anything else fails.
fn status(what: &'static str) -> impl Fn(result::CudnnError) -> Stop {
    move |e| match e.0 as u32 / 1000 {
        2 | 3 => Stop::Declined,
        _ => Stop::Failed(cudnn_err(what)(e)),
    }
}

/// The math type torch asks for: tensor cores for half types; for float, TF32 only when
/// allowed (`CUDNN_DEFAULT_MATH` permits TF32 on Ampere and later, `CUDNN_FMA_MATH` excludes
/// it); double has no tensor-core path.
fn math_type(dt: DType) -> sys::cudnnMathType_t {
    use sys::cudnnMathType_t::*;
    match dt {
        DType::F16 | DType::BF16 => CUDNN_TENSOR_OP_MATH,
        DType::F32 if !cudnn::allow_tf32() => CUDNN_FMA_MATH,
        _ => CUDNN_DEFAULT_MATH,
    }
}

fn math_from(v: u32) -> Option<sys::cudnnMathType_t> {
    use sys::cudnnMathType_t::*;
    Some(match v {
        0 => CUDNN_DEFAULT_MATH,
        1 => CUDNN_TENSOR_OP_MATH,
        2 => CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION,
        3 => CUDNN_FMA_MATH,
        _ => return None,
    })
}

/// Sizes as cuDNN sees them: a unit height inserted for 1-d problems.
fn dims4(shape: &[usize]) -> std::result::Result<Vec<i32>, String> {
    let mut v: Vec<i32> = shape
        .iter()
        .map(|&n| int(n))
        .collect::<std::result::Result<_, _>>()?;
    if v.len() == 3 {
        v.insert(2, 1);
    }
    Ok(v)
}

/// The problem's descriptors, built once per call.
struct Descs {
    x: TensorDesc,
    w: FilterDesc,
    y: TensorDesc,
    conv: ConvDesc,
}

/// The three tensors of a problem in cuDNN's roles: `x` the convolution's input, `w` its
/// filter, `y` its output; the direction says which one is written.
struct Problem<'a> {
    dir: Direction,
    x: &'a Tensor,
    w: &'a Tensor,
    y: &'a Tensor,
    g: &'a Geometry<'a>,
}

impl Problem<'_> {
    fn key(&self, dev: usize) -> std::result::Result<Key, String> {
        let mut geometry: Vec<i32> = Vec::new();
        for v in [self.g.stride, self.g.padding, self.g.dilation] {
            for &n in v {
                geometry.push(int(n)?);
            }
        }
        geometry.push(int(self.g.groups)?);
        Ok(Key {
            dir: self.dir,
            device: dev,
            dtype: self.x.dtype(),
            x: dims4(self.x.shape())?,
            w: dims4(self.w.shape())?,
            geometry,
            tf32: cudnn::allow_tf32(),
            deterministic: cudnn::deterministic(),
        })
    }

    fn descriptors(&self, key: &Key) -> std::result::Result<Descs, Stop> {
        let dt = data_type(self.x.dtype()).ok_or(Stop::Declined)?;
        let compute = if self.x.dtype() == DType::F64 {
            sys::cudnnDataType_t::CUDNN_DATA_DOUBLE
        } else {
            sys::cudnnDataType_t::CUDNN_DATA_FLOAT
        };
        let nd = self.g.stride.len();
        let ints = |v: &[usize], unit: i32| -> Vec<i32> {
            let mut out: Vec<i32> = v.iter().map(|&n| n as i32).collect();
            if nd == 1 {
                out.insert(0, unit);
            }
            out
        };
        // `key` already checked that every size fits in an int.
        let (pad, stride, dil) = (
            ints(self.g.padding, 0),
            ints(self.g.stride, 1),
            ints(self.g.dilation, 1),
        );
        let y = dims4(self.y.shape()).map_err(|_| Stop::Declined)?;
        Ok(Descs {
            x: TensorDesc::new(dt, &key.x).map_err(status("cudnnSetTensorNdDescriptor"))?,
            w: FilterDesc::new(dt, &key.w).map_err(status("cudnnSetFilterNdDescriptor"))?,
            y: TensorDesc::new(dt, &y).map_err(status("cudnnSetTensorNdDescriptor"))?,
            conv: ConvDesc::new(
                compute,
                &pad,
                &stride,
                &dil,
                self.g.groups as i32,
                math_type(self.x.dtype()),
            )
            .map_err(status("cudnnSetConvolutionNdDescriptor"))?,
        })
    }
}

/// cuDNN's heuristic ranking for the problem.
///
/// # Safety
/// The handle and descriptors are live.
unsafe fn candidates(
    h: sys::cudnnHandle_t,
    dir: Direction,
    d: &Descs,
) -> std::result::Result<Vec<Perf>, Stop> {
    const MAX: usize = 16;
    let mut perf = [Perf::default(); MAX];
    let mut n = 0i32;
    let p = perf.as_mut_ptr();
    match dir {
        Direction::Forward => result::get_convolution_forward_algorithm(
            h,
            d.x.0,
            d.w.0,
            d.conv.0,
            d.y.0,
            MAX as i32,
            &mut n,
            p as *mut _,
        )
        .map_err(status("cudnnGetConvolutionForwardAlgorithm_v7"))?,
        Direction::BackwardData => result::get_convolution_backward_data_algorithm(
            h,
            d.w.0,
            d.y.0,
            d.conv.0,
            d.x.0,
            MAX as i32,
            &mut n,
            p as *mut _,
        )
        .map_err(status("cudnnGetConvolutionBackwardDataAlgorithm_v7"))?,
        Direction::BackwardFilter => result::get_convolution_backward_filter_algorithm(
            h,
            d.x.0,
            d.y.0,
            d.conv.0,
            d.w.0,
            MAX as i32,
            &mut n,
            p as *mut _,
        )
        .map_err(status("cudnnGetConvolutionBackwardFilterAlgorithm_v7"))?,
    }
    Ok(perf[..(n.max(0) as usize).min(MAX)].to_vec())
}

/// The workspace `algo` needs, or a refusal of the algorithm.
///
/// # Safety
/// The handle and descriptors are live; `algo` is below the direction's algorithm count.
unsafe fn workspace(
    h: sys::cudnnHandle_t,
    dir: Direction,
    d: &Descs,
    algo: u32,
) -> std::result::Result<usize, result::CudnnError> {
    // SAFETY (transmutes): the enums are `repr(u32)` with discriminants 0..COUNT, and
    // `usable` only admits algorithms below the count.
    match dir {
        Direction::Forward => result::get_convolution_forward_workspace_size(
            h,
            d.x.0,
            d.w.0,
            d.conv.0,
            d.y.0,
            std::mem::transmute::<u32, sys::cudnnConvolutionFwdAlgo_t>(algo),
        ),
        Direction::BackwardData => result::get_convolution_backward_data_workspace_size(
            h,
            d.w.0,
            d.y.0,
            d.conv.0,
            d.x.0,
            std::mem::transmute::<u32, sys::cudnnConvolutionBwdDataAlgo_t>(algo),
        ),
        Direction::BackwardFilter => result::get_convolution_backward_filter_workspace_size(
            h,
            d.x.0,
            d.y.0,
            d.conv.0,
            d.w.0,
            std::mem::transmute::<u32, sys::cudnnConvolutionBwdFilterAlgo_t>(algo),
        ),
    }
}

/// Whether a ranked algorithm may be used: a success status, a known algorithm and math type,
/// no TF32 for float unless allowed (torch's check), deterministic when asked.
fn usable(p: &Perf, dir: Direction, dt: DType) -> Option<Choice> {
    let count = match dir {
        Direction::Forward => {
            sys::cudnnConvolutionFwdAlgo_t::CUDNN_CONVOLUTION_FWD_ALGO_COUNT as u32
        }
        Direction::BackwardData => {
            sys::cudnnConvolutionBwdDataAlgo_t::CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT as u32
        }
        Direction::BackwardFilter => {
            sys::cudnnConvolutionBwdFilterAlgo_t::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT as u32
        }
    };
    let math = math_from(p.math_type)?;
    let ok = p.status == 0
        && p.algo < count
        && !(dt == DType::F32
            && !cudnn::allow_tf32()
            && math != sys::cudnnMathType_t::CUDNN_FMA_MATH)
        && !(cudnn::deterministic() && p.determinism != 1);
    ok.then_some(Choice { algo: p.algo, math })
}

/// Runs the problem with `choice`; `ws` is the workspace.
///
/// # Safety
/// The handle and descriptors are live and describe the three tensors, which are dense and on
/// the handle's device; `choice.algo` is below the direction's algorithm count.
unsafe fn execute(
    h: sys::cudnnHandle_t,
    p: &Problem,
    d: &Descs,
    choice: Choice,
    ws: &CudaBuffer,
) -> std::result::Result<(), result::CudnnError> {
    // Scaling factors are double for double data and float otherwise.
    let (one64, zero64, one32, zero32) = (1f64, 0f64, 1f32, 0f32);
    let (one, zero) = if p.x.dtype() == DType::F64 {
        (
            &one64 as *const f64 as *const c_void,
            &zero64 as *const f64 as *const c_void,
        )
    } else {
        (
            &one32 as *const f32 as *const c_void,
            &zero32 as *const f32 as *const c_void,
        )
    };
    let (px, pw, py) = (
        ptr(p.x) as *mut c_void,
        ptr(p.w) as *mut c_void,
        ptr(p.y) as *mut c_void,
    );
    let (wsp, wsn) = (ws.ptr() as *mut c_void, ws.nbytes());
    match p.dir {
        Direction::Forward => result::convolution_forward(
            h,
            one,
            d.x.0,
            px,
            d.w.0,
            pw,
            d.conv.0,
            std::mem::transmute::<u32, sys::cudnnConvolutionFwdAlgo_t>(choice.algo),
            wsp,
            wsn,
            zero,
            d.y.0,
            py,
        ),
        Direction::BackwardData => result::convolution_backward_data(
            h,
            one,
            d.w.0,
            pw,
            d.y.0,
            py,
            d.conv.0,
            std::mem::transmute::<u32, sys::cudnnConvolutionBwdDataAlgo_t>(choice.algo),
            wsp,
            wsn,
            zero,
            d.x.0,
            px,
        ),
        Direction::BackwardFilter => result::convolution_backward_filter(
            h,
            one,
            d.x.0,
            px,
            d.y.0,
            py,
            d.conv.0,
            std::mem::transmute::<u32, sys::cudnnConvolutionBwdFilterAlgo_t>(choice.algo),
            wsp,
            wsn,
            zero,
            d.w.0,
            pw,
        ),
    }
}

fn is_oom(e: &Error) -> bool {
    e.kind == ErrorKind::OutOfMemory
}

fn run(p: Problem) -> Result<bool> {
    let dev = device_of(p.x)?;
    let Ok(h) = cudnn::handle(dev) else {
        return Ok(false);
    };
    let Ok(key) = p.key(dev.ordinal) else {
        return Ok(false);
    };
    let handle = h.0.lock().unwrap_or_else(|e| e.into_inner());
    dev.bind()?;
    let attempt = || -> std::result::Result<(), Stop> {
        let d = p.descriptors(&key)?;
        let cached = CACHE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|c| c.get(&key).copied());
        let (choice, ws) = match cached {
            Some(c) => {
                d.conv
                    .set_math(c.math)
                    .map_err(status("cudnnSetConvolutionMathType"))?;
                // SAFETY: live handle and descriptors; a cached algorithm passed `usable`.
                let n = unsafe { workspace(*handle, p.dir, &d, c.algo) }
                    .map_err(status("cudnnGetConvolutionWorkspaceSize"))?;
                (c, CudaBuffer::alloc(dev, n)?)
            }
            None => {
                let mut found = None;
                // SAFETY: live handle and descriptors.
                for perf in unsafe { candidates(*handle, p.dir, &d) }? {
                    let Some(c) = usable(&perf, p.dir, p.x.dtype()) else {
                        continue;
                    };
                    if d.conv.set_math(c.math).is_err() {
                        continue;
                    }
                    // SAFETY: as above; `usable` checked the algorithm's range.
                    let Ok(n) = (unsafe { workspace(*handle, p.dir, &d, c.algo) }) else {
                        continue;
                    };
                    match CudaBuffer::alloc(dev, n) {
                        Ok(ws) => {
                            found = Some((c, ws));
                            break;
                        }
                        // A workspace too large for what is free: try the next algorithm.
                        Err(e) if is_oom(&e) => continue,
                        Err(e) => return Err(Stop::Failed(e)),
                    }
                }
                let (c, ws) = found.ok_or(Stop::Declined)?;
                CACHE
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert_with(HashMap::new)
                    .insert(key.clone(), c);
                (c, ws)
            }
        };
        // SAFETY: the descriptors describe the dense tensors of `p` on this device; the
        // handle is bound to the device's stream, so the call is ordered with every other op
        // and the workspace is freed (stream-ordered) only after it.
        unsafe { execute(*handle, &p, &d, choice, &ws) }.map_err(status(match p.dir {
            Direction::Forward => "cudnnConvolutionForward",
            Direction::BackwardData => "cudnnConvolutionBackwardData",
            Direction::BackwardFilter => "cudnnConvolutionBackwardFilter",
        }))?;
        Ok(())
    };
    // A cuDNN symbol resolves lazily; `version` checked they all exist, so a panic here would
    // be a cudarc bug, still not allowed to reach Python.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(attempt))
        .unwrap_or_else(|_| Err(Stop::Failed(Error::runtime("cuDNN call panicked"))));
    drop(handle);
    match outcome {
        Ok(()) => {
            let written = match p.dir {
                Direction::Forward => p.y,
                Direction::BackwardData => p.x,
                Direction::BackwardFilter => p.w,
            };
            written.storage().bump_version();
            Ok(true)
        }
        Err(Stop::Declined) => Ok(false),
        Err(Stop::Failed(e)) => Err(e),
    }
}

/// `y = conv(x, w)`: dense `x (N, C, *S)`, `w (K, C / groups, *kernel)` and a fresh dense `y`
/// of the output's shape, one floating dtype, one device.
pub fn forward(x: &Tensor, w: &Tensor, y: &Tensor, g: &Geometry) -> Result<bool> {
    run(Problem {
        dir: Direction::Forward,
        x,
        w,
        y,
        g,
    })
}

/// `dx = conv_backward_data(w, dy)`: the gradient of [`forward`]'s input (and a transposed
/// convolution's forward); `dx` is fresh and dense.
pub fn backward_data(w: &Tensor, dy: &Tensor, dx: &Tensor, g: &Geometry) -> Result<bool> {
    run(Problem {
        dir: Direction::BackwardData,
        x: dx,
        w,
        y: dy,
        g,
    })
}

/// `dw = conv_backward_filter(x, dy)`: the gradient of [`forward`]'s filter; `dw` is fresh
/// and dense.
pub fn backward_filter(x: &Tensor, dy: &Tensor, dw: &Tensor, g: &Geometry) -> Result<bool> {
    run(Problem {
        dir: Direction::BackwardFilter,
        x,
        w: dw,
        y: dy,
        g,
    })
}
