// Fused row-wise kernels of nn: softmax and log_softmax (forward and backward), cross entropy
// from logits (forward and backward), layer norm and RMS norm (forward, backward, and the
// weight/bias column sums). Specialised by T, a floating type; f16/bf16 compute in float (A).
//
// A "row" is the n elements one statistic covers, in a contiguous [outer, n, inner] input.
// inner == 1 (the last dim, the hot case): one warp per row when n <= 1024, else one block per
// row; threads stride over the row (16-byte packs where the row is aligned) and combine their
// partial statistics with warp shuffles. inner > 1: one thread per (outer, inner) column, so
// neighbouring threads read neighbouring elements. Row kernels take at most 512 threads a block
// (`__launch_bounds__` keeps their registers within what that many threads may use).

__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_ninf(float) { return -__int_as_float(0x7f800000); }
__device__ __forceinline__ double m_ninf(double) { return -__longlong_as_double(0x7ff0000000000000LL); }

// ---- walking a row ---------------------------------------------------------------------------

// Calls f(i, x[i]) (x[i] widened to A) for the elements of x[0..n) thread t of nt owns: 16-byte
// packs when the row starts on a 16-byte boundary (four times fewer load instructions, more bytes
// in flight), else one element at a time (still coalesced across the threads).
template <class F>
__device__ __forceinline__ void visit_row(const T* x, i64 n, int t, int nt, F& f) {
    typedef typename Pack16<T>::type P;
    enum { N = Pack16<T>::N };
    i64 done = 0;
    if (aligned_to(x, 16)) {
        const P* p = reinterpret_cast<const P*>(x);
        const i64 np = n / N;
        for (i64 j = t; j < np; j += nt) {
            const P u = p[j];
#pragma unroll
            for (int k = 0; k < N; ++k) f(j * N + k, widen(u.v[k]));
        }
        done = np * N;
    }
    for (i64 i = done + t; i < n; i += nt) f(i, load(x + i));
}

// out[i] = f(i, x[i]) for the elements thread t of nt owns, in packs when both rows are aligned.
template <class F>
__device__ __forceinline__ void map_row(const T* x, T* out, i64 n, int t, int nt, const F& f) {
    typedef typename Pack16<T>::type P;
    enum { N = Pack16<T>::N };
    i64 done = 0;
    if (aligned_to(x, 16) && aligned_to(out, 16)) {
        const P* p = reinterpret_cast<const P*>(x);
        P* q = reinterpret_cast<P*>(out);
        const i64 np = n / N;
        for (i64 j = t; j < np; j += nt) {
            const P u = p[j];
            P w;
#pragma unroll
            for (int k = 0; k < N; ++k) w.v[k] = narrow<T>(f(j * N + k, widen(u.v[k])));
            q[j] = w;
        }
        done = np * N;
    }
    for (i64 i = done + t; i < n; i += nt) store(out + i, f(i, load(x + i)));
}

// ---- combining partial statistics across threads (block_allreduce, Sum: moments.cuh) ----------

// The row's statistic in every thread that works on it: a warp's own (warp per row) or the
// block's (block per row).
template <class X, class C> __device__ __forceinline__ X row_allreduce(X v, const C& combine, bool warp_rows) {
    return warp_rows ? warp_allreduce(v, combine) : block_allreduce(v, combine);
}

// ---- rows and columns --------------------------------------------------------------------------

// How a launch maps threads to rows: `warp_rows` gives each warp its own row (blockDim.x / 32
// rows per block), else the whole block takes a row. Rows are visited grid-stride.
struct RowMap {
    bool warp_rows;
    i64 first, step;
    int t, nt;
    __device__ RowMap(int warp) {
        warp_rows = warp != 0;
        if (warp_rows) {
            const int wpb = blockDim.x >> 5;
            first = (i64)blockIdx.x * wpb + (threadIdx.x >> 5);
            step = (i64)gridDim.x * wpb;
            t = threadIdx.x & 31;
            nt = 32;
        } else {
            first = blockIdx.x;
            step = gridDim.x;
            t = threadIdx.x;
            nt = blockDim.x;
        }
    }
};

