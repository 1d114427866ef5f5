// Reductions. Specialised by T (element type) and IS_FLOAT (1 when T is floating).
//
// Each op is a struct: its accumulator type A, `init`, `acc` (folds one element with its
// linear index inside the reduced dims), `combine` (merges two partial results; results must
// not depend on the order, arg-reductions break ties by index) and `write` (stores the
// outputs of one output element from the accumulator of n elements). Every op gets the same
// three kernels: a block per output element (optionally split over `splits` blocks whose
// partial accumulators a second kernel combines), and a thread per output element for short
// reductions.

typedef typename Acc<T>::type V;

// Sums and products of integers and bool accumulate in int64, as torch.
#if IS_FLOAT
typedef V S;
typedef T SumOut;
#else
typedef i64 S;
typedef i64 SumOut;
#endif

template <class X> __device__ __forceinline__ bool is_nan(X x) { return x != x; }

__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float m_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double m_pow(double x, double y) { return pow(x, y); }
__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double m_abs(double x) { return fabs(x); }
__device__ __forceinline__ float m_inf(float) { return __int_as_float(0x7f800000); }
__device__ __forceinline__ double m_inf(double) { return __longlong_as_double(0x7ff0000000000000LL); }

// The smallest and largest value of each accumulator type: identities of max and min.
template <class X> struct Lim;
template <> struct Lim<float> {
    static __device__ float lo() { return -__int_as_float(0x7f800000); }
    static __device__ float hi() { return __int_as_float(0x7f800000); }
};
template <> struct Lim<double> {
    static __device__ double lo() { return -__longlong_as_double(0x7ff0000000000000LL); }
    static __device__ double hi() { return __longlong_as_double(0x7ff0000000000000LL); }
};
template <> struct Lim<b8> {
    static __device__ b8 lo() { return false; }
    static __device__ b8 hi() { return true; }
};
template <> struct Lim<u8> {
    static __device__ u8 lo() { return 0; }
    static __device__ u8 hi() { return 255; }
};
template <> struct Lim<i8> {
    static __device__ i8 lo() { return -128; }
    static __device__ i8 hi() { return 127; }
};
template <> struct Lim<i16> {
    static __device__ i16 lo() { return -32768; }
    static __device__ i16 hi() { return 32767; }
};
template <> struct Lim<i32> {
    static __device__ i32 lo() { return -2147483647 - 1; }
    static __device__ i32 hi() { return 2147483647; }
};
template <> struct Lim<i64> {
    static __device__ i64 lo() { return -9223372036854775807LL - 1; }
    static __device__ i64 hi() { return 9223372036854775807LL; }
};

// Whether x replaces the running extreme cur: strictly better, or a NaN over a number; a NaN
// is never replaced, so NaN propagates and its first index is kept (as torch).
template <bool MAX> __device__ __forceinline__ bool beats(V cur, V x) {
    return !is_nan(cur) && (is_nan(x) || (MAX ? x > cur : x < cur));
}

// Integer sums wrap like torch's int64 arithmetic (signed overflow is undefined in C++).
__device__ __forceinline__ i64 wrap_add(i64 a, i64 b) {
    return (i64)((unsigned long long)a + (unsigned long long)b);
}
__device__ __forceinline__ i64 wrap_mul(i64 a, i64 b) {
    return (i64)((unsigned long long)a * (unsigned long long)b);
}
__device__ __forceinline__ float add_s(float a, float b) { return a + b; }
__device__ __forceinline__ double add_s(double a, double b) { return a + b; }
__device__ __forceinline__ i64 add_s(i64 a, i64 b) { return wrap_add(a, b); }
__device__ __forceinline__ float mul_s(float a, float b) { return a * b; }
__device__ __forceinline__ double mul_s(double a, double b) { return a * b; }
__device__ __forceinline__ i64 mul_s(i64 a, i64 b) { return wrap_mul(a, b); }

__device__ __forceinline__ void put_sum(void* o, i64 k, S a) {
    static_cast<SumOut*>(o)[k] = Convert<SumOut, S>::run(a);
}
__device__ __forceinline__ void put_t(void* o, i64 k, V a) {
    static_cast<T*>(o)[k] = Convert<T, V>::run(a);
}

