// im2col and its adjoint col2im (torch's unfold and fold). Specialised by T; im2col only
// moves bits, so the host picks an integer T of the element's size for it.
//
// cols is (planes, prod(kernel), prod(out)) contiguous: row k of plane p holds kernel offset
// k (row-major) of every window (row-major).

typedef typename Acc<T>::type A;

// A thread per column entry: the input element it copies, or zero in the padding.
extern "C" __global__ void im2col(T* cols, const T* x, Win w, i64 n) {
    const i64 plane = win_plane(w);
    FOR_EACH(e, n) {
        i64 o[3], k[3];
        const i64 r = split3(e, w.out, o);
        const i64 p = split3(r, w.kernel, k);
        T v = T();
        bool inside = true;
        i64 pos = 0;
        for (int d = 0; d < 3; ++d) {
            const i64 i = win_coord(w, d, o[d], k[d]);
            inside = inside && i >= 0 && i < w.size[d];
            pos = pos * w.size[d] + i;
        }
        if (inside) v = x[p * plane + pos];
        cols[e] = v;
    }
}

// A thread per output element gathers the column entries that land on it, so overlapping
// windows sum without atomics and in a fixed order (deterministic).
extern "C" __global__ void col2im(T* out, const T* cols, Win w, i64 n) {
    const i64 L = win_blocks(w), K = win_klen(w);
    FOR_EACH(e, n) {
        i64 c[3];
        const i64 p = split3(e, w.size, c);
        const T* src = cols + p * K * L;
        A acc = A(0);
        for (i64 k0 = 0; k0 < w.kernel[0]; ++k0) {
            const i64 o0 = window_of(w, 0, c[0], k0);
            if (o0 < 0) continue;
            for (i64 k1 = 0; k1 < w.kernel[1]; ++k1) {
                const i64 o1 = window_of(w, 1, c[1], k1);
                if (o1 < 0) continue;
                for (i64 k2 = 0; k2 < w.kernel[2]; ++k2) {
                    const i64 o2 = window_of(w, 2, c[2], k2);
                    if (o2 < 0) continue;
                    const i64 k = (k0 * w.kernel[1] + k1) * w.kernel[2] + k2;
                    const i64 l = (o0 * w.out[1] + o1) * w.out[2] + o2;
                    acc += widen(src[k * L + l]);
                }
            }
        }
        out[e] = narrow<T>(acc);
    }
}
