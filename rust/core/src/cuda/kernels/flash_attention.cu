// Scaled-dot-product attention on tensor cores (flash-attention-2), for f16 and bf16 with head
// dims of 64 or 128 on sm_80 and later. Specialised by T (f16 or bf16) and HD (the head dim, of
// queries, keys and values alike).
//
// Every product runs as mma.sync m16n8k16 with float accumulators, on fragments that each warp
// loads from shared memory with ldmatrix (.trans where the fragment's pairs lie down a column
// of the stored tile). The accumulators of the scores
// have the layout of the A operand of the next product, so probabilities never leave the
// registers.
//
// flash_fwd_k: a block of 4 warps per (batch, head, tile of BM = 64 queries), 16 query rows a
//   warp; keys and values go by in tiles of BN = 64 with an online softmax in base 2. Writes O
//   and each row's logsumexp (natural log, +inf for a row no key is visible to).
// flash_bwd_k: a block per (batch, key/value head, tile of 64 keys), 16 keys a warp; goes over
//   the query tiles of every query head of the GQA group, recomputes P = exp(S - lse) and
//   dS = P * (dO @ V^T - delta) (delta = rowsum(dO * O) from attention.cu's sdpa_delta_k) with
//   the transposed products, and sums dV = P^T @ dO and dK = dS^T @ Q in registers. dS goes
//   through shared memory for dQ = dS @ K, which every key tile adds into a float buffer
//   (atomics); flash_dq_k scales and rounds that buffer into dQ.
//
// The host (cuda/flash_attention.rs) guarantees: rows of q, k, v, dO contiguous (column stride
// 1), every other stride a multiple of 8 elements and every base 16-byte aligned, so a row is
// read in 16-byte pieces. O, dQ, dK and dV are fresh tensors written through their strides
// (rows contiguous, in pairs of elements), in the memory order of q, k and v as torch's flash
// kernels write them.

#define WARPS 4
#define BM 64
#define BN 64
// Row stride of a tile in shared memory: 8 elements of padding put the rows read by one
// fragment load (32-bit or ldmatrix) in different banks.
#define LD (HD + 8)
// Query rows per tile in the backward kernel: fewer for the wide head dim, whose dK and dV
// accumulators take twice the registers.
#define BQ2 (HD == 128 ? 32 : 64)
// Row stride of the dS^T tile (keys x queries) in shared memory.
#define LDQ (BQ2 + 8)
// Columns of dQ a warp adds per query tile: the tile's BQ2 x HD split over the warps.
#define DQC (HD * (BQ2 / 16) / WARPS)
// Blocks per multiprocessor the backward kernel's registers are capped for.
#define MIN_BLOCKS (HD == 128 ? 2 : 3)

constexpr float LOG2E = 1.4426950408889634f;
constexpr float LN2 = 0.6931471805599453f;

__device__ __forceinline__ float inf_f() { return __int_as_float(0x7f800000); }

// ---- fragments ------------------------------------------------------------------------------

// mma.sync and the rounding of two floats into one register of the A operand (`lo` at the lower
// column), for the 16-bit type named `NAME` in PTX.
template <class E> struct Mma;
#define MMA_FOR(E, NAME)                                                                         \
    template <> struct Mma<E> {                                                                  \
        static __device__ __forceinline__ void run(float c[4], const unsigned a[4],              \
                                                   const unsigned b[2]) {                        \
            asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." NAME "." NAME                   \
                         ".f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"            \
                         : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])                        \
                         : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));    \
        }                                                                                        \
        static __device__ __forceinline__ unsigned pack(float lo, float hi) {                    \
            unsigned r;                                                                          \
            asm("cvt.rn." NAME "x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));              \
            return r;                                                                            \
        }                                                                                        \
    };
MMA_FOR(bf16, "bf16")
MMA_FOR(f16, "f16")
typedef Mma<T> M;

__device__ __forceinline__ unsigned smem_addr(const void* p) {
    unsigned a;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(a) : "l"(p));
    return a;
}