struct OpSum {
    typedef S A;
    double p;
    __device__ A init() const { return A(0); }
    __device__ A acc(A a, V v, i64) const { return add_s(a, Convert<S, V>::run(v)); }
    __device__ A combine(A a, A b) const { return add_s(a, b); }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_sum(o0, k, a); }
};

struct OpNansum {
    typedef S A;
    double p;
    __device__ A init() const { return A(0); }
    __device__ A acc(A a, V v, i64) const {
        return is_nan(v) ? a : add_s(a, Convert<S, V>::run(v));
    }
    __device__ A combine(A a, A b) const { return add_s(a, b); }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_sum(o0, k, a); }
};

struct OpProd {
    typedef S A;
    double p;
    __device__ A init() const { return A(1); }
    __device__ A acc(A a, V v, i64) const { return mul_s(a, Convert<S, V>::run(v)); }
    __device__ A combine(A a, A b) const { return mul_s(a, b); }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_sum(o0, k, a); }
};

template <bool MAX> struct OpExtreme {
    typedef V A;
    double p;
    __device__ A init() const { return MAX ? Lim<V>::lo() : Lim<V>::hi(); }
    __device__ A acc(A a, V v, i64) const { return beats<MAX>(a, v) ? v : a; }
    __device__ A combine(A a, A b) const { return beats<MAX>(a, b) ? b : a; }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_t(o0, k, a); }
};

// (value, index); index -1 marks an empty accumulator.
struct ArgAcc {
    V v;
    i64 i;
};
template <bool MAX> struct OpArg {
    typedef ArgAcc A;
    double p;
    __device__ A init() const {
        A a;
        a.v = MAX ? Lim<V>::lo() : Lim<V>::hi();
        a.i = -1;
        return a;
    }
    __device__ A acc(A a, V v, i64 i) const {
        if (a.i < 0 || beats<MAX>(a.v, v)) {
            a.v = v;
            a.i = i;
        }
        return a;
    }
    __device__ A combine(A a, A b) const {
        if (a.i < 0) return b;
        if (b.i < 0) return a;
        if (beats<MAX>(a.v, b.v)) return b;
        if (beats<MAX>(b.v, a.v)) return a;
        return b.i < a.i ? b : a;
    }
    __device__ void write(void* o0, void* o1, i64 k, A a, i64) const {
        put_t(o0, k, a.v);
        static_cast<i64*>(o1)[k] = a.i;
    }
};

struct MinMaxAcc {
    V lo, hi;
};
struct OpAminmax {
    typedef MinMaxAcc A;
    double p;
    __device__ A init() const {
        A a;
        a.lo = Lim<V>::hi();
        a.hi = Lim<V>::lo();
        return a;
    }
    __device__ A acc(A a, V v, i64) const {
        if (beats<false>(a.lo, v)) a.lo = v;
        if (beats<true>(a.hi, v)) a.hi = v;
        return a;
    }
    __device__ A combine(A a, A b) const {
        if (beats<false>(a.lo, b.lo)) a.lo = b.lo;
        if (beats<true>(a.hi, b.hi)) a.hi = b.hi;
        return a;
    }
    __device__ void write(void* o0, void* o1, i64 k, A a, i64) const {
        put_t(o0, k, a.lo);
        put_t(o1, k, a.hi);
    }
};

// Any element != 0 (all: every element).
template <bool ALL> struct OpAllAny {
    typedef int A;
    double p;
    __device__ A init() const { return ALL ? 1 : 0; }
    __device__ A acc(A a, V v, i64) const {
        const int nz = Convert<b8, V>::run(v) ? 1 : 0;
        return ALL ? (a & nz) : (a | nz);
    }
    __device__ A combine(A a, A b) const { return ALL ? (a & b) : (a | b); }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const {
        static_cast<b8*>(o0)[k] = a != 0;
    }
};

struct OpCountNonzero {
    typedef i64 A;
    double p;
    __device__ A init() const { return 0; }
    __device__ A acc(A a, V v, i64) const { return a + (Convert<b8, V>::run(v) ? 1 : 0); }
    __device__ A combine(A a, A b) const { return a + b; }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const {
        static_cast<i64*>(o0)[k] = a;
    }
};

