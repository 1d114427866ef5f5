//! Strided copy with dtype conversion: the kernel behind `contiguous`, `to(dtype)`, `copy_`
//! and every write of one view into another.

use super::iter::{for_each_run, SendPtr};
use crate::element::Element;

/// Copies `src` (read through `src_strides` from `src_ptr`) into `dst` through `dst_strides`,
/// converting `S` to `D`. Both pointers point at element 0 of their view; `shape` is shared.
///
/// # Safety
/// Both views must lie inside their allocations and `dst` must not overlap `src` unless
/// they are the same memory with the same strides.
pub unsafe fn cast_copy<S: Element, D: Element>(
    shape: &[usize],
    dst_ptr: *mut D,
    dst_strides: &[isize],
    src_ptr: *const S,
    src_strides: &[isize],
) {
    let (dst, src) = (SendPtr(dst_ptr), SendPtr(src_ptr as *mut S));
    for_each_run(
        shape,
        [dst_strides, src_strides],
        move |off, st, len| unsafe {
            let d = dst.get().offset(off[0]);
            let s = src.get().offset(off[1]) as *const S;
            if st == [1, 1] {
                let ds = std::slice::from_raw_parts_mut(d, len);
                let ss = std::slice::from_raw_parts(s, len);
                if S::DTYPE == D::DTYPE {
                    // Same type: a memcpy, written through the pointer cast the compiler can see.
                    std::ptr::copy(s as *const D, d, len);
                } else {
                    for (o, &i) in ds.iter_mut().zip(ss) {
                        *o = i.cast();
                    }
                }
            } else if st[1] == 0 {
                let v: D = (*s).cast();
                for i in 0..len as isize {
                    *d.offset(i * st[0]) = v;
                }
            } else {
                for i in 0..len as isize {
                    *d.offset(i * st[0]) = (*s.offset(i * st[1])).cast();
                }
            }
        },
    );
}

/// Writes `value` into every element of a strided view.
///
/// # Safety
/// The view must lie inside its allocation.
pub unsafe fn fill<T: Element>(shape: &[usize], ptr: *mut T, strides: &[isize], value: T) {
    let dst = SendPtr(ptr);
    for_each_run(shape, [strides], move |off, st, len| unsafe {
        let d = dst.get().offset(off[0]);
        if st[0] == 1 {
            std::slice::from_raw_parts_mut(d, len).fill(value);
        } else {
            for i in 0..len as isize {
                *d.offset(i * st[0]) = value;
            }
        }
    });
}
