// Sorting of the rows of a contiguous [rows, n] input, and order statistics of sorted rows.
// Specialised by T (element type) and IS_FLOAT.
//
// Bitonic sort of (value, index) pairs over rows padded to P = 2^k slots: ordering by value
// (NaN after every number, as torch; reversed when descending) then by index makes every key
// distinct, so the unstable network gives the stable order. Padding slots (index >= n) go
// after everything. Rows of up to SMALL_P slots sort in shared memory, a block per row;
// longer rows run one global compare-exchange pass per network stage.

typedef typename Acc<T>::type V;

template <class X> __device__ __forceinline__ bool is_nan(X x) { return x != x; }

// Whether (av, ai) sorts before (bv, bi).
__device__ __forceinline__ bool before(V av, i64 ai, V bv, i64 bi, i64 n, bool desc) {
    if (ai >= n || bi >= n) return ai < bi;  // padding (the larger index) last
    const bool an = is_nan(av), bn = is_nan(bv);
    int c;
    if (an || bn) {
        c = (int)an - (int)bn;
    } else {
        c = av < bv ? -1 : (bv < av ? 1 : 0);
    }
    if (desc) c = -c;
    return c < 0 || (c == 0 && ai < bi);
}

// Position of the t-th compare-exchange pair of a stage with distance j.
__device__ __forceinline__ i64 pair_lo(i64 t, i64 j) { return (t / j) * 2 * j + (t % j); }

// A block per row, the row's P slots in dynamic shared memory: P indices as int, then (from
// the next multiple of 16 bytes) P values of V.
extern "C" __global__ void sort_small(const T* x, i64 rows, i64 n, int P, int desc, T* ov,
                                      i64* oi) {
    extern __shared__ __align__(16) unsigned char smem[];
    int* si = reinterpret_cast<int*>(smem);
    V* sv = reinterpret_cast<V*>(smem + (((size_t)P * 4 + 15) / 16) * 16);
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + r * n;
        for (int c = threadIdx.x; c < P; c += blockDim.x) {
            sv[c] = c < n ? load(xr + c) : V(0);
            si[c] = c;
        }
        __syncthreads();
        for (int k = 2; k <= P; k <<= 1) {
            for (int j = k >> 1; j > 0; j >>= 1) {
                for (int t = threadIdx.x; t < P / 2; t += blockDim.x) {
                    const int i = (int)pair_lo(t, j), l = i + j;
                    const bool up = (i & k) == 0;
                    const bool sw = up ? before(sv[l], si[l], sv[i], si[i], n, desc)
                                       : before(sv[i], si[i], sv[l], si[l], n, desc);
                    if (sw) {
                        const V tv = sv[i];
                        sv[i] = sv[l];
                        sv[l] = tv;
                        const int ti = si[i];
                        si[i] = si[l];
                        si[l] = ti;
                    }
                }
                __syncthreads();
            }
        }
        for (int c = threadIdx.x; c < n; c += blockDim.x) {
            ov[r * n + c] = xr[si[c]];
            oi[r * n + c] = si[c];
        }
        __syncthreads();
    }
}

// Long rows: copy into [rows, P] work buffers with padding.
extern "C" __global__ void sort_init(const T* x, i64 rows, i64 n, i64 P, T* kv, i64* ki) {
    FOR_EACH(e, rows * P) {
        const i64 r = e / P, c = e - r * P;
        kv[e] = c < n ? x[r * n + c] : x[r * n];
        ki[e] = c;
    }
}

// One stage (k, j) of the network over every row.
extern "C" __global__ void sort_step(T* kv, i64* ki, i64 rows, i64 n, i64 P, i64 k, i64 j,
                                     int desc) {
    const i64 half = P / 2;
    FOR_EACH(t, rows * half) {
        const i64 r = t / half, tt = t - r * half;
        const i64 i = r * P + pair_lo(tt, j), l = i + j;
        const bool up = (pair_lo(tt, j) & k) == 0;
        const V vi = load(kv + i), vl = load(kv + l);
        const i64 ii = ki[i], il = ki[l];
        const bool sw = up ? before(vl, il, vi, ii, n, desc) : before(vi, ii, vl, il, n, desc);
        if (sw) {
            const T tv = kv[i];
            kv[i] = kv[l];
            kv[l] = tv;
            ki[i] = il;
            ki[l] = ii;
        }
    }
}

extern "C" __global__ void sort_finish(const T* kv, const i64* ki, i64 rows, i64 n, i64 P,
                                       T* ov, i64* oi) {
    FOR_EACH(e, rows * n) {
        const i64 r = e / n, c = e - r * n;
        ov[e] = kv[r * P + c];
        oi[e] = ki[r * P + c];
    }
}

// Median of ascending-sorted rows, a thread per row: with NaNs, NaN and the index of the
// first NaN (unless skip_nan, which takes the lower median of the numbers; all NaN gives NaN).
extern "C" __global__ void median_sorted(const T* sv, const i64* si, i64 rows, i64 n,
                                         int skip_nan, T* ov, i64* oi) {
    FOR_EACH(r, rows) {
        const T* v = sv + r * n;
        i64 nans = 0;
        while (nans < n && is_nan(load(v + n - 1 - nans))) ++nans;
        i64 pos;
        if (nans > 0 && (!skip_nan || nans == n)) {
            pos = n - nans;
        } else {
            pos = (n - nans - 1) / 2;
        }
        ov[r] = v[pos];
        oi[r] = si[r * n + pos];
    }
}

// Mode of ascending-sorted rows, a thread per row: the longest run of equal values (the
// smallest value on ties; NaNs equal each other) and the largest index in it.
extern "C" __global__ void mode_sorted(const T* sv, const i64* si, i64 rows, i64 n, T* ov,
                                       i64* oi) {
    FOR_EACH(r, rows) {
        const T* v = sv + r * n;
        const i64* ix = si + r * n;
        i64 best = 0, best_len = 0, start = 0;
        for (i64 j = 1; j <= n; ++j) {
            bool same = false;
            if (j < n) {
                const V a = load(v + j), b = load(v + start);
                same = a == b || (is_nan(a) && is_nan(b));
            }
            if (!same) {
                if (j - start > best_len) {
                    best_len = j - start;
                    best = j - 1;
                }
                start = j;
            }
        }
        i64 bi = ix[best];
        // Equal values sort by index, so the run's last element has its largest index.
        ov[r] = v[best];
        oi[r] = bi;
    }
}
