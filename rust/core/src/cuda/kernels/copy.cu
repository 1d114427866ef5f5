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

// `bits` holds the value's bytes (little-endian), already converted to DST on the host.
extern "C" __global__ void fill(DST* out, Strided so, unsigned long long bits, i64 n) {
    const DST v = *reinterpret_cast<const DST*>(&bits);
    FOR_EACH(i, n) { out[offset_of(so, i)] = v; }
}