#if IS_FLOAT
struct OpMean {
    typedef V A;
    double p;
    __device__ A init() const { return A(0); }
    __device__ A acc(A a, V v, i64) const { return a + v; }
    __device__ A combine(A a, A b) const { return a + b; }
    __device__ void write(void* o0, void*, i64 k, A a, i64 n) const { put_t(o0, k, a / (V)n); }
};

struct NanMeanAcc {
    V s;
    i64 c;
};
struct OpNanmean {
    typedef NanMeanAcc A;
    double p;
    __device__ A init() const {
        A a;
        a.s = V(0);
        a.c = 0;
        return a;
    }
    __device__ A acc(A a, V v, i64) const {
        if (!is_nan(v)) {
            a.s += v;
            a.c += 1;
        }
        return a;
    }
    __device__ A combine(A a, A b) const {
        a.s += b.s;
        a.c += b.c;
        return a;
    }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_t(o0, k, a.s / (V)a.c); }
};

// Welford in double: (count, mean, sum of squared deviations). p is the correction.
struct WelfordAcc {
    double n, m, m2;
};
template <bool SQRT> struct OpVarMean {
    typedef WelfordAcc A;
    double p;
    __device__ A init() const {
        A a;
        a.n = 0.0;
        a.m = 0.0;
        a.m2 = 0.0;
        return a;
    }
    __device__ A acc(A a, V v, i64) const {
        const double x = (double)v;
        const double n1 = a.n + 1.0;
        const double d = x - a.m;
        const double m1 = a.m + d / n1;
        a.m2 += d * (x - m1);
        a.n = n1;
        a.m = m1;
        return a;
    }
    __device__ A combine(A a, A b) const {
        if (a.n == 0.0) return b;
        if (b.n == 0.0) return a;
        const double n = a.n + b.n;
        const double d = b.m - a.m;
        A r;
        r.n = n;
        r.m = a.m + d * b.n / n;
        r.m2 = a.m2 + b.m2 + d * d * a.n * b.n / n;
        return r;
    }
    __device__ void write(void* o0, void* o1, i64 k, A a, i64) const {
        double var = a.m2 / fmax(a.n - p, 0.0);
        if (SQRT) var = sqrt(var);
        static_cast<T*>(o0)[k] = Convert<T, double>::run(var);
        static_cast<T*>(o1)[k] = Convert<T, double>::run(a.n == 0.0 ? __longlong_as_double(0x7ff8000000000000LL) : a.m);
    }
};

// Vector norms; p is the order.
struct OpNorm2 {
    typedef V A;
    double p;
    __device__ A init() const { return A(0); }
    __device__ A acc(A a, V v, i64) const { return a + v * v; }
    __device__ A combine(A a, A b) const { return a + b; }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_t(o0, k, m_sqrt(a)); }
};
struct OpNorm1 {
    typedef V A;
    double p;
    __device__ A init() const { return A(0); }
    __device__ A acc(A a, V v, i64) const { return a + m_abs(v); }
    __device__ A combine(A a, A b) const { return a + b; }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_t(o0, k, a); }
};
struct OpNorm0 {
    typedef V A;
    double p;
    __device__ A init() const { return A(0); }
    __device__ A acc(A a, V v, i64) const { return v == V(0) ? a : a + V(1); }
    __device__ A combine(A a, A b) const { return a + b; }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_t(o0, k, a); }
};
template <bool MAX> struct OpNormInf {
    typedef V A;
    double p;
    __device__ static A pick(A a, A b) {
        return (MAX ? b > a : b < a) || is_nan(b) ? b : a;
    }
    __device__ A init() const { return MAX ? A(0) : m_inf(A(0)); }
    __device__ A acc(A a, V v, i64) const { return pick(a, m_abs(v)); }
    __device__ A combine(A a, A b) const { return pick(a, b); }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const { put_t(o0, k, a); }
};
struct OpNormP {
    typedef V A;
    double p;
    __device__ A init() const { return A(0); }
    __device__ A acc(A a, V v, i64) const { return a + m_pow(m_abs(v), (V)p); }
    __device__ A combine(A a, A b) const { return a + b; }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const {
        put_t(o0, k, m_pow(a, (V)(1.0 / p)));
    }
};

