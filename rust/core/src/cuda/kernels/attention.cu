// Fused scaled-dot-product attention (flash-attention-2 style, FMA on CUDA cores; f16/bf16
// compute in float, f64 in double). Specialised by T, a floating type.
//
// Forward (sdpa_fwd_k): a block of WARPS warps per (batch, head, tile of BQ queries); each warp
// owns RPW query rows. Keys go by in tiles of KT = 32, staged with the values in shared memory;
// in a tile, lane j scores key j against every row of its warp (the query row read as a shared
// memory broadcast), the rows' running max and sum are updated with warp reductions (online
// softmax), the probabilities go through shared memory and each lane accumulates the output
// columns lane, lane + 32, ... (so head dims up to DMAX). Writes O and the rows' logsumexp.
//
// Backward recomputes P = exp(scores - lse): sdpa_delta_k computes D = rowsum(dO * O);
// sdpa_bwd_dq_k (laid out as the forward) sums dQ = scale * dS @ K over the keys and writes dS
// as the bias gradient when asked; sdpa_bwd_dkdv_k, a block per (batch, kv head, tile of KT
// keys), sums dV = P^T @ dO and dK = scale * dS^T @ Q over the query tiles of every query head
// of the GQA group. No atomics: every gradient element has one writer, results are
// deterministic.
//
// A query row that no key is visible to has lse = +inf: its output, and every P recomputed
// from it, is 0 (torch's SDPA gives zeros there, not NaN).

typedef typename Acc<T>::type A;

#define WARPS 4
#define KT 32
#define DMAX 128
#define CMAX (DMAX / 32)
// Query rows per warp: fewer in double, whose registers and shared memory are twice as wide.
constexpr int RPW = sizeof(A) == 4 ? 16 : 8;
constexpr int BQ = WARPS * RPW;