// Warps of a block may run different numbers of rows: a warp-per-row loop only shuffles within
// its warp. A block-per-row loop runs the same rows in every thread of the block, so all of them
// reach the __syncthreads of block_allreduce.

// ---- softmax -----------------------------------------------------------------------------------

// The running (max m, sum of exp(x - m)) of a row's prefix: one read of the row gives both.
struct MaxSum {
    A m, s;
};
struct CombineMaxSum {
    __device__ __forceinline__ MaxSum operator()(MaxSum a, MaxSum b) const {
        const A ninf = m_ninf(A(0));
        if (b.m == ninf) return a;
        if (a.m == ninf) return b;
        // Ordered by m, so both lanes of a butterfly compute the same bits (exp(0) is exact
        // for equal maxima). A NaN maximum stays NaN.
        MaxSum hi = a, lo = b;
        if (b.m > a.m || b.m != b.m) {
            hi = b;
            lo = a;
        }
        MaxSum r;
        r.m = hi.m;
        r.s = hi.s + lo.s * m_exp(lo.m - hi.m);
        return r;
    }
};

// Folds one element into a running (max, sum); -inf elements (masked scores) add nothing. A new
// maximum adds exp(v - v): 1, or NaN when v is +inf or NaN, whose exp(x - max) is NaN in torch
// too; a NaN maximum stays (nothing compares above it), so the row ends NaN, as torch's does.
__device__ __forceinline__ void push(MaxSum& a, A v) {
    if (v > a.m || v != v) {
        a.s = a.s * m_exp(a.m - v) + m_exp(v - v);
        a.m = v;
    } else if (v != m_ninf(A(0))) {
        a.s += m_exp(v - a.m);
    }
}

__device__ __forceinline__ MaxSum empty_max_sum() {
    MaxSum a;
    a.m = m_ninf(A(0));
    a.s = A(0);
    return a;
}

// softmax / log_softmax over rows of length n (inner == 1). With causal = L > 0 the rows are
// those of L x n matrices and row i of each sees columns 0..=i only (SDPA's top-left causal
// mask): the hidden columns come out as 0 (softmax) or -inf (log_softmax).
template <bool LOG>
__device__ void softmax_rows(const T* x, T* y, i64 rows, i64 n, int warp, i64 causal) {
    const RowMap rm(warp);
    for (i64 r = rm.first; r < rows; r += rm.step) {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        const i64 len = causal ? (r % causal + 1 < n ? r % causal + 1 : n) : n;
        MaxSum a = empty_max_sum();
        auto f = [&](i64, A v) { push(a, v); };
        visit_row(xr, len, rm.t, rm.nt, f);
        a = row_allreduce(a, CombineMaxSum(), rm.warp_rows);
        // A row of -inf has no maximum: exp(x - m) is NaN there, as in torch.
        const A m = a.m == m_ninf(A(0)) ? a.m - a.m : a.m;
        if (LOG) {
            // (x - m) - log(s), not x - (m + log(s)): the shift rounded at the scale of m would
            // cost the result its precision when |x| is large.
            const A ls = m_log(a.s);
            map_row(xr, yr, len, rm.t, rm.nt, [&](i64, A v) { return (v - m) - ls; });
        } else {
            const A inv = A(1) / a.s;
            map_row(xr, yr, len, rm.t, rm.nt, [&](i64, A v) { return m_exp(v - m) * inv; });
        }
        const A hidden = LOG ? m_ninf(A(0)) : A(0);
        for (i64 i = len + rm.t; i < n; i += rm.nt) store(yr + i, hidden);
    }
}

// ---- cross entropy from logits ------------------------------------------------------------------

