//! Typed elementwise loops over broadcast, strided operands. Operand 0 is the output.
//! Inputs must already be views of the output's shape (broadcast dims have stride 0).

use super::iter::{for_each_run, SendPtr};
use crate::element::Element;
use crate::tensor::Tensor;

/// `out[i] = f(a[i])`.
pub fn map1<A: Element, O: Element>(out: &Tensor, a: &Tensor, f: impl Fn(A) -> O + Sync) {
    let (o, pa) = (SendPtr(out.data_ptr::<O>()), SendPtr(a.data_ptr::<A>()));
    for_each_run(
        out.shape(),
        [out.strides(), a.strides()],
        |off, st, len| unsafe {
            let (o, pa) = (o.get().offset(off[0]), pa.get().offset(off[1]));
            if st == [1, 1] && std::ptr::eq(o.cast::<u8>(), pa.cast::<u8>()) {
                // In place: raw pointers only, since a `&mut` and a `&` slice may not alias.
                for i in 0..len {
                    *o.add(i) = f(*pa.add(i));
                }
            } else if st == [1, 1] {
                let os = std::slice::from_raw_parts_mut(o, len);
                let xs = std::slice::from_raw_parts(pa, len);
                for (y, &x) in os.iter_mut().zip(xs) {
                    *y = f(x);
                }
            } else {
                for i in 0..len as isize {
                    *o.offset(i * st[0]) = f(*pa.offset(i * st[1]));
                }
            }
        },
    );
}

/// `out[i] = f(a[i], b[i])`, with fast paths for contiguous operands and a broadcast scalar.
pub fn map2<A: Element, B: Element, O: Element>(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O + Sync,
) {
    let o = SendPtr(out.data_ptr::<O>());
    let (pa, pb) = (SendPtr(a.data_ptr::<A>()), SendPtr(b.data_ptr::<B>()));
    for_each_run(
        out.shape(),
        [out.strides(), a.strides(), b.strides()],
        |off, st, len| unsafe {
            let o = o.get().offset(off[0]);
            let (pa, pb) = (pa.get().offset(off[1]), pb.get().offset(off[2]));
            let os = || std::slice::from_raw_parts_mut(o, len);
            let in_place = std::ptr::eq(o.cast::<u8>(), pa.cast::<u8>())
                || std::ptr::eq(o.cast::<u8>(), pb.cast::<u8>());
            match st {
                // In place: raw pointers only, since a `&mut` and a `&` slice may not alias.
                [1, 1, 1] if in_place => {
                    for i in 0..len {
                        *o.add(i) = f(*pa.add(i), *pb.add(i));
                    }
                }
                [1, 1, 0] | [1, 0, 1] if in_place => {
                    for i in 0..len as isize {
                        *o.offset(i) = f(*pa.offset(i * st[1]), *pb.offset(i * st[2]));
                    }
                }
                [1, 1, 1] => {
                    let (xs, ys) = (
                        std::slice::from_raw_parts(pa, len),
                        std::slice::from_raw_parts(pb, len),
                    );
                    for ((z, &x), &y) in os().iter_mut().zip(xs).zip(ys) {
                        *z = f(x, y);
                    }
                }
                [1, 1, 0] => {
                    let (xs, y) = (std::slice::from_raw_parts(pa, len), *pb);
                    for (z, &x) in os().iter_mut().zip(xs) {
                        *z = f(x, y);
                    }
                }
                [1, 0, 1] => {
                    let (x, ys) = (*pa, std::slice::from_raw_parts(pb, len));
                    for (z, &y) in os().iter_mut().zip(ys) {
                        *z = f(x, y);
                    }
                }
                _ => {
                    for i in 0..len as isize {
                        *o.offset(i * st[0]) = f(*pa.offset(i * st[1]), *pb.offset(i * st[2]));
                    }
                }
            }
        },
    );
}

/// `out[i] = f(a[i], b[i], c[i])` (where, lerp, clamp with tensor bounds, addcmul ...).
pub fn map3<A: Element, B: Element, C: Element, O: Element>(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    f: impl Fn(A, B, C) -> O + Sync,
) {
    let o = SendPtr(out.data_ptr::<O>());
    let (pa, pb, pc) = (
        SendPtr(a.data_ptr::<A>()),
        SendPtr(b.data_ptr::<B>()),
        SendPtr(c.data_ptr::<C>()),
    );
    let strides = [out.strides(), a.strides(), b.strides(), c.strides()];
    for_each_run(out.shape(), strides, |off, st, len| unsafe {
        let o = o.get().offset(off[0]);
        let (pa, pb, pc) = (
            pa.get().offset(off[1]),
            pb.get().offset(off[2]),
            pc.get().offset(off[3]),
        );
        for i in 0..len as isize {
            *o.offset(i * st[0]) = f(
                *pa.offset(i * st[1]),
                *pb.offset(i * st[2]),
                *pc.offset(i * st[3]),
            );
        }
    });
}