__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_inf(float) { return __int_as_float(0x7f800000); }
__device__ __forceinline__ double m_inf(double) { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ A max_(A a, A b) { return a > b ? a : b; }

__device__ __forceinline__ i64 at(const Geo& g, i64 b, i64 h, i64 r, i64 c) {
    return b * g.b + h * g.h + r * g.r + c * g.c;
}

// Copies rows r0 .. r0 + rows of head (b, h) of x (cols columns) into sh, row stride ld,
// widened; rows at or past `limit` become zeros. All threads of the block take part.
__device__ __forceinline__ void stage(A* sh, int ld, const T* x, const Geo& g, i64 b, i64 h,
                                      i64 r0, int rows, i64 limit, int cols) {
    for (int idx = threadIdx.x; idx < rows * cols; idx += blockDim.x) {
        const int r = idx / cols, c = idx - r * cols;
        const i64 row = r0 + r;
        sh[r * ld + c] = row < limit ? widen(x[at(g, b, h, row, c)]) : A(0);
    }
}

// The score of query row i against key j (scale * dot already in `dot`), with the bias and
// the masks: -inf for a key past the end, a causally hidden key, or a row past the end.
__device__ __forceinline__ A masked_score(const Args& a, const T* bias, A dot, i64 b, i64 h,
                                          i64 i, i64 j) {
    if (i >= a.l || j >= a.s || (a.causal && j > i)) return -m_inf(A(0));
    A x = dot * (A)a.scale;
    if (a.has_bias) x += widen(bias[at(a.bias, b, h, i, j)]);
    return x;
}

// Shared memory of the forward and dq kernels, in elements of A (the host sizes it the same).
// Qs [BQ][e], Ks [KT][e + 1], Vs [KT][ev + 1], Ps [BQ][KT], and for dq, dOs [BQ][ev]. The +1
// keeps lane j's walk along row j of K and V free of bank conflicts.
__device__ __forceinline__ void rows_layout(A* sm, const Args& a, A** qs, A** ks, A** vs, A** ps,
                                            A** dos) {
    const int e = (int)a.e, ev = (int)a.ev;
    *qs = sm;
    *ks = *qs + BQ * e;
    *vs = *ks + KT * (e + 1);
    *ps = *vs + KT * (ev + 1);
    *dos = *ps + BQ * KT;
}

extern "C" __global__ void __launch_bounds__(WARPS * 32)
    sdpa_fwd_k(const T* q, const T* k, const T* v, const T* bias, T* out, A* lse, Args a) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    A *qs, *ks, *vs, *ps, *dos;
    rows_layout(reinterpret_cast<A*>(smem_raw), a, &qs, &ks, &vs, &ps, &dos);
    const int e = (int)a.e, ev = (int)a.ev;
    const i64 tiles = (a.l + BQ - 1) / BQ;
    const i64 bh = blockIdx.x / tiles, i0 = (blockIdx.x - bh * tiles) * BQ;
    const i64 b = bh / a.heads, h = bh - b * a.heads, hk = h / a.groups;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const A ninf = -m_inf(A(0));

    stage(qs, e, q, a.q, b, h, i0, BQ, a.l, e);
    A m[RPW], sum[RPW], o[RPW][CMAX];
#pragma unroll
    for (int r = 0; r < RPW; ++r) {
        m[r] = ninf;
        sum[r] = 0;
#pragma unroll
        for (int c = 0; c < CMAX; ++c) o[r][c] = 0;
    }
    const i64 key_end = a.causal ? min64(a.s, i0 + BQ) : a.s;
    A* pw = ps + w * RPW * KT;
    const A* qw = qs + w * RPW * e;
    for (i64 j0 = 0; j0 < key_end; j0 += KT) {
        __syncthreads();  // the previous tile is no longer read
        stage(ks, e + 1, k, a.k, b, hk, j0, KT, a.s, e);
        stage(vs, ev + 1, v, a.v, b, hk, j0, KT, a.s, ev);
        __syncthreads();
        A s[RPW];
#pragma unroll
        for (int r = 0; r < RPW; ++r) s[r] = 0;
        const A* kl = ks + lane * (e + 1);
        for (int c = 0; c < e; ++c) {
            const A kv = kl[c];
#pragma unroll
            for (int r = 0; r < RPW; ++r) s[r] += qw[r * e + c] * kv;
        }
#pragma unroll
        for (int r = 0; r < RPW; ++r) {
            const i64 i = i0 + w * RPW + r;
            const A x = masked_score(a, bias, s[r], b, h, i, j0 + lane);
            const A m_new = max_(m[r], warp_allreduce(x, [](A u, A t) { return max_(u, t); }));
            A p = 0, alpha = 1;
            if (m_new != ninf) {
                p = m_exp(x - m_new);
                alpha = m_exp(m[r] - m_new);
            }
            sum[r] = sum[r] * alpha + warp_allreduce(p, [](A u, A t) { return u + t; });
            m[r] = m_new;
#pragma unroll
            for (int c = 0; c < CMAX; ++c) o[r][c] *= alpha;
            pw[r * KT + lane] = p;
        }
        __syncwarp();
        for (int j = 0; j < KT; ++j) {
            A vv[CMAX];
#pragma unroll
            for (int c = 0; c < CMAX; ++c) {
                const int col = lane + 32 * c;
                vv[c] = col < ev ? vs[j * (ev + 1) + col] : A(0);
            }
#pragma unroll
            for (int r = 0; r < RPW; ++r) {
                const A p = pw[r * KT + j];
#pragma unroll
                for (int c = 0; c < CMAX; ++c) o[r][c] += p * vv[c];
            }
        }
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < RPW; ++r) {
        const i64 i = i0 + w * RPW + r;
        if (i >= a.l) continue;
        const i64 row = bh * a.l + i;
        const bool dead = sum[r] == A(0);
        const A inv = dead ? A(0) : A(1) / sum[r];
#pragma unroll
        for (int c = 0; c < CMAX; ++c) {
            const int col = lane + 32 * c;
            if (col < ev) store(out + at(a.o, b, h, i, col), o[r][c] * inv);
        }
        if (lane == 0) lse[row] = dead ? m_inf(A(0)) : m[r] + m_log(sum[r]);
    }
}

// D[row] = sum_c dO[row, c] * O[row, c]: a warp per row, rows grid-stride.
extern "C" __global__ void sdpa_delta_k(const T* dout, const T* out, A* delta, Args a) {
    const int lane = threadIdx.x & 31;
    const i64 rows = a.batch * a.heads * a.l;
    const i64 wpb = blockDim.x >> 5;
    for (i64 row = (i64)blockIdx.x * wpb + (threadIdx.x >> 5); row < rows; row += (i64)gridDim.x * wpb) {
        const i64 bh = row / a.l, i = row - bh * a.l, b = bh / a.heads, h = bh - b * a.heads;
        A s = 0;
        for (i64 c = lane; c < a.ev; c += 32) s += widen(dout[at(a.dout, b, h, i, c)]) * widen(out[at(a.o, b, h, i, c)]);
        s = warp_allreduce(s, [](A u, A t) { return u + t; });
        if (lane == 0) delta[row] = s;
    }
}