// Rows of [rows, n] logits with a class index each. Per row: max[r], log_sum[r] =
// log(sum(exp(x - max))) and loss[r] = (max - x[t]) + log_sum, which is -log_softmax(x)[t]
// rounded as torch's; all 0 on rows whose target is ignore_index. A target outside [0, n) also
// writes 0s and lowers *bad to its row, which the host reads and reports at the device's next
// synchronisation. Every thread of a row takes the same branch, so a block per row reaches
// block_allreduce together.
extern "C" __global__ void __launch_bounds__(512) cross_entropy_rows_k(const T* x, const i64* target, A* loss, A* max,
                                                                        A* log_sum, i64 rows, i64 n, i64 ignore_index,
                                                                        long long* bad, int warp) {
    const RowMap rm(warp);
    for (i64 r = rm.first; r < rows; r += rm.step) {
        const i64 t = target[r];
        A m = A(0), ls = A(0), l = A(0);
        if (t != ignore_index && (t < 0 || t >= n)) {
            if (rm.t == 0) atomicMin(bad, (long long)r);
        } else if (t != ignore_index) {
            const T* xr = x + r * n;
            MaxSum a = empty_max_sum();
            auto f = [&](i64, A v) { push(a, v); };
            visit_row(xr, n, rm.t, rm.nt, f);
            a = row_allreduce(a, CombineMaxSum(), rm.warp_rows);
            m = a.m;
            ls = m_log(a.s);
            l = (m - load(xr + t)) + ls;
        }
        if (rm.t == 0) {
            loss[r] = l;
            max[r] = m;
            log_sum[r] = ls;
        }
    }
}

// dx[r, j] = w[r] * (exp((x[r, j] - max[r]) - log_sum[r]) - (j == t[r])): softmax minus the
// one-hot target, times the row's share of the loss gradient; 0 on ignored rows (and on rows
// with a bad target, which the forward reported).
extern "C" __global__ void __launch_bounds__(512) cross_entropy_backward_rows_k(const T* x, const i64* target,
                                                                                 const A* max, const A* log_sum,
                                                                                 const A* w, T* dx, i64 rows, i64 n,
                                                                                 i64 ignore_index, int warp) {
    const RowMap rm(warp);
    for (i64 r = rm.first; r < rows; r += rm.step) {
        const i64 t = target[r];
        const bool skip = t == ignore_index || t < 0 || t >= n;
        const A m = max[r], ls = log_sum[r], wr = skip ? A(0) : w[r];
        map_row(x + r * n, dx + r * n, n, rm.t, rm.nt, [&](i64 j, A v) {
            if (skip) return A(0);
            return wr * (m_exp((v - m) - ls) - (j == t ? A(1) : A(0)));
        });
    }
}

// softmax / log_softmax along the middle dim of [outer, n, inner]: a thread per column.
template <bool LOG>
__device__ void softmax_columns(const T* x, T* y, i64 outer, i64 n, i64 inner) {
    FOR_EACH(c, outer * inner) {
        const i64 o = c / inner, j = c - o * inner;
        const T* xc = x + o * n * inner + j;
        T* yc = y + o * n * inner + j;
        MaxSum a = empty_max_sum();
        for (i64 i = 0; i < n; ++i) push(a, load(xc + i * inner));
        const A m = a.m == m_ninf(A(0)) ? a.m - a.m : a.m;
        const A ls = m_log(a.s), inv = A(1) / a.s;
        for (i64 i = 0; i < n; ++i) {
            const A v = load(xc + i * inner);
            store(yc + i * inner, LOG ? (v - m) - ls : m_exp(v - m) * inv);
        }
    }
}

extern "C" __global__ void __launch_bounds__(512) softmax_rows_k(const T* x, T* y, i64 rows, i64 n, int warp) {
    softmax_rows<false>(x, y, rows, n, warp, 0);
}
extern "C" __global__ void __launch_bounds__(512) log_softmax_rows_k(const T* x, T* y, i64 rows, i64 n, int warp) {
    softmax_rows<true>(x, y, rows, n, warp, 0);
}
extern "C" __global__ void __launch_bounds__(512) softmax_causal_rows_k(const T* x, T* y, i64 rows, i64 n, int warp,
                                                                         i64 causal) {
    softmax_rows<false>(x, y, rows, n, warp, causal);
}
extern "C" __global__ void softmax_columns_k(const T* x, T* y, i64 outer, i64 n, i64 inner) {
    softmax_columns<false>(x, y, outer, n, inner);
}
extern "C" __global__ void log_softmax_columns_k(const T* x, T* y, i64 outer, i64 n, i64 inner) {
    softmax_columns<true>(x, y, outer, n, inner);
}

