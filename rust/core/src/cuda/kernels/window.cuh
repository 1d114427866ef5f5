// Sliding windows over the last three dims of contiguous planes, shared by im2col.cu and
// pool.cu (windows of 1 or 2 spatial dims arrive with leading dims of size 1). Window o along
// dim d covers input coordinates o * stride - pad + k * dil for k < kernel; coordinates
// outside [0, size) are padding. Must match `WindowsArg` in `cuda/conv.rs`.
struct Win {
    i64 planes;
    i64 size[3];
    i64 out[3];
    i64 kernel[3];
    i64 stride[3];
    i64 pad[3];
    i64 dil[3];
};

__device__ __forceinline__ i64 win_plane(const Win& w) { return w.size[0] * w.size[1] * w.size[2]; }
__device__ __forceinline__ i64 win_blocks(const Win& w) { return w.out[0] * w.out[1] * w.out[2]; }
__device__ __forceinline__ i64 win_klen(const Win& w) {
    return w.kernel[0] * w.kernel[1] * w.kernel[2];
}

__device__ __forceinline__ i64 imin(i64 a, i64 b) { return a < b ? a : b; }
__device__ __forceinline__ i64 imax(i64 a, i64 b) { return a > b ? a : b; }

// Splits a row-major index over sizes n[0..3) into its three coordinates; returns the
// quotient left over (the plane, when i indexes planes * n[0] * n[1] * n[2]).
__device__ __forceinline__ i64 split3(i64 i, const i64* n, i64* c) {
    c[2] = i % n[2];
    i /= n[2];
    c[1] = i % n[1];
    i /= n[1];
    c[0] = i % n[0];
    return i / n[0];
}

// Input coordinate along d of offset k of window o (negative or past the end in the padding).
__device__ __forceinline__ i64 win_coord(const Win& w, int d, i64 o, i64 k) {
    return o * w.stride[d] - w.pad[d] + k * w.dil[d];
}

// The window along d whose offset k lands on input coordinate i, or -1 if none does.
__device__ __forceinline__ i64 window_of(const Win& w, int d, i64 i, i64 k) {
    i64 t = i + w.pad[d] - k * w.dil[d];
    if (t < 0 || t % w.stride[d] != 0) return -1;
    t /= w.stride[d];
    return t < w.out[d] ? t : -1;
}
