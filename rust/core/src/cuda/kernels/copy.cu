// Copies with dtype conversion, and fills. Specialised by SRC and DST (element types).

extern "C" __global__ void copy_contiguous(DST* out, const SRC* in, i64 n) {
    FOR_EACH(i, n) { out[i] = Convert<DST, SRC>::run(in[i]); }
}

// out and in have the same sizes; either may be strided (broadcast inputs have stride 0).
extern "C" __global__ void copy_strided(DST* out, Strided so, const SRC* in, Strided si, i64 n) {
    FOR_EACH(i, n) { out[offset_of(so, i)] = Convert<DST, SRC>::run(in[offset_of(si, i)]); }
}

// `bits` holds the value's bytes (little-endian), already converted to DST on the host.
extern "C" __global__ void fill(DST* out, Strided so, unsigned long long bits, i64 n) {
    const DST v = *reinterpret_cast<const DST*>(&bits);
    FOR_EACH(i, n) { out[offset_of(so, i)] = v; }
}