// Backward from the saved output y: softmax dx = y * (g - sum(g * y)); log_softmax
// dx = g - exp(y) * sum(g). With causal = L > 0 (softmax only) the rows are those of the causal
// softmax above: y is 0 past column i of row i, so only columns 0..=i are read and the rest of
// dx is written 0, which skips half of the reads.
template <bool LOG>
__device__ void softmax_backward_rows(const T* g, const T* y, T* dx, i64 rows, i64 n, int warp, i64 causal) {
    const RowMap rm(warp);
    for (i64 r = rm.first; r < rows; r += rm.step) {
        const T *gr = g + r * n, *yr = y + r * n;
        const i64 len = causal ? (r % causal + 1 < n ? r % causal + 1 : n) : n;
        A s = A(0);
        if (LOG) {
            auto f = [&](i64, A v) { s += v; };
            visit_row(gr, len, rm.t, rm.nt, f);
        } else {
            auto f = [&](i64 i, A v) { s += v * load(yr + i); };
            visit_row(gr, len, rm.t, rm.nt, f);
        }
        s = row_allreduce(s, Sum(), rm.warp_rows);
        if (LOG) {
            map_row(yr, dx + r * n, len, rm.t, rm.nt, [&](i64 i, A v) { return load(gr + i) - m_exp(v) * s; });
        } else {
            map_row(yr, dx + r * n, len, rm.t, rm.nt, [&](i64 i, A v) { return v * (load(gr + i) - s); });
        }
        for (i64 i = len + rm.t; i < n; i += rm.nt) store(dx + r * n + i, A(0));
    }
}

template <bool LOG>
__device__ void softmax_backward_columns(const T* g, const T* y, T* dx, i64 outer, i64 n, i64 inner) {
    FOR_EACH(c, outer * inner) {
        const i64 o = c / inner, j = c - o * inner;
        const i64 base = o * n * inner + j;
        A s = A(0);
        for (i64 i = 0; i < n; ++i) {
            const A gv = load(g + base + i * inner);
            s += LOG ? gv : gv * load(y + base + i * inner);
        }
        for (i64 i = 0; i < n; ++i) {
            const i64 k = base + i * inner;
            const A gv = load(g + k), yv = load(y + k);
            store(dx + k, LOG ? gv - m_exp(yv) * s : yv * (gv - s));
        }
    }
}

extern "C" __global__ void __launch_bounds__(512) softmax_backward_rows_k(const T* g, const T* y, T* dx, i64 rows, i64 n, int warp) {
    softmax_backward_rows<false>(g, y, dx, rows, n, warp, 0);
}
extern "C" __global__ void __launch_bounds__(512) softmax_backward_causal_rows_k(const T* g, const T* y, T* dx, i64 rows,
                                                                                  i64 n, int warp, i64 causal) {
    softmax_backward_rows<false>(g, y, dx, rows, n, warp, causal);
}
extern "C" __global__ void __launch_bounds__(512) log_softmax_backward_rows_k(const T* g, const T* y, T* dx, i64 rows, i64 n,
                                                       int warp) {
    softmax_backward_rows<true>(g, y, dx, rows, n, warp, 0);
}
extern "C" __global__ void softmax_backward_columns_k(const T* g, const T* y, T* dx, i64 outer, i64 n,
                                                      i64 inner) {
    softmax_backward_columns<false>(g, y, dx, outer, n, inner);
}
extern "C" __global__ void log_softmax_backward_columns_k(const T* g, const T* y, T* dx, i64 outer, i64 n,
                                                          i64 inner) {
    softmax_backward_columns<true>(g, y, dx, outer, n, inner);
}

