// Max and average pooling, forward and backward. Specialised by T (every dtype but bool).
// A thread per output element forward; backward a thread per input element gathers the
// gradients of the windows that cover it (no atomics: deterministic).

typedef typename Acc<T>::type A;

template <class X> __device__ __forceinline__ bool is_nan(X x) { return x != x; }

// The maximum of each window and its flat position in the plane. torch's rule: an element
// replaces the running maximum if greater or NaN (ties keep the first maximum, a NaN
// propagates). A window over padding only yields `lowest` (T's bytes) at position -1.
extern "C" __global__ void max_pool(T* out, i64* idx, const T* x, Win w,
                                    unsigned long long lowest, i64 n) {
    const i64 plane = win_plane(w);
    FOR_EACH(e, n) {
        i64 o[3];
        const i64 p = split3(e, w.out, o);
        const T* src = x + p * plane;
        i64 at = -1;
        A best = A(0);
        for (i64 k0 = 0; k0 < w.kernel[0]; ++k0) {
            const i64 i0 = win_coord(w, 0, o[0], k0);
            if (i0 < 0 || i0 >= w.size[0]) continue;
            for (i64 k1 = 0; k1 < w.kernel[1]; ++k1) {
                const i64 i1 = win_coord(w, 1, o[1], k1);
                if (i1 < 0 || i1 >= w.size[1]) continue;
                for (i64 k2 = 0; k2 < w.kernel[2]; ++k2) {
                    const i64 i2 = win_coord(w, 2, o[2], k2);
                    if (i2 < 0 || i2 >= w.size[2]) continue;
                    const i64 pos = (i0 * w.size[1] + i1) * w.size[2] + i2;
                    const A v = widen(src[pos]);
                    if (at < 0 || v > best || is_nan(v)) {
                        best = v;
                        at = pos;
                    }
                }
            }
        }
        idx[e] = at;
        out[e] = at >= 0 ? src[at] : *reinterpret_cast<const T*>(&lowest);
    }
}

// The gradient of max_pool: input element i sums the gradients of the windows whose index
// names it. Only windows that contain i can name it, so each thread visits at most
// prod(kernel) of them.
extern "C" __global__ void max_pool_backward(T* gin, const T* grad, const i64* idx, Win w, i64 n) {
    const i64 L = win_blocks(w);
    FOR_EACH(e, n) {
        i64 c[3];
        const i64 p = split3(e, w.size, c);
        const i64 pos = (c[0] * w.size[1] + c[1]) * w.size[2] + c[2];
        const T* g = grad + p * L;
        const i64* at = idx + p * L;
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
                    const i64 l = (o0 * w.out[1] + o1) * w.out[2] + o2;
                    if (at[l] == pos) acc += widen(g[l]);
                }
            }
        }
        gin[e] = narrow<T>(acc);
    }
}

// Clamped extent [lo, hi) of window o along d for average pooling (dilation 1), and its
// extent counting the padding (torch's pool_size), returned.
__device__ __forceinline__ i64 avg_extent(const Win& w, int d, i64 o, i64* lo, i64* hi) {
    const i64 start = o * w.stride[d] - w.pad[d];
    const i64 end = imin(start + w.kernel[d], w.size[d] + w.pad[d]);
    *lo = imax(start, 0);
    *hi = imin(end, w.size[d]);
    return end - start;
}

// torch's divisor of window o: `divisor` if non-zero, else its size counting padding
// (count_include_pad) or the input elements it covers.
__device__ __forceinline__ i64 avg_divisor(const Win& w, const i64* o, int count_include_pad,
                                           i64 divisor) {
    if (divisor != 0) return divisor;
    i64 pool = 1, inside = 1;
    for (int d = 0; d < 3; ++d) {
        i64 lo, hi;
        pool *= avg_extent(w, d, o[d], &lo, &hi);
        inside *= hi > lo ? hi - lo : 0;
    }
    return count_include_pad ? pool : inside;
}

extern "C" __global__ void avg_pool(T* out, const T* x, Win w, int count_include_pad,
                                    i64 divisor, i64 n) {
    const i64 plane = win_plane(w);
    FOR_EACH(e, n) {
        i64 o[3], lo[3], hi[3];
        const i64 p = split3(e, w.out, o);
        for (int d = 0; d < 3; ++d) avg_extent(w, d, o[d], &lo[d], &hi[d]);
        const T* src = x + p * plane;
        A sum = A(0);
        for (i64 i0 = lo[0]; i0 < hi[0]; ++i0)
            for (i64 i1 = lo[1]; i1 < hi[1]; ++i1)
                for (i64 i2 = lo[2]; i2 < hi[2]; ++i2)
                    sum += widen(src[(i0 * w.size[1] + i1) * w.size[2] + i2]);
        out[e] = narrow<T>(sum / (A)avg_divisor(w, o, count_include_pad, divisor));
    }
}

// The windows [lo, hi) along d that contain input coordinate i (dilation 1).
__device__ __forceinline__ void covering(const Win& w, int d, i64 i, i64* lo, i64* hi) {
    const i64 t = i + w.pad[d];
    *lo = t < w.kernel[d] ? 0 : (t - w.kernel[d]) / w.stride[d] + 1;
    *hi = imin(t / w.stride[d] + 1, w.out[d]);
}

extern "C" __global__ void avg_pool_backward(T* gin, const T* grad, Win w, int count_include_pad,
                                             i64 divisor, i64 n) {
    const i64 L = win_blocks(w);
    FOR_EACH(e, n) {
        i64 c[3], lo[3], hi[3];
        const i64 p = split3(e, w.size, c);
        for (int d = 0; d < 3; ++d) covering(w, d, c[d], &lo[d], &hi[d]);
        const T* g = grad + p * L;
        A acc = A(0);
        i64 o[3];
        for (o[0] = lo[0]; o[0] < hi[0]; ++o[0])
            for (o[1] = lo[1]; o[1] < hi[1]; ++o[1])
                for (o[2] = lo[2]; o[2] < hi[2]; ++o[2]) {
                    const i64 l = (o[0] * w.out[1] + o[1]) * w.out[2] + o[2];
                    acc += widen(g[l]) / (A)avg_divisor(w, o, count_include_pad, divisor);
                }
        gin[e] = narrow<T>(acc);
    }
}