// (running max m, sum of exp(x - m)): never overflows.
struct LseAcc {
    V m, s;
};
struct OpLogsumexp {
    typedef LseAcc A;
    double p;
    __device__ A init() const {
        A a;
        a.m = -m_inf(V(0));
        a.s = V(0);
        return a;
    }
    __device__ A combine(A a, A b) const {
        const V ninf = -m_inf(V(0));
        if (is_nan(a.m) || is_nan(b.m)) {
            a.m = a.m + b.m;
            return a;
        }
        if (b.m == ninf) return a;
        if (a.m == ninf) return b;
        if (a.m >= b.m) {
            a.s = a.s + b.s * m_exp(b.m - a.m);
            return a;
        }
        b.s = b.s + a.s * m_exp(a.m - b.m);
        return b;
    }
    __device__ A acc(A a, V v, i64) const {
        A b;
        b.m = v;
        b.s = V(1);
        return combine(a, b);
    }
    __device__ void write(void* o0, void*, i64 k, A a, i64) const {
        const V inf = m_inf(V(0));
        if (is_nan(a.m) || a.m == inf || a.m == -inf) {
            put_t(o0, k, a.m);
        } else {
            put_t(o0, k, a.m + m_log(a.s));
        }
    }
};
#endif

// Combines the accumulators of a block (a multiple of 32 threads); the result is thread 0's.
template <class Op> __device__ typename Op::A block_reduce(const Op& op, typename Op::A a) {
    typedef typename Op::A A;
    __shared__ __align__(16) unsigned char smem[32 * sizeof(A)];
    A* sh = reinterpret_cast<A*>(smem);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) a = op.combine(a, shfl_down(a, off));
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();  // an earlier call may still read sh
    if (lane == 0) sh[w] = a;
    __syncthreads();
    if (w == 0) {
        a = lane < nw ? sh[lane] : op.init();
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) a = op.combine(a, shfl_down(a, off));
    }
    return a;
}

// Folds x[lo..hi) (contiguous) into the calling thread's share of the block's accumulator:
// the unaligned head element by element, then 16-byte packs with four independent
// accumulators, so four packs are in flight per thread (one chain would wait for each load in
// turn), then the tail. Each accumulator sees its elements in index order, so arg-reductions
// keep the first of equal values; the four are combined in index order.
template <class Op>
__device__ __forceinline__ typename Op::A fold_contiguous(const Op& op, const T* x, i64 lo, i64 hi) {
    typedef typename Op::A A;
    typedef typename Pack16<T>::type P;
    enum { N = Pack16<T>::N };
    const i64 bs = blockDim.x, t = threadIdx.x;
    const i64 misaligned = (i64)(((unsigned long long)(x + lo) % sizeof(P)) / sizeof(T));
    const i64 head = misaligned == 0 ? 0 : N - misaligned;
    const i64 head_end = lo + head < hi ? lo + head : hi;
    A a = op.init(), a1 = op.init(), a2 = op.init(), a3 = op.init();
    for (i64 i = lo + t; i < head_end; i += bs) a = op.acc(a, load(x + i), i);
    const P* packs = reinterpret_cast<const P*>(x + head_end);
    const i64 n_packs = (hi - head_end) / N;
    i64 j = t;
    for (; j + 3 * bs < n_packs; j += 4 * bs) {
        const P u0 = packs[j], u1 = packs[j + bs], u2 = packs[j + 2 * bs], u3 = packs[j + 3 * bs];
        const i64 i0 = head_end + j * N;
#pragma unroll
        for (int k = 0; k < N; ++k) {
            a = op.acc(a, widen(u0.v[k]), i0 + k);
            a1 = op.acc(a1, widen(u1.v[k]), i0 + bs * N + k);
            a2 = op.acc(a2, widen(u2.v[k]), i0 + 2 * bs * N + k);
            a3 = op.acc(a3, widen(u3.v[k]), i0 + 3 * bs * N + k);
        }
    }
    for (; j < n_packs; j += bs) {
        const P u = packs[j];
#pragma unroll
        for (int k = 0; k < N; ++k) a1 = op.acc(a1, widen(u.v[k]), head_end + j * N + k);
    }
    for (i64 i = head_end + n_packs * N + t; i < hi; i += bs) a3 = op.acc(a3, load(x + i), i);
    return op.combine(op.combine(a, a1), op.combine(a2, a3));
}