// ---- layer norm and RMS norm -------------------------------------------------------------------

// y = (x - mean) * rstd * w + b per row, with mean and rstd = 1 / sqrt(var + eps) written per
// row (A). RMS norm (RMS != 0): mean is 0 and var is mean(x^2). w and b may be null.
template <bool RMS>
__device__ void norm_rows(const T* x, const T* w, const T* b, T* y, A* mean_out, A* rstd_out, i64 rows,
                          i64 n, A eps, int warp) {
    const RowMap rm(warp);
    for (i64 r = rm.first; r < rows; r += rm.step) {
        const T* xr = x + r * n;
        A mean = A(0), var;
        if (RMS) {
            A s = A(0);
            auto f = [&](i64, A v) { s += v * v; };
            visit_row(xr, n, rm.t, rm.nt, f);
            var = row_allreduce(s, Sum(), rm.warp_rows) / (A)n;
        } else {
            // Each thread sums d = x - k and d^2 around k, the row's first element, and turns
            // them into Welford moments to combine. A shift taken from the row keeps d on the
            // scale of the row's spread, so the squares do not cancel; and unlike a per-element
            // Welford update there is no division in the loop, whose dependent chain left the
            // kernel latency-bound below memory bandwidth.
            const A k = load(xr);
            A cnt = A(0), s1 = A(0), s2 = A(0);
            auto f = [&](i64, A v) {
                const A d = v - k;
                cnt += A(1);
                s1 += d;
                s2 += d * d;
            };
            visit_row(xr, n, rm.t, rm.nt, f);
            Moments mo;
            mo.n = cnt;
            mo.mean = cnt > A(0) ? k + s1 / cnt : A(0);
            const A m2 = s2 - s1 * (s1 / cnt);
            mo.m2 = cnt > A(0) && m2 > A(0) ? m2 : A(0);  // rounding may leave it just below 0
            mo = row_allreduce(mo, CombineMoments(), rm.warp_rows);
            mean = mo.mean;
            var = mo.m2 / (A)n;
        }
        const A rstd = A(1) / m_sqrt(var + eps);
        if (rm.t == 0) {
            mean_out[r] = mean;
            rstd_out[r] = rstd;
        }
        map_row(xr, y + r * n, n, rm.t, rm.nt, [&](i64 i, A v) {
            A o = (v - mean) * rstd;
            if (w) o = o * load(w + i);
            if (b) o = o + load(b + i);
            return o;
        });
    }
}

extern "C" __global__ void __launch_bounds__(512) layer_norm_rows_k(const T* x, const T* w, const T* b, T* y, A* mean, A* rstd,
                                             i64 rows, i64 n, double eps, int warp) {
    norm_rows<false>(x, w, b, y, mean, rstd, rows, n, (A)eps, warp);
}
extern "C" __global__ void __launch_bounds__(512) rms_norm_rows_k(const T* x, const T* w, T* y, A* mean, A* rstd, i64 rows, i64 n,
                                           double eps, int warp) {
    norm_rows<true>(x, w, nullptr, y, mean, rstd, rows, n, (A)eps, warp);
}

// The two sums of a row's backward: sum(g * w) and sum(g * w * xhat).
struct Two {
    A gw, gwx;
};
struct CombineTwo {
    __device__ __forceinline__ Two operator()(Two a, Two b) const {
        Two c;
        c.gw = a.gw + b.gw;
        c.gwx = a.gwx + b.gwx;
        return c;
    }
};