// dQ (and dS into dbias, contiguous (bh, l, s), when it is not null): laid out as the forward.
extern "C" __global__ void __launch_bounds__(WARPS * 32)
    sdpa_bwd_dq_k(const T* q, const T* k, const T* v, const T* bias, const T* dout, const A* lse,
                  const A* delta, T* dq, T* dbias, Args a) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    A *qs, *ks, *vs, *ps, *dos;
    rows_layout(reinterpret_cast<A*>(smem_raw), a, &qs, &ks, &vs, &ps, &dos);
    const int e = (int)a.e, ev = (int)a.ev;
    const i64 tiles = (a.l + BQ - 1) / BQ;
    const i64 bh = blockIdx.x / tiles, i0 = (blockIdx.x - bh * tiles) * BQ;
    const i64 b = bh / a.heads, h = bh - b * a.heads, hk = h / a.groups;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;

    stage(qs, e, q, a.q, b, h, i0, BQ, a.l, e);
    stage(dos, ev, dout, a.dout, b, h, i0, BQ, a.l, ev);
    A row_lse[RPW], row_d[RPW], acc[RPW][CMAX];
#pragma unroll
    for (int r = 0; r < RPW; ++r) {
        const i64 i = i0 + w * RPW + r;
        row_lse[r] = i < a.l ? lse[bh * a.l + i] : m_inf(A(0));
        row_d[r] = i < a.l ? delta[bh * a.l + i] : A(0);
#pragma unroll
        for (int c = 0; c < CMAX; ++c) acc[r][c] = 0;
    }
    const i64 key_end = a.causal ? min64(a.s, i0 + BQ) : a.s;
    A* pw = ps + w * RPW * KT;
    const A* qw = qs + w * RPW * e;
    const A* dow = dos + w * RPW * ev;
    for (i64 j0 = 0; j0 < key_end; j0 += KT) {
        __syncthreads();
        stage(ks, e + 1, k, a.k, b, hk, j0, KT, a.s, e);
        stage(vs, ev + 1, v, a.v, b, hk, j0, KT, a.s, ev);
        __syncthreads();
        A s[RPW], dp[RPW];
#pragma unroll
        for (int r = 0; r < RPW; ++r) s[r] = dp[r] = 0;
        const A* kl = ks + lane * (e + 1);
        for (int c = 0; c < e; ++c) {
            const A kv = kl[c];
#pragma unroll
            for (int r = 0; r < RPW; ++r) s[r] += qw[r * e + c] * kv;
        }
        const A* vl = vs + lane * (ev + 1);
        for (int c = 0; c < ev; ++c) {
            const A vv = vl[c];
#pragma unroll
            for (int r = 0; r < RPW; ++r) dp[r] += dow[r * ev + c] * vv;
        }
        const i64 j = j0 + lane;
#pragma unroll
        for (int r = 0; r < RPW; ++r) {
            const i64 i = i0 + w * RPW + r;
            const A x = masked_score(a, bias, s[r], b, h, i, j);
            const A p = x == -m_inf(A(0)) ? A(0) : m_exp(x - row_lse[r]);
            const A ds = p * (dp[r] - row_d[r]);
            pw[r * KT + lane] = ds;
            if (dbias != nullptr && i < a.l && j < a.s) store(dbias + (bh * a.l + i) * a.s + j, ds);
        }
        __syncwarp();
        for (int jj = 0; jj < KT; ++jj) {
            A kv[CMAX];
#pragma unroll
            for (int c = 0; c < CMAX; ++c) {
                const int col = lane + 32 * c;
                kv[c] = col < e ? ks[jj * (e + 1) + col] : A(0);
            }
#pragma unroll
            for (int r = 0; r < RPW; ++r) {
                const A ds = pw[r * KT + jj];
#pragma unroll
                for (int c = 0; c < CMAX; ++c) acc[r][c] += ds * kv[c];
            }
        }
        __syncwarp();
    }
    const A scale = (A)a.scale;
#pragma unroll
    for (int r = 0; r < RPW; ++r) {
        const i64 i = i0 + w * RPW + r;
        if (i >= a.l) continue;
#pragma unroll
        for (int c = 0; c < CMAX; ++c) {
            const int col = lane + 32 * c;
            if (col < e) store(dq + at(a.dq, b, h, i, col), acc[r][c] * scale);
        }
    }
}

// Keys of a dK/dV block each warp accumulates.
#define KPW (KT / WARPS)

