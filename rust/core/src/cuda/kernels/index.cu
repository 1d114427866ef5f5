// Indexing kernels and triangle masks. Specialised by T (the element type); indices are i64.
// An out-of-range index sets *err (device memory) instead of being dereferenced; the host
// reads the flag after the launch and raises, so the context is never poisoned.

// out[e] = src[ss(e) + idx[si(e)] * sd] over out's elements: gather along one dim
// (index_select is the case where idx is broadcast over the other dims). `wrap` accepts
// negative indices from -size.
extern "C" __global__ void gather_dim(T* out, Strided so, const T* src, Strided ss, i64 sd,
                                      i64 size, const i64* idx, Strided si, int wrap, i64 n,
                                      int* err) {
    FOR_EACH(e, n) {
        i64 v = idx[offset_of(si, e)];
        if (wrap && v < 0) v += size;
        if (v < 0 || v >= size) {
            *err = 1;
            continue;
        }
        out[offset_of(so, e)] = src[offset_of(ss, e) + v * sd];
    }
}

// `bits` holds the fill value's bytes in T.
extern "C" __global__ void masked_fill(T* out, Strided so, const b8* mask, Strided sm,
                                       unsigned long long bits, i64 n) {
    const T v = *reinterpret_cast<const T*>(&bits);
    FOR_EACH(e, n) {
        if (mask[offset_of(sm, e)]) out[offset_of(so, e)] = v;
    }
}

// Zeroes what lies outside the lower (or upper) triangle of each matrix: `s` is the
// un-merged geometry, so its last two dims are the matrix rows and columns.
extern "C" __global__ void triangle(T* p, Strided s, i64 k, int lower, i64 n) {
    const i64 cols = s.sizes[s.ndim - 1];
    const i64 rows = s.sizes[s.ndim - 2];
    FOR_EACH(e, n) {
        i64 j = e % cols;
        i64 i = (e / cols) % rows;
        bool zero = lower ? (j - i > k) : (j - i < k);
        if (zero) {
            T z;
            unsigned char* b = reinterpret_cast<unsigned char*>(&z);
            for (int q = 0; q < (int)sizeof(T); ++q) b[q] = 0;
            p[offset_of(s, e)] = z;
        }
    }
}