// dx of a row: with xhat = (x - mean) * rstd and gw = g * w,
// dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)); RMS norm drops the mean(gw) term.
template <bool RMS>
__device__ void norm_backward_rows(const T* g, const T* x, const A* mean, const A* rstd, const T* w, T* dx,
                                   i64 rows, i64 n, int warp) {
    const RowMap rm(warp);
    for (i64 r = rm.first; r < rows; r += rm.step) {
        const T *gr = g + r * n, *xr = x + r * n;
        const A mu = mean[r], rs = rstd[r];
        Two s;
        s.gw = A(0);
        s.gwx = A(0);
        auto f = [&](i64 i, A gv) {
            const A gw = w ? gv * load(w + i) : gv;
            s.gw += gw;
            s.gwx += gw * (load(xr + i) - mu) * rs;
        };
        visit_row(gr, n, rm.t, rm.nt, f);
        s = row_allreduce(s, CombineTwo(), rm.warp_rows);
        const A inv_n = A(1) / (A)n;
        const A a = RMS ? A(0) : s.gw * inv_n, c = s.gwx * inv_n;
        map_row(xr, dx + r * n, n, rm.t, rm.nt, [&](i64 i, A v) {
            const A gv = load(gr + i);
            const A gw = w ? gv * load(w + i) : gv;
            return rs * (gw - a - (v - mu) * rs * c);
        });
    }
}

extern "C" __global__ void __launch_bounds__(512) layer_norm_backward_rows_k(const T* g, const T* x, const A* mean, const A* rstd,
                                                      const T* w, T* dx, i64 rows, i64 n, int warp) {
    norm_backward_rows<false>(g, x, mean, rstd, w, dx, rows, n, warp);
}
extern "C" __global__ void __launch_bounds__(512) rms_norm_backward_rows_k(const T* g, const T* x, const A* mean, const A* rstd,
                                                    const T* w, T* dx, i64 rows, i64 n, int warp) {
    norm_backward_rows<true>(g, x, mean, rstd, w, dx, rows, n, warp);
}

// dweight = sum over rows of g * xhat, dbias = sum over rows of g. Blocks of 32 x 8 threads take
// 32 neighbouring columns (each warp reads 32 consecutive elements of a row) and one of `splits`
// chunks of the rows; the 8 rows of threads are combined in shared memory and each block writes
// its partial sums to part_w / part_b [splits, n] (A), summed by the second kernel below in a
// fixed order (no atomics: results are deterministic).
extern "C" __global__ void norm_params_partial_k(const T* g, const T* x, const A* mean, const A* rstd,
                                                 A* part_w, A* part_b, i64 rows, i64 n, i64 splits) {
    __shared__ A sw[8][33], sb[8][33];
    const i64 tiles = (n + 31) / 32;
    const i64 chunk = (rows + splits - 1) / splits;
    const int tx = threadIdx.x, ty = threadIdx.y;
    for (i64 blk = blockIdx.x; blk < tiles * splits; blk += gridDim.x) {
        const i64 tile = blk / splits, s = blk - tile * splits;
        const i64 j = tile * 32 + tx;
        const i64 lo = s * chunk, hi = lo + chunk < rows ? lo + chunk : rows;
        A aw = A(0), ab = A(0);
        if (j < n) {
            for (i64 r = lo + ty; r < hi; r += 8) {
                const A gv = load(g + r * n + j);
                aw += gv * (load(x + r * n + j) - mean[r]) * rstd[r];
                ab += gv;
            }
        }
        __syncthreads();  // the previous tile may still read the shared sums
        sw[ty][tx] = aw;
        sb[ty][tx] = ab;
        __syncthreads();
        if (ty == 0 && j < n) {
            for (int k = 1; k < 8; ++k) {
                aw += sw[k][tx];
                ab += sb[k][tx];
            }
            part_w[s * n + j] = aw;
            part_b[s * n + j] = ab;
        }
    }
}

// Sums the partials of each column; dw / db may be null when not wanted.
extern "C" __global__ void norm_params_final_k(const A* part_w, const A* part_b, T* dw, T* db, i64 n,
                                               i64 splits) {
    FOR_EACH(j, n) {
        A aw = A(0), ab = A(0);
        for (i64 s = 0; s < splits; ++s) {
            aw += part_w[s * n + j];
            ab += part_b[s * n + j];
        }
        if (dw) store(dw + j, aw);
        if (db) store(db + j, ab);
    }
}