// Blocks take (output, part) pairs: each folds its part of the output's reduced elements,
// then writes the output (splits == 1) or its partial accumulator.
template <class Op>
__device__ void reduce_block(const Op& op, const T* x, const Strided& kept, const Strided& red,
                             i64 n_out, i64 n_red, i64 splits, void* o0, void* o1,
                             typename Op::A* part) {
    typedef typename Op::A A;
    const bool unit = red.ndim == 1 && red.strides[0] == 1;
    const i64 chunk = (n_red + splits - 1) / splits;
    for (i64 b = blockIdx.x; b < n_out * splits; b += gridDim.x) {
        const i64 o = b / splits, s = b - o * splits;
        const T* base = x + offset_of(kept, o);
        const i64 lo = s * chunk;
        const i64 hi = lo + chunk < n_red ? lo + chunk : n_red;
        A a = op.init();
        if (unit) {
            a = fold_contiguous(op, base, lo, hi);
        } else {
            for (i64 i = lo + threadIdx.x; i < hi; i += blockDim.x)
                a = op.acc(a, load(base + offset_of(red, i)), i);
        }
        a = block_reduce(op, a);
        if (threadIdx.x == 0) {
            if (splits == 1) {
                op.write(o0, o1, o, a, n_red);
            } else {
                part[b] = a;
            }
        }
    }
}

// Second pass: a block per output combines its `splits` partial accumulators.
template <class Op>
__device__ void reduce_final(const Op& op, const typename Op::A* part, i64 n_out, i64 n_red,
                             i64 splits, void* o0, void* o1) {
    typedef typename Op::A A;
    for (i64 o = blockIdx.x; o < n_out; o += gridDim.x) {
        A a = op.init();
        for (i64 s = threadIdx.x; s < splits; s += blockDim.x) a = op.combine(a, part[o * splits + s]);
        a = block_reduce(op, a);
        if (threadIdx.x == 0) op.write(o0, o1, o, a, n_red);
    }
}

// A thread per output: short reductions, and reductions whose outputs lie next to each other
// in memory (neighbouring threads then read neighbouring elements).
template <class Op>
__device__ void reduce_thread(const Op& op, const T* x, const Strided& kept, const Strided& red,
                              i64 n_out, i64 n_red, void* o0, void* o1) {
    typedef typename Op::A A;
    FOR_EACH(o, n_out) {
        const T* base = x + offset_of(kept, o);
        A a = op.init();
        for (i64 i = 0; i < n_red; ++i) a = op.acc(a, load(base + offset_of(red, i)), i);
        op.write(o0, o1, o, a, n_red);
    }
}

// Outputs side by side in memory (the kept inner dim has stride 1, a column sum): blocks of
// 32 x 8 threads take 32 neighbouring outputs, so each warp reads 32 consecutive elements of a
// row; the 8 rows of threads fold interleaved rows of their part (one of `splits`) of the
// reduced elements and are combined in shared memory.
template <class Op>
__device__ void reduce_columns(const Op& op, const T* x, const Strided& kept, const Strided& red,
                               i64 n_out, i64 n_red, i64 splits, void* o0, void* o1,
                               typename Op::A* part) {
    typedef typename Op::A A;
    __shared__ __align__(16) unsigned char smem[8 * 32 * sizeof(A)];
    A* sh = reinterpret_cast<A*>(smem);
    const i64 tiles = (n_out + 31) / 32;
    const i64 chunk = (n_red + splits - 1) / splits;
    const int tx = threadIdx.x, ty = threadIdx.y;
    for (i64 b = blockIdx.x; b < tiles * splits; b += gridDim.x) {
        const i64 tile = b / splits, s = b - tile * splits;
        const i64 o = tile * 32 + tx;
        const i64 lo = s * chunk;
        const i64 hi = lo + chunk < n_red ? lo + chunk : n_red;
        A a = op.init();
        if (o < n_out) {
            const T* base = x + offset_of(kept, o);
            for (i64 i = lo + ty; i < hi; i += 8) a = op.acc(a, load(base + offset_of(red, i)), i);
        }
        __syncthreads();  // the previous tile may still read sh
        sh[ty * 32 + tx] = a;
        __syncthreads();
        if (ty == 0 && o < n_out) {
            for (int k = 1; k < 8; ++k) a = op.combine(a, sh[k * 32 + tx]);
            if (splits == 1) {
                op.write(o0, o1, o, a, n_red);
            } else {
                part[o * splits + s] = a;
            }
        }
    }
}