// Four 8 x 8 matrices of 16-bit elements from shared memory, lanes 8 i .. 8 i + 7 giving the
// addresses of matrix i's rows; lane 4 g + t receives elements (g, 2t) and (g, 2t + 1) of each
// (with .trans, elements (2t, g) and (2t + 1, g)).
__device__ __forceinline__ void ldsm4(unsigned r[4], const T* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldsm4_trans(unsigned r[4], const T* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

// In the fragments below lane = 4 g + t: g picks a row (of 8), t a pair of columns (of 4).

// The A operand (16 x 16, row-major) at `s`: matrices (rows 0-7 | 8-15) x (cols 0-7 | 8-15).
__device__ __forceinline__ void load_a(unsigned a[4], const T* s, int lane) {
    ldsm4(a, s + (lane & 15) * LD + (lane >> 4) * 8);
}

// The B operands (16 x 8, k x n) of two adjacent n-tiles stored as rows of n, B[k][n] = s[n][k]
// (keys for Q @ K^T): b[0..1] for columns 0-7, b[2..3] for columns 8-15.
__device__ __forceinline__ void load_b_nk(unsigned b[4], const T* s, int lane) {
    ldsm4(b, s + ((lane & 7) + ((lane >> 4) << 3)) * LD + ((lane >> 3) & 1) * 8);
}

// The B operands of two adjacent n-tiles stored as rows of k, B[k][n] = s[k][n] (values for
// P @ V), transposed by ldmatrix: b[0..1] for columns 0-7, b[2..3] for columns 8-15.
__device__ __forceinline__ void load_b_kn(unsigned b[4], const T* s, int lane) {
    ldsm4_trans(b, s + (lane & 15) * LD + (lane >> 4) * 8);
}

// 2^x, with -inf giving 0 (the hardware approximation, as flash attention uses).
__device__ __forceinline__ float exp2_(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// The A operand for the k-step `kk` of a product whose left factor is a 16 x N accumulator
// (N/8 tiles of 4): its tiles 2 kk and 2 kk + 1, rounded to T.
__device__ __forceinline__ void acc_to_a(unsigned a[4], const float (*c)[4], int kk) {
    a[0] = M::pack(c[2 * kk][0], c[2 * kk][1]);
    a[1] = M::pack(c[2 * kk][2], c[2 * kk][3]);
    a[2] = M::pack(c[2 * kk + 1][0], c[2 * kk + 1][1]);
    a[3] = M::pack(c[2 * kk + 1][2], c[2 * kk + 1][3]);
}

// c[N/8][4] = 0.
template <int N> __device__ __forceinline__ void zero(float (*c)[4]) {
#pragma unroll
    for (int n = 0; n < N / 8; ++n) c[n][0] = c[n][1] = c[n][2] = c[n][3] = 0.f;
}

// c (16 x N) += A (16 x HD rows of `a`) @ B^T, B (N x HD) the rows of `b`: scores.
template <int N>
__device__ __forceinline__ void mma_abt(float (*c)[4], const T* a, const T* b, int lane) {
#pragma unroll
    for (int kk = 0; kk < HD / 16; ++kk) {
        unsigned fa[4];
        load_a(fa, a + kk * 16, lane);
#pragma unroll
        for (int n = 0; n < N / 8; n += 2) {
            unsigned fb[4];
            load_b_nk(fb, b + n * 8 * LD + kk * 16, lane);
            M::run(c[n], fa, fb);
            M::run(c[n + 1], fa, fb + 2);
        }
    }
}

// c (16 x HD) += P (16 x K, accumulator tiles `p`) @ B, B (K x HD) the rows of `b`.
template <int K>
__device__ __forceinline__ void mma_pb(float (*c)[4], const float (*p)[4], const T* b, int lane) {
#pragma unroll
    for (int kk = 0; kk < K / 16; ++kk) {
        unsigned fa[4];
        acc_to_a(fa, p, kk);
#pragma unroll
        for (int n = 0; n < HD / 8; n += 2) {
            unsigned fb[4];
            load_b_kn(fb, b + kk * 16 * LD + n * 8, lane);
            M::run(c[n], fa, fb);
            M::run(c[n + 1], fa, fb + 2);
        }
    }
}

// ---- tiles ----------------------------------------------------------------------------------

// Row r of head (b, h) of x.
template <class X> __device__ __forceinline__ X* row_ptr(X* x, const Geo& g, i64 b, i64 h, i64 r) {
    return x + b * g.b + h * g.h + r * g.r;
}

// Asynchronous copies to shared memory (sm_80's cp.async): `bytes` from `src` when `valid`,
// else zeros (a source size of 0 reads nothing).
template <int BYTES>
__device__ __forceinline__ void cp_async(void* dst, const void* src, bool valid) {
    if (BYTES == 16) {
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(smem_addr(dst)), "l"(src),
                     "r"(valid ? 16 : 0)
                     : "memory");
    } else {
        asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(smem_addr(dst)), "l"(src),
                     "r"(valid ? 4 : 0)
                     : "memory");
    }
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N> __device__ __forceinline__ void cp_wait() {
    asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

// Starts copying rows r0 .. r0 + ROWS of head (b, h) of x into `sh` in 16-byte pieces; rows at
// or past `limit` become zeros. All threads of the block take part.
template <int ROWS>
__device__ __forceinline__ void load_tile(T* sh, const T* x, const Geo& g, i64 b, i64 h, i64 r0,
                                          i64 limit) {
    constexpr int PIECES = HD / 8;
#pragma unroll
    for (int idx = threadIdx.x; idx < ROWS * PIECES; idx += WARPS * 32) {
        const int r = idx / PIECES, c = idx - r * PIECES;
        const bool valid = r0 + r < limit;
        const T* src = valid ? row_ptr(x, g, b, h, r0 + r) + c * 8 : x;
        cp_async<16>(sh + r * LD + c * 8, src, valid);
    }
}

// Starts copying `rows` floats of x from r0 into `sh`, zeros at or past `limit`.
__device__ __forceinline__ void load_floats(float* sh, const float* x, i64 r0, int rows, i64 limit) {
    for (int r = threadIdx.x; r < rows; r += WARPS * 32) {
        const bool valid = r0 + r < limit;
        cp_async<4>(sh + r, valid ? x + r0 + r : x, valid);
    }
}

// Writes rows g and g + 8 of a warp's 16 x HD accumulator, times `f0` / `f1`, to rows g and
// g + 8 of `out`, whose rows are `rs` elements apart (rows at or past `limit` are skipped).
__device__ __forceinline__ void store_rows(T* out, i64 rs, const float (*c)[4], i64 limit,
                                           float f0, float f1, int lane) {
    const int g = lane >> 2, t = lane & 3;
    unsigned* o0 = reinterpret_cast<unsigned*>(out + g * rs + 2 * t);
    unsigned* o1 = reinterpret_cast<unsigned*>(out + (g + 8) * rs + 2 * t);
    const bool w0 = g < limit, w1 = g + 8 < limit;
#pragma unroll
    for (int n = 0; n < HD / 8; ++n) {
        if (w0) o0[n * 4] = M::pack(c[n][0] * f0, c[n][1] * f0);
        if (w1) o1[n * 4] = M::pack(c[n][2] * f1, c[n][3] * f1);
    }
}

// The max (or sum) over the 4 lanes that hold one row.
__device__ __forceinline__ float quad_max(float x) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
    return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ __forceinline__ float quad_sum(float x) {
    x += __shfl_xor_sync(0xffffffffu, x, 1);
    return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

// Block `blockIdx.x` as (batch, head, first query row) of a grid over query tiles of BM,
// the longest (last, under the causal mask) tiles first so the short ones fill the tail.
__device__ __forceinline__ void query_tile(const Args& a, i64* b, i64* h, i64* i0) {
    const i64 tiles = (a.l + BM - 1) / BM;
    const i64 bh = blockIdx.x / tiles;
    *i0 = (tiles - 1 - (blockIdx.x - bh * tiles)) * BM;
    *b = bh / a.heads;
    *h = bh - *b * a.heads;
}

// ---- forward --------------------------------------------------------------------------------

extern "C" __global__ void __launch_bounds__(WARPS * 32)
    flash_fwd_k(const T* q, const T* k, const T* v, T* out, float* lse, Args a) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    // Q, then two buffers of K and V: the next tile loads while this one is used.
    T* sq = reinterpret_cast<T*>(smem_raw);
    T* skv = sq + BM * LD;
    i64 b, h, i0;
    query_tile(a, &b, &h, &i0);
    const i64 hk = h / a.groups;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const float sl2 = (float)a.scale * LOG2E;
    // This thread's two rows.
    const i64 r0 = i0 + w * 16 + g, r1 = r0 + 8;

    const i64 key_end = a.causal ? min64(a.s, i0 + BM) : a.s;
    const int tiles = (int)((key_end + BN - 1) / BN);
    load_tile<BM>(sq, q, a.q, b, h, i0, a.l);
    if (tiles > 0) {
        load_tile<BN>(skv, k, a.k, b, hk, 0, a.s);
        load_tile<BN>(skv + BN * LD, v, a.v, b, hk, 0, a.s);
    }
    cp_commit();
    float o[HD / 8][4];
    zero<HD>(o);
    float m0 = -inf_f(), m1 = -inf_f(), l0 = 0.f, l1 = 0.f;
    for (int it = 0; it < tiles; ++it) {
        const i64 j0 = (i64)it * BN;
        const T* sk = skv + (it & 1) * 2 * BN * LD;
        const T* sv = sk + BN * LD;
        if (it + 1 < tiles) {
            T* nk = skv + ((it + 1) & 1) * 2 * BN * LD;
            load_tile<BN>(nk, k, a.k, b, hk, j0 + BN, a.s);
            load_tile<BN>(nk + BN * LD, v, a.v, b, hk, j0 + BN, a.s);
        }
        cp_commit();
        cp_wait<1>();  // this tile's group (and Q) has landed
        __syncthreads();
        float s[BN / 8][4];
        zero<BN>(s);
        mma_abt<BN>(s, sq + w * 16 * LD, sk, lane);
        // Scores in base 2; keys past the end or causally hidden are -inf.
        const bool edge = j0 + BN > a.s || (a.causal && j0 + BN - 1 > i0 + w * 16);
        float mx0 = -inf_f(), mx1 = -inf_f();
#pragma unroll
        for (int n = 0; n < BN / 8; ++n) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                float x = s[n][e] * sl2;
                if (edge) {
                    const i64 j = j0 + n * 8 + 2 * t + (e & 1), r = e < 2 ? r0 : r1;
                    if (j >= a.s || (a.causal && j > r)) x = -inf_f();
                }
                s[n][e] = x;
            }
            mx0 = fmaxf(mx0, fmaxf(s[n][0], s[n][1]));
            mx1 = fmaxf(mx1, fmaxf(s[n][2], s[n][3]));
        }
        const float n0 = fmaxf(m0, quad_max(mx0)), n1 = fmaxf(m1, quad_max(mx1));
        // A row with nothing visible yet shifts by 0, keeping its exponentials at 0, not NaN.
        const float z0 = n0 == -inf_f() ? 0.f : n0, z1 = n1 == -inf_f() ? 0.f : n1;
        const float c0 = exp2_(m0 - z0), c1 = exp2_(m1 - z1);
        m0 = n0;
        m1 = n1;
        float p0 = 0.f, p1 = 0.f;
#pragma unroll
        for (int n = 0; n < BN / 8; ++n) {
            s[n][0] = exp2_(s[n][0] - z0);
            s[n][1] = exp2_(s[n][1] - z0);
            s[n][2] = exp2_(s[n][2] - z1);
            s[n][3] = exp2_(s[n][3] - z1);
            p0 += s[n][0] + s[n][1];
            p1 += s[n][2] + s[n][3];
        }
        // Each lane keeps its part of the row sums; the 4 parts are added once at the end.
        l0 = l0 * c0 + p0;
        l1 = l1 * c1 + p1;
#pragma unroll
        for (int n = 0; n < HD / 8; ++n) {
            o[n][0] *= c0;
            o[n][1] *= c0;
            o[n][2] *= c1;
            o[n][3] *= c1;
        }
        mma_pb<BN>(o, s, sv, lane);
        __syncthreads();  // read by all before the next iteration's copy refills it
    }
    l0 = quad_sum(l0);
    l1 = quad_sum(l1);
    const i64 row0 = (b * a.heads + h) * a.l + i0 + w * 16;
    store_rows(row_ptr(out, a.o, b, h, i0 + w * 16), a.o.r, o, a.l - i0 - w * 16,
               l0 > 0.f ? 1.f / l0 : 0.f, l1 > 0.f ? 1.f / l1 : 0.f, lane);
    if (t == 0) {
        if (r0 < a.l) lse[row0 + g] = l0 > 0.f ? m0 * LN2 + logf(l0) : inf_f();
        if (r1 < a.l) lse[row0 + g + 8] = l1 > 0.f ? m1 * LN2 + logf(l1) : inf_f();
    }
}

// ---- backward --------------------------------------------------------------------

// One query tile's operands of the backward kernel in shared memory: Q and dO rows, and the rows'
// logsumexp and delta (zeros past the end: such a row has Q = dO = delta = 0, so it adds
// nothing to dK or dV).
struct QTile {
    T* q;
    T* dout;
    float* lse;
    float* delta;
};

__device__ __forceinline__ QTile q_tile(unsigned char* base, int buf) {
    constexpr int BYTES = 2 * BQ2 * LD * 2 + 2 * BQ2 * 4;
    QTile t;
    t.q = reinterpret_cast<T*>(base + buf * BYTES);
    t.dout = t.q + BQ2 * LD;
    t.lse = reinterpret_cast<float*>(t.dout + BQ2 * LD);
    t.delta = t.lse + BQ2;
    return t;
}

__device__ __forceinline__ void load_q_tile(const QTile& t, const T* q, const T* dout,
                                            const float* lse, const float* delta, const Args& a,
                                            i64 b, i64 h, i64 i0) {
    load_tile<BQ2>(t.q, q, a.q, b, h, i0, a.l);
    load_tile<BQ2>(t.dout, dout, a.dout, b, h, i0, a.l);
    const i64 rows = (b * a.heads + h) * a.l;
    load_floats(t.lse, lse + rows, i0, BQ2, a.l);
    load_floats(t.delta, delta + rows, i0, BQ2, a.l);
}

// dQ[i0 + q][c] += (dS @ K)[q][c] for this warp's share of the query tile (16 queries, DQC
// columns), from dS^T (keys x queries) in `sds` and the block's keys `sk`. `dq` is the head's
// first row in the float buffer, which has dQ's strides.
__device__ __forceinline__ void add_dq(float* dq, const T* sds, const T* sk, const Args& a,
                                       i64 i0, int w, int lane) {
    const int q0 = (w % (BQ2 / 16)) * 16, c0 = (w / (BQ2 / 16)) * DQC;
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int cc = 0; cc < DQC; cc += 32) {
        float acc[4][4];
        zero<32>(acc);
#pragma unroll
        for (int kk = 0; kk < BN / 16; ++kk) {
            // A = dS rows q0.., keys 16 kk..: the stored dS^T read transposed.
            unsigned fa[4];
            ldsm4_trans(fa, sds + (kk * 16 + (lane & 7) + ((lane >> 4) << 3)) * LDQ + q0 +
                                ((lane >> 3) & 1) * 8);
#pragma unroll
            for (int n = 0; n < 4; n += 2) {
                unsigned fb[4];
                load_b_kn(fb, sk + kk * 16 * LD + c0 + cc + n * 8, lane);
                M::run(acc[n], fa, fb);
                M::run(acc[n + 1], fa, fb + 2);
            }
        }
        const i64 r0 = i0 + q0 + g, r1 = r0 + 8;
#pragma unroll
        for (int n = 0; n < 4; ++n) {
            const int c = c0 + cc + n * 8 + 2 * t;
            if (r0 < a.l) {
                atomicAdd(dq + r0 * a.dq.r + c, acc[n][0]);
                atomicAdd(dq + r0 * a.dq.r + c + 1, acc[n][1]);
            }
            if (r1 < a.l) {
                atomicAdd(dq + r1 * a.dq.r + c, acc[n][2]);
                atomicAdd(dq + r1 * a.dq.r + c + 1, acc[n][3]);
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(WARPS * 32, MIN_BLOCKS)
    flash_bwd_k(const T* q, const T* k, const T* v, const T* dout, const float* lse,
                const float* delta, float* dq_acc, T* dk, T* dv, Args a) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    // K and V of the block's keys, dS^T of a query tile, then two buffers of query tiles.
    T* sk = reinterpret_cast<T*>(smem_raw);
    T* sv = sk + BN * LD;
    T* sds = sv + BN * LD;
    unsigned char* qbufs = reinterpret_cast<unsigned char*>(sds + BN * LDQ);
    const i64 kv_heads = a.heads / a.groups;
    const i64 key_tiles = (a.s + BN - 1) / BN;
    const i64 bh = blockIdx.x / key_tiles, j0 = (blockIdx.x - bh * key_tiles) * BN;
    const i64 b = bh / kv_heads, hk = bh - b * kv_heads;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const float sl2 = (float)a.scale * LOG2E;
    // This thread's two keys.
    const i64 kj0 = j0 + w * 16 + g, kj1 = kj0 + 8;
    // Under the causal mask, queries before the first key of the tile see none of it. The
    // loop goes over (query head of the group, query tile) pairs.
    const i64 q_start = a.causal ? j0 / BQ2 * BQ2 : 0;
    const int per_head = a.l > q_start ? (int)((a.l - q_start + BQ2 - 1) / BQ2) : 0;
    const int steps = per_head * (int)a.groups;

    load_tile<BN>(sk, k, a.k, b, hk, j0, a.s);
    load_tile<BN>(sv, v, a.v, b, hk, j0, a.s);
    if (steps > 0) load_q_tile(q_tile(qbufs, 0), q, dout, lse, delta, a, b, hk * a.groups, q_start);
    cp_commit();
    float gk[HD / 8][4], gv[HD / 8][4];
    zero<HD>(gk);
    zero<HD>(gv);
    for (int it = 0; it < steps; ++it) {
        const i64 h = hk * a.groups + it / per_head;
        const i64 i0 = q_start + (i64)(it % per_head) * BQ2;
        if (it + 1 < steps) {
            const i64 nh = hk * a.groups + (it + 1) / per_head;
            const i64 n0 = q_start + (i64)((it + 1) % per_head) * BQ2;
            load_q_tile(q_tile(qbufs, (it + 1) & 1), q, dout, lse, delta, a, b, nh, n0);
        }
        cp_commit();
        cp_wait<1>();
        __syncthreads();
        const QTile qt = q_tile(qbufs, it & 1);
        // Transposed scores: rows are this warp's keys, columns the tile's queries.
        float s[BQ2 / 8][4], dp[BQ2 / 8][4];
        zero<BQ2>(s);
        zero<BQ2>(dp);
        mma_abt<BQ2>(s, sk + w * 16 * LD, qt.q, lane);
        mma_abt<BQ2>(dp, sv + w * 16 * LD, qt.dout, lane);
        const bool edge = a.causal && j0 + w * 16 + 15 > i0;
#pragma unroll
        for (int n = 0; n < BQ2 / 8; ++n) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int c = n * 8 + 2 * t + e;
                const float ls = qt.lse[c] * LOG2E, dl = qt.delta[c];
                float p0 = exp2_(s[n][e] * sl2 - ls), p1 = exp2_(s[n][e + 2] * sl2 - ls);
                if (edge) {
                    if (kj0 > i0 + c) p0 = 0.f;
                    if (kj1 > i0 + c) p1 = 0.f;
                }
                s[n][e] = p0;
                s[n][e + 2] = p1;
                dp[n][e] = p0 * (dp[n][e] - dl);
                dp[n][e + 2] = p1 * (dp[n][e + 2] - dl);
            }
        }
        mma_pb<BQ2>(gv, s, qt.dout, lane);
        mma_pb<BQ2>(gk, dp, qt.q, lane);
        // dS^T of the warp's keys to shared memory, for dQ = dS @ K over all the block's keys.
#pragma unroll
        for (int n = 0; n < BQ2 / 8; ++n) {
            const int c = n * 8 + 2 * t;
            *reinterpret_cast<unsigned*>(sds + (w * 16 + g) * LDQ + c) = M::pack(dp[n][0], dp[n][1]);
            *reinterpret_cast<unsigned*>(sds + (w * 16 + g + 8) * LDQ + c) = M::pack(dp[n][2], dp[n][3]);
        }
        __syncthreads();
        add_dq(row_ptr(dq_acc, a.dq, b, h, 0), sds, sk, a, i0, w, lane);
        __syncthreads();  // the buffers are read by all before they are refilled
    }
    const i64 kr0 = j0 + w * 16, limit = a.s - kr0;
    store_rows(row_ptr(dk, a.dk, b, hk, kr0), a.dk.r, gk, limit, (float)a.scale, (float)a.scale,
               lane);
    store_rows(row_ptr(dv, a.dv, b, hk, kr0), a.dv.r, gv, limit, 1.f, 1.f, lane);
}

// dq = scale * dq_acc, rounded to T: n elements of two dense buffers with the same strides.
extern "C" __global__ void flash_dq_k(const float* dq_acc, T* dq, float scale, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x)
        dq[i] = Convert<T, float>::run(dq_acc[i] * scale);
}
