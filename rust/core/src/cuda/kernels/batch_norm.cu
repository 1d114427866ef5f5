// Batch norm: statistics per channel over a contiguous input seen as [N, C, HW] (HW: the product
// of the spatial dims, 1 for a (N, C) input). Specialised by T, a floating type; f16/bf16
// compute in float (A), and the per-channel statistics are A.
//
// The reductions view the input as N rows of K = C * HW columns. Blocks of 32 x 8 threads take
// 32 neighbouring columns (each warp reads 32 consecutive elements of a row, whatever HW is) and
// one of `splits` chunks of the rows; each writes partial results per column, which the finish
// kernels combine per channel over the splits and the channel's HW columns, in a fixed order
// (no atomics: results are deterministic).

// Where the rows of split s of `splits` start and end.
__device__ __forceinline__ void split_rows(i64 rows, i64 splits, i64 s, i64& lo, i64& hi) {
    const i64 chunk = (rows + splits - 1) / splits;
    lo = s * chunk;
    hi = lo + chunk < rows ? lo + chunk : rows;
}

// Combines the 8 threads of a column of the block (threadIdx.y) through shared memory; the
// result is in the threads of row 0.
template <class X, class C> __device__ __forceinline__ X column_combine(X v, const C& combine) {
    __shared__ __align__(16) unsigned char smem[8 * 32 * sizeof(X)];
    X* sh = reinterpret_cast<X*>(smem);
    sh[threadIdx.y * 32 + threadIdx.x] = v;
    __syncthreads();
    if (threadIdx.y == 0)
        for (int k = 1; k < 8; ++k) v = combine(v, sh[k * 32 + threadIdx.x]);
    __syncthreads();
    return v;
}

// Partial Welford moments of each column over a chunk of rows: part[s * K + j].
extern "C" __global__ void batch_norm_moments_partial_k(const T* x, Moments* part, i64 rows, i64 K, i64 splits) {
    const i64 tiles = (K + 31) / 32;
    for (i64 blk = blockIdx.x; blk < tiles * splits; blk += gridDim.x) {
        const i64 tile = blk / splits, s = blk - tile * splits;
        const i64 j = tile * 32 + threadIdx.x;
        i64 lo, hi;
        split_rows(rows, splits, s, lo, hi);
        Moments m;
        m.n = A(0);
        m.mean = A(0);
        m.m2 = A(0);
        if (j < K)
            for (i64 r = lo + threadIdx.y; r < hi; r += 8) {
                const A v = load(x + r * K + j);
                m.n += A(1);
                const A d = v - m.mean;
                m.mean += d / m.n;
                m.m2 += d * (v - m.mean);
            }
        m = column_combine(m, CombineMoments());
        if (threadIdx.y == 0 && j < K) part[s * K + j] = m;
    }
}

// Visits the partial results of channel c: the HW columns of each of the splits.
template <class X, class F>
__device__ __forceinline__ void visit_channel_parts(const X* part, i64 c, i64 C, i64 HW, i64 splits, F& f) {
    const i64 K = C * HW, m = splits * HW;
    for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
        const i64 s = k / HW, hw = k - s * HW;
        f(part[s * K + c * HW + hw]);
    }
}

// One block per channel: mean, biased variance and invstd = 1 / sqrt(var + eps).
extern "C" __global__ void batch_norm_moments_finish_k(const Moments* part, A* mean, A* var, A* invstd, i64 C, i64 HW,
                                                       i64 splits, double eps) {
    for (i64 c = blockIdx.x; c < C; c += gridDim.x) {
        Moments m;
        m.n = A(0);
        m.mean = A(0);
        m.m2 = A(0);
        const CombineMoments combine;
        auto f = [&](const Moments& p) { m = combine(m, p); };
        visit_channel_parts(part, c, C, HW, splits, f);
        m = block_allreduce(m, combine);
        if (threadIdx.x == 0) {
            const A v = m.n > A(0) ? m.m2 / m.n : A(0);
            mean[c] = m.mean;
            var[c] = v;
            invstd[c] = A(1) / m_sqrt(v + (A)eps);
        }
    }
}

