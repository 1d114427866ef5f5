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

// Checks n index values idx[si(e)] against `size` (negative ones count from the end when
// `wrap`) and, where `offs` is given (contiguous, n elements), adds the wrapped index times
// `stride` to offs[e]: one pass per advanced index builds the storage offsets of `t[i, j]`.
// A bad index records (1, its value, `dim`) in err instead of failing; a pass that finds err
// already set (by an earlier index) does nothing, so err names the first bad index tensor.
extern "C" __global__ void index_offsets(i64* offs, const i64* idx, Strided si, i64 size,
                                         int wrap, i64 stride, i64 dim, i64 n, i64* err) {
    if (err[0] != 0) return;
    FOR_EACH(e, n) {
        const i64 v = idx[offset_of(si, e)];
        const i64 w = (wrap && v < 0) ? v + size : v;
        if (w < 0 || w >= size) {
            err[1] = v;
            err[2] = dim;
            err[0] = 1;
            continue;
        }
        if (offs != nullptr) offs[e] += w * stride;
    }
}

// out[so(e)] = src[ss(e) + offs[si(e)]]: the read of advanced indexing, over offsets that
// `index_offsets` built and checked.
extern "C" __global__ void gather_offsets(T* out, Strided so, const T* src, Strided ss,
                                          const i64* offs, Strided si, i64 n) {
    FOR_EACH(e, n) {
        out[offset_of(so, e)] = src[offset_of(ss, e) + offs[offset_of(si, e)]];
    }
}

// masked_scatter_: the k-th selected element (row-major over out's shape) takes src[k], where
// rank[e] is the inclusive count of selected elements up to e (so k = rank[e] - 1).
extern "C" __global__ void masked_scatter(T* out, Strided so, const b8* mask, Strided sm,
                                          const i64* rank, const T* src, i64 n) {
    FOR_EACH(e, n) {
        if (mask[offset_of(sm, e)]) out[offset_of(so, e)] = src[rank[e] - 1];
    }
}

// masked_select: out[rank[e] - 1] = src[ss(e)] where the mask holds (rank as in masked_scatter).
extern "C" __global__ void masked_select(T* out, const T* src, Strided ss, const b8* mask,
                                         Strided sm, const i64* rank, i64 n) {
    FOR_EACH(e, n) {
        if (mask[offset_of(sm, e)]) out[rank[e] - 1] = src[offset_of(ss, e)];
    }
}

// nonzero: row rank[e] - 1 of out (ndim columns) gets the coordinates of e over `shape`
// (un-merged; only its sizes matter) for each selected e, which is where the inclusive
// running count `rank` steps up.
extern "C" __global__ void nonzero_coords(i64* out, const i64* rank, Strided shape, i64 n) {
    FOR_EACH(e, n) {
        const i64 r = rank[e];
        if (r == (e > 0 ? rank[e - 1] : 0)) continue;
        i64* row = out + (r - 1) * shape.ndim;
        i64 i = e;
        for (int d = shape.ndim - 1; d >= 0; --d) {
            const i64 q = i / shape.sizes[d];
            row[d] = i - q * shape.sizes[d];
            i = q;
        }
    }
}

// out[e] = where values[e] goes in its row of the sorted sequence: the first position whose
// element is >= the value (> with `right`), torch's lower (upper) bound. A NaN element is
// never >= anything, so NaNs at a row's end stay after every value.
template <class O>
__device__ void searchsorted_rows(O* out, const T* seq, const T* vals, i64 row, i64 per_row,
                                  int one_row, int right, i64 n) {
    typedef typename Acc<T>::type A;
    FOR_EACH(e, n) {
        const A x = Convert<A, T>::run(vals[e]);
        const T* b = seq + (one_row ? 0 : (e / per_row) * row);
        i64 lo = 0, hi = row;
        while (lo < hi) {
            const i64 mid = lo + (hi - lo) / 2;
            const A m = Convert<A, T>::run(b[mid]);
            if (right ? !(m > x) : !(m >= x)) lo = mid + 1;
            else hi = mid;
        }
        out[e] = (O)lo;
    }
}
extern "C" __global__ void searchsorted_i64(i64* out, const T* seq, const T* vals, i64 row,
                                            i64 per_row, int one_row, int right, i64 n) {
    searchsorted_rows(out, seq, vals, row, per_row, one_row, right, n);
}
extern "C" __global__ void searchsorted_i32(i32* out, const T* seq, const T* vals, i64 row,
                                            i64 per_row, int one_row, int right, i64 n) {
    searchsorted_rows(out, seq, vals, row, per_row, one_row, right, n);
}
