// Scans along one dim of a contiguous [outer, n, inner] input into a contiguous output of the
// same shape. Specialised by T (element type) and IS_FLOAT.
//
// Each op is a struct: its state A, `init` (the identity), `lift` (the state of one element at
// position i), `combine(earlier, later)` (associative) and `write`. Long rows take a block
// each (a shared-memory scan of blockDim elements at a time, carrying the total); short rows
// or many rows take a thread each.

typedef typename Acc<T>::type V;

template <class X> __device__ __forceinline__ bool is_nan(X x) { return x != x; }

#if IS_FLOAT
typedef V S;
#else
typedef i64 S;
#endif

__device__ __forceinline__ float add_s(float a, float b) { return a + b; }
__device__ __forceinline__ double add_s(double a, double b) { return a + b; }
__device__ __forceinline__ i64 add_s(i64 a, i64 b) {
    return (i64)((unsigned long long)a + (unsigned long long)b);
}
__device__ __forceinline__ float mul_s(float a, float b) { return a * b; }
__device__ __forceinline__ double mul_s(double a, double b) { return a * b; }
__device__ __forceinline__ i64 mul_s(i64 a, i64 b) {
    return (i64)((unsigned long long)a * (unsigned long long)b);
}

// cumsum / cumprod: T is already the output dtype; floats run in their accumulator type,
// integers in int64 (wrapping), as torch.
template <bool SUM> struct OpCum {
    typedef S A;
    __device__ A init() const { return A(SUM ? 0 : 1); }
    __device__ A lift(V v, i64) const { return Convert<S, V>::run(v); }
    __device__ A combine(A a, A b) const { return SUM ? add_s(a, b) : mul_s(a, b); }
    __device__ void write(void* o0, void*, i64 k, A a) const {
        static_cast<T*>(o0)[k] = Convert<T, S>::run(a);
    }
};

// cummax / cummin: (value, index), index -1 when empty. A later element equal to the running
// extreme takes over its index, and NaN sticks once seen (later NaNs take the index), as torch.
struct CumExtAcc {
    V v;
    i64 i;
};
template <bool MAX> struct OpCumExt {
    typedef CumExtAcc A;
    __device__ A init() const {
        A a;
        a.v = V(0);
        a.i = -1;
        return a;
    }
    __device__ A lift(V v, i64 i) const {
        A a;
        a.v = v;
        a.i = i;
        return a;
    }
    __device__ A combine(A a, A b) const {
        if (b.i < 0) return a;
        if (a.i < 0) return b;
        const bool take = is_nan(b.v) || (!is_nan(a.v) && (MAX ? b.v >= a.v : b.v <= a.v));
        return take ? b : a;
    }
    __device__ void write(void* o0, void* o1, i64 k, A a) const {
        static_cast<T*>(o0)[k] = Convert<T, V>::run(a.v);
        static_cast<i64*>(o1)[k] = a.i;
    }
};

#if IS_FLOAT
// log(exp(a) + exp(b)) in double without overflow; NaN propagates, equal infinities stay.
__device__ __forceinline__ double log_add_exp(double a, double b) {
    double lo, hi;
    if (is_nan(b)) {
        lo = b;
        hi = b;
    } else {
        lo = fmin(a, b);
        hi = fmax(a, b);
    }
    // lo - lo == 0 exactly when lo is finite.
    if (lo != hi || lo - lo == 0.0) return log1p(exp(lo - hi)) + hi;
    return a;
}
struct OpLogcumsumexp {
    typedef double A;
    __device__ A init() const { return -__longlong_as_double(0x7ff0000000000000LL); }
    __device__ A lift(V v, i64) const { return (double)v; }
    __device__ A combine(A a, A b) const {
        // fmin/fmax drop NaN; keep it whichever side it is on.
        if (is_nan(a)) return a;
        return log_add_exp(a, b);
    }
    __device__ void write(void* o0, void*, i64 k, A a) const {
        static_cast<T*>(o0)[k] = Convert<T, double>::run(a);
    }
};
#endif

// Element i of row r: rows are (outer index, inner index) pairs.
__device__ __forceinline__ i64 row_base(i64 r, i64 n, i64 inner) {
    const i64 o = r / inner;
    return o * n * inner + (r - o * inner);
}

template <class Op>
__device__ void scan_thread(const Op& op, const T* x, i64 rows, i64 n, i64 inner, void* o0,
                            void* o1) {
    typedef typename Op::A A;
    FOR_EACH(r, rows) {
        const i64 base = row_base(r, n, inner);
        A s = op.init();
        for (i64 i = 0; i < n; ++i) {
            const i64 k = base + i * inner;
            s = op.combine(s, op.lift(load(x + k), i));
            op.write(o0, o1, k, s);
        }
    }
}

// Inclusive scan over the block (blockDim a multiple of 32, at most 1024); also returns the
// block's total.
template <class Op>
__device__ typename Op::A block_scan(const Op& op, typename Op::A a, typename Op::A* total) {
    typedef typename Op::A A;
    __shared__ __align__(16) unsigned char smem[32 * sizeof(A)];
    A* sh = reinterpret_cast<A*>(smem);
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
        const A y = shfl_up(a, off);
        if (lane >= off) a = op.combine(y, a);
    }
    __syncthreads();  // an earlier call may still read sh
    if (lane == 31) sh[w] = a;
    __syncthreads();
    if (w == 0) {
        A t = lane < nw ? sh[lane] : op.init();
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
            const A y = shfl_up(t, off);
            if (lane >= off) t = op.combine(y, t);
        }
        if (lane < nw) sh[lane] = t;
    }
    __syncthreads();
    if (w > 0) a = op.combine(sh[w - 1], a);
    *total = sh[nw - 1];
    return a;
}

template <class Op>
__device__ void scan_block(const Op& op, const T* x, i64 rows, i64 n, i64 inner, void* o0,
                           void* o1) {
    typedef typename Op::A A;
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const i64 base = row_base(r, n, inner);
        A carry = op.init();
        for (i64 i0 = 0; i0 < n; i0 += blockDim.x) {
            const i64 i = i0 + threadIdx.x;
            const i64 k = base + i * inner;
            A a = i < n ? op.lift(load(x + k), i) : op.init();
            A total;
            a = block_scan(op, a, &total);
            if (i < n) op.write(o0, o1, k, op.combine(carry, a));
            carry = op.combine(carry, total);
        }
    }
}

#define SCAN_KERNELS(NAME, OP)                                                                   \
    extern "C" __global__ void NAME##_thread(const T* x, i64 rows, i64 n, i64 inner, void* o0,  \
                                             void* o1) {                                        \
        OP op;                                                                                   \
        scan_thread(op, x, rows, n, inner, o0, o1);                                              \
    }                                                                                            \
    extern "C" __global__ void NAME##_block(const T* x, i64 rows, i64 n, i64 inner, void* o0,   \
                                            void* o1) {                                         \
        OP op;                                                                                   \
        scan_block(op, x, rows, n, inner, o0, o1);                                               \
    }

SCAN_KERNELS(cumsum, OpCum<true>)
SCAN_KERNELS(cumprod, OpCum<false>)
SCAN_KERNELS(cummax, OpCumExt<true>)
SCAN_KERNELS(cummin, OpCumExt<false>)
#if IS_FLOAT
SCAN_KERNELS(logcumsumexp, OpLogcumsumexp)
#endif