// dK and dV of a tile of KT keys of one (batch, kv head), over every query of the heads of its
// GQA group. Shared memory (elements of A): Ks [KT][e + 1], Vs [KT][ev + 1], Qs [BQ][e],
// dOs [BQ][ev], Ps [BQ][KT], dSs [BQ][KT]. Scores: lane = key, warp = RPW query rows (as the
// forward); accumulation: warp w owns keys w * KPW .., lane the columns lane, lane + 32, ...
extern "C" __global__ void __launch_bounds__(WARPS * 32)
    sdpa_bwd_dkdv_k(const T* q, const T* k, const T* v, const T* bias, const T* dout, const A* lse,
                    const A* delta, T* dk, T* dv, Args a) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    const int e = (int)a.e, ev = (int)a.ev;
    A* ks = reinterpret_cast<A*>(smem_raw);
    A* vs = ks + KT * (e + 1);
    A* qs = vs + KT * (ev + 1);
    A* dos = qs + BQ * e;
    A* ps = dos + BQ * ev;
    A* dss = ps + BQ * KT;
    const i64 hkv = a.heads / a.groups;
    const i64 tiles = (a.s + KT - 1) / KT;
    const i64 bk = blockIdx.x / tiles, j0 = (blockIdx.x - bk * tiles) * KT;
    const i64 b = bk / hkv, hk = bk - b * hkv;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const A ninf = -m_inf(A(0));

    stage(ks, e + 1, k, a.k, b, hk, j0, KT, a.s, e);
    stage(vs, ev + 1, v, a.v, b, hk, j0, KT, a.s, ev);
    A gk[KPW][CMAX], gv[KPW][CMAX];
#pragma unroll
    for (int jj = 0; jj < KPW; ++jj)
#pragma unroll
        for (int c = 0; c < CMAX; ++c) gk[jj][c] = gv[jj][c] = 0;
    // Causal: rows before j0 see none of these keys.
    const i64 i_start = a.causal ? j0 : 0;
    const i64 j = j0 + lane;
    for (i64 h = hk * a.groups; h < (hk + 1) * a.groups; ++h) {
        const i64 bh = b * a.heads + h;
        for (i64 i0 = i_start; i0 < a.l; i0 += BQ) {
            __syncthreads();  // the previous query tile is no longer read
            stage(qs, e, q, a.q, b, h, i0, BQ, a.l, e);
            stage(dos, ev, dout, a.dout, b, h, i0, BQ, a.l, ev);
            __syncthreads();
            A s[RPW], dp[RPW];
#pragma unroll
            for (int r = 0; r < RPW; ++r) s[r] = dp[r] = 0;
            const A* qw = qs + w * RPW * e;
            const A* dow = dos + w * RPW * ev;
            const A* kl = ks + lane * (e + 1);
            for (int c = 0; c < e; ++c) {
                const A kv = kl[c];
#pragma unroll
                for (int r = 0; r < RPW; ++r) s[r] += qw[r * e + c] * kv;
            }
            const A* vl = vs + lane * (ev + 1);
            for (int c = 0; c < ev; ++c) {
                const A vv = vl[c];
#pragma unroll
                for (int r = 0; r < RPW; ++r) dp[r] += dow[r * ev + c] * vv;
            }
#pragma unroll
            for (int r = 0; r < RPW; ++r) {
                const int rr = w * RPW + r;
                const i64 i = i0 + rr;
                const A x = masked_score(a, bias, s[r], b, h, i, j);
                const A p = x == ninf ? A(0) : m_exp(x - lse[bh * a.l + i]);
                ps[rr * KT + lane] = p;
                dss[rr * KT + lane] = x == ninf ? A(0) : p * (dp[r] - delta[bh * a.l + i]);
            }
            __syncthreads();
            const int rows = (int)min64((i64)BQ, a.l - i0);
            for (int rr = 0; rr < rows; ++rr) {
                A qv[CMAX], gov[CMAX];
#pragma unroll
                for (int c = 0; c < CMAX; ++c) {
                    const int col = lane + 32 * c;
                    qv[c] = col < e ? qs[rr * e + col] : A(0);
                    gov[c] = col < ev ? dos[rr * ev + col] : A(0);
                }
#pragma unroll
                for (int jj = 0; jj < KPW; ++jj) {
                    const A p = ps[rr * KT + w * KPW + jj], ds = dss[rr * KT + w * KPW + jj];
#pragma unroll
                    for (int c = 0; c < CMAX; ++c) {
                        gv[jj][c] += p * gov[c];
                        gk[jj][c] += ds * qv[c];
                    }
                }
            }
        }
    }
    const A scale = (A)a.scale;
#pragma unroll
    for (int jj = 0; jj < KPW; ++jj) {
        const i64 jk = j0 + w * KPW + jj;
        if (jk >= a.s) continue;
#pragma unroll
        for (int c = 0; c < CMAX; ++c) {
            const int col = lane + 32 * c;
            if (col < e) store(dk + at(a.dk, b, hk, jk, col), gk[jj][c] * scale);
            if (col < ev) store(dv + at(a.dv, b, hk, jk, col), gv[jj][c]);
        }
    }
}
