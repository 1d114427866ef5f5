// Copies with dtype conversion, and fills. Specialised by SRC and DST (element types).

extern "C" __global__ void copy_contiguous(DST* out, const SRC* in, i64 n) {
    FOR_EACH(i, n) { out[i] = Convert<DST, SRC>::run(in[i]); }
}

// out and in have the same sizes (merged together on the host); either may be strided
// (broadcast inputs have stride 0). One division per dimension serves both offsets.
extern "C" __global__ void copy_strided(DST* out, Strided so, const SRC* in, Strided si, i64 n) {
    FOR_EACH(i, n) {
        i64 o = 0, x = 0, k = i;
        for (int d = so.ndim - 1; d > 0; --d) {
            i64 r;
            k = divmod(k, so.sizes[d], r);
            o += r * so.strides[d];
            x += r * si.strides[d];
        }
        if (so.ndim > 0) {
            o += k * so.strides[0];
            x += k * si.strides[0];
        }
        out[o] = Convert<DST, SRC>::run(in[x]);
    }
}

// As copy_strided, when both views step by 1 along the innermost merged dim (a row). A warp
// copies a segment of up to 256 consecutive elements of one row, each lane every 32nd one: the
// row's offsets are worked out once per segment instead of once per element (index arithmetic,
// not memory, bounded the per-element kernel for 2-byte types), and each load and store of the
// warp is one coalesced run.
extern "C" __global__ void copy_rows(DST* out, Strided so, const SRC* in, Strided si, i64 n) {
    const int nd = so.ndim;
    const i64 inner = so.sizes[nd - 1];
    const i64 segs = (inner + 255) / 256;
    const i64 total = n / inner * segs;
    const int lane = threadIdx.x & 31;
    const i64 warps = (i64)gridDim.x * (blockDim.x >> 5);
    for (i64 w = (i64)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); w < total; w += warps) {
        i64 seg;
        i64 row = divmod(w, segs, seg);
        i64 o = 0, x = 0;
        for (int d = nd - 2; d > 0; --d) {
            i64 r;
            row = divmod(row, so.sizes[d], r);
            o += r * so.strides[d];
            x += r * si.strides[d];
        }
        if (nd > 1) {
            o += row * so.strides[0];
            x += row * si.strides[0];
        }
        const i64 end = seg * 256 + 256 < inner ? seg * 256 + 256 : inner;
        for (i64 c = seg * 256 + lane; c < end; c += 32) out[o + c] = Convert<DST, SRC>::run(in[x + c]);
    }
}

// `bits` holds the value's bytes (little-endian), already converted to DST on the host.
extern "C" __global__ void fill(DST* out, Strided so, unsigned long long bits, i64 n) {
    const DST v = *reinterpret_cast<const DST*>(&bits);
    FOR_EACH(i, n) { out[offset_of(so, i)] = v; }
}