#define REDUCE_KERNELS(NAME, OP)                                                                 \
    extern "C" __global__ void NAME##_block(const T* x, Strided kept, Strided red, i64 n_out,   \
                                            i64 n_red, i64 splits, void* o0, void* o1,          \
                                            void* part, double p) {                             \
        OP op;                                                                                   \
        op.p = p;                                                                                \
        reduce_block(op, x, kept, red, n_out, n_red, splits, o0, o1,                             \
                     static_cast<OP::A*>(part));                                                 \
    }                                                                                            \
    extern "C" __global__ void NAME##_final(const void* part, i64 n_out, i64 n_red, i64 splits, \
                                            void* o0, void* o1, double p) {                     \
        OP op;                                                                                   \
        op.p = p;                                                                                \
        reduce_final(op, static_cast<const OP::A*>(part), n_out, n_red, splits, o0, o1);         \
    }                                                                                            \
    extern "C" __global__ void NAME##_columns(const T* x, Strided kept, Strided red, i64 n_out, \
                                              i64 n_red, i64 splits, void* o0, void* o1,        \
                                              void* part, double p) {                           \
        OP op;                                                                                   \
        op.p = p;                                                                                \
        reduce_columns(op, x, kept, red, n_out, n_red, splits, o0, o1,                           \
                       static_cast<OP::A*>(part));                                               \
    }                                                                                            \
    extern "C" __global__ void NAME##_thread(const T* x, Strided kept, Strided red, i64 n_out,  \
                                             i64 n_red, void* o0, void* o1, double p) {         \
        OP op;                                                                                   \
        op.p = p;                                                                                \
        reduce_thread(op, x, kept, red, n_out, n_red, o0, o1);                                   \
    }

REDUCE_KERNELS(sum, OpSum)
REDUCE_KERNELS(nansum, OpNansum)
REDUCE_KERNELS(prod, OpProd)
REDUCE_KERNELS(amax, OpExtreme<true>)
REDUCE_KERNELS(amin, OpExtreme<false>)
REDUCE_KERNELS(argmax, OpArg<true>)
REDUCE_KERNELS(argmin, OpArg<false>)
REDUCE_KERNELS(aminmax, OpAminmax)
REDUCE_KERNELS(all, OpAllAny<true>)
REDUCE_KERNELS(any, OpAllAny<false>)
REDUCE_KERNELS(count_nonzero, OpCountNonzero)
#if IS_FLOAT
REDUCE_KERNELS(mean, OpMean)
REDUCE_KERNELS(nanmean, OpNanmean)
REDUCE_KERNELS(var_mean, OpVarMean<false>)
REDUCE_KERNELS(std_mean, OpVarMean<true>)
REDUCE_KERNELS(norm2, OpNorm2)
REDUCE_KERNELS(norm1, OpNorm1)
REDUCE_KERNELS(norm0, OpNorm0)
REDUCE_KERNELS(norm_inf, OpNormInf<true>)
REDUCE_KERNELS(norm_ninf, OpNormInf<false>)
REDUCE_KERNELS(norm_p, OpNormP)
REDUCE_KERNELS(logsumexp, OpLogsumexp)
#endif

// torch.maximum / minimum: elementwise, NaN propagating; out, a and b share one shape.
template <bool MAX>
__device__ void extreme2(T* out, const Strided& so, const T* a, const Strided& sa, const T* b,
                         const Strided& sb, i64 n) {
    FOR_EACH(i, n) {
        const V x = load(a + offset_of(sa, i)), y = load(b + offset_of(sb, i));
        store(out + offset_of(so, i), beats<MAX>(x, y) ? y : x);
    }
}
extern "C" __global__ void maximum(T* out, Strided so, const T* a, Strided sa, const T* b,
                                   Strided sb, i64 n) {
    extreme2<true>(out, so, a, sa, b, sb, n);
}
extern "C" __global__ void minimum(T* out, Strided so, const T* a, Strided sa, const T* b,
                                   Strided sb, i64 n) {
    extreme2<false>(out, so, a, sa, b, sb, n);
}