// y = (x - mean[c]) * invstd[c] * w[c] + b[c] (w, b may be null), for `total` elements.
extern "C" __global__ void batch_norm_apply_k(const T* x, T* y, const A* mean, const A* invstd, const T* w,
                                              const T* b, i64 C, i64 HW, i64 total) {
    FOR_EACH(i, total) {
        const i64 c = (i / HW) % C;
        A scale = invstd[c];
        if (w) scale *= load(w + c);
        A o = (load(x + i) - mean[c]) * scale;
        if (b) o += load(b + c);
        store(y + i, o);
    }
}

// The two sums of the backward per column: sum(g) and sum(g * (x - mean[c])).
struct GradSums {
    A g, gx;
};
struct CombineGradSums {
    __device__ __forceinline__ GradSums operator()(GradSums a, GradSums b) const {
        GradSums r;
        r.g = a.g + b.g;
        r.gx = a.gx + b.gx;
        return r;
    }
};

extern "C" __global__ void batch_norm_grad_sums_partial_k(const T* g, const T* x, const A* mean, GradSums* part,
                                                          i64 rows, i64 K, i64 HW, i64 splits) {
    const i64 tiles = (K + 31) / 32;
    for (i64 blk = blockIdx.x; blk < tiles * splits; blk += gridDim.x) {
        const i64 tile = blk / splits, s = blk - tile * splits;
        const i64 j = tile * 32 + threadIdx.x;
        i64 lo, hi;
        split_rows(rows, splits, s, lo, hi);
        GradSums p;
        p.g = A(0);
        p.gx = A(0);
        if (j < K) {
            const A mu = mean[j / HW];
            for (i64 r = lo + threadIdx.y; r < hi; r += 8) {
                const A gv = load(g + r * K + j);
                p.g += gv;
                p.gx += gv * (load(x + r * K + j) - mu);
            }
        }
        p = column_combine(p, CombineGradSums());
        if (threadIdx.y == 0 && j < K) part[s * K + j] = p;
    }
}

// One block per channel: sum_g[c] and sum_gx[c].
extern "C" __global__ void batch_norm_grad_sums_finish_k(const GradSums* part, A* sum_g, A* sum_gx, i64 C, i64 HW,
                                                         i64 splits) {
    for (i64 c = blockIdx.x; c < C; c += gridDim.x) {
        GradSums t;
        t.g = A(0);
        t.gx = A(0);
        auto f = [&](const GradSums& p) {
            t.g += p.g;
            t.gx += p.gx;
        };
        visit_channel_parts(part, c, C, HW, splits, f);
        t = block_allreduce(t, CombineGradSums());
        if (threadIdx.x == 0) {
            sum_g[c] = t.g;
            sum_gx[c] = t.gx;
        }
    }
}

// dx with the batch's statistics (train): with scale = invstd * w and M = N * HW elements per
// channel, dx = scale * (g - sum_g / M - (x - mean) * invstd^2 * sum_gx / M). With fixed
// statistics (sum_g null: eval), dx = scale * g.
extern "C" __global__ void batch_norm_backward_apply_k(const T* g, const T* x, T* dx, const A* mean, const A* invstd,
                                                       const T* w, const A* sum_g, const A* sum_gx, i64 C, i64 HW,
                                                       i64 total, double inv_m) {
    FOR_EACH(i, total) {
        const i64 c = (i / HW) % C;
        const A is = invstd[c];
        const A scale = w ? is * load(w + c) : is;
        A d = load(g + i);
        if (sum_g) d = d - sum_g[c] * (A)inv_m - (load(x + i) - mean[c]) * is * is * sum_gx[c] * (A)inv_m;
        store(dx + i, scale * d);
    }
}
