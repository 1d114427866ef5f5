// Scatters: writes (or atomic reductions) at positions named by an index, for scatter_,
// scatter_reduce_, index_add_, index_copy_, index_fill_ and index_put_. Specialised by T.
// Index values were checked beforehand by `index_offsets` (index.cu), which sets err[0] on a
// bad one; the kernels here then write nothing, so a bad index leaves the tensor as it was.

// Reductions, in the order of `ScatterOp` in cuda/scatter.rs.
#define OP_ASSIGN 0
#define OP_SUM 1
#define OP_PROD 2
#define OP_AMAX 3
#define OP_AMIN 4

// The unsigned integer of N bytes.
template <int N> struct Word;
template <> struct Word<1> { typedef unsigned char type; };
template <> struct Word<2> { typedef unsigned short type; };
template <> struct Word<4> { typedef unsigned int type; };
template <> struct Word<8> { typedef unsigned long long type; };

template <class D, class S> __device__ __forceinline__ D bit_cast(S s) {
    static_assert(sizeof(D) == sizeof(S), "bit_cast between types of different sizes");
    union { S s; D d; } u;
    u.s = s;
    return u.d;
}

// Atomically replaces *p by f(*p), by compare-and-swap on the word holding *p: the element
// itself for 4- and 8-byte types, the aligned 4-byte word around it for 1- and 2-byte types
// (the hardware has no narrower CAS; the neighbours' bytes are written back unchanged, and a
// concurrent change to them makes the CAS fail and retry). Words are compared as bits, so a
// NaN result does not loop forever.
template <class T, class F> __device__ void atomic_apply(T* p, F f) {
    if constexpr (sizeof(T) >= 4) {
        typedef typename Word<sizeof(T)>::type W;
        W* w = reinterpret_cast<W*>(p);
        W old = *w, seen;
        do {
            seen = old;
            const W next = bit_cast<W>(f(bit_cast<T>(seen)));
            if (next == seen) return;
            old = atomicCAS(w, seen, next);
        } while (old != seen);
    } else {
        typedef typename Word<sizeof(T)>::type B;
        const unsigned long long a = reinterpret_cast<unsigned long long>(p);
        unsigned* w = reinterpret_cast<unsigned*>(a & ~3ull);
        const unsigned shift = (unsigned)(a & 3) * 8;
        const unsigned mask = (unsigned)(B)~(B)0 << shift;
        unsigned old = *w, seen;
        do {
            seen = old;
            const T cur = bit_cast<T>((B)(seen >> shift));
            const unsigned next = (seen & ~mask) | ((unsigned)bit_cast<B>(f(cur)) << shift);
            if (next == seen) return;
            old = atomicCAS(w, seen, next);
        } while (old != seen);
    }
}

// The reductions in the compute type A. Integers wrap as torch's do (through unsigned
// arithmetic where the C++ type would overflow, which is undefined for signed types); bool
// sums are `or` and products `and`; max and min propagate NaN.
template <class A> __device__ __forceinline__ A op_add(A a, A b) { return (A)(a + b); }
template <class A> __device__ __forceinline__ A op_mul(A a, A b) { return (A)(a * b); }
template <> __device__ __forceinline__ i32 op_add(i32 a, i32 b) { return (i32)((unsigned)a + (unsigned)b); }
template <> __device__ __forceinline__ i32 op_mul(i32 a, i32 b) { return (i32)((unsigned)a * (unsigned)b); }
template <> __device__ __forceinline__ i64 op_add(i64 a, i64 b) {
    return (i64)((unsigned long long)a + (unsigned long long)b);
}
template <> __device__ __forceinline__ i64 op_mul(i64 a, i64 b) {
    return (i64)((unsigned long long)a * (unsigned long long)b);
}
template <> __device__ __forceinline__ b8 op_add(b8 a, b8 b) { return a || b; }
template <> __device__ __forceinline__ b8 op_mul(b8 a, b8 b) { return a && b; }
template <class A> __device__ __forceinline__ A op_max(A a, A b) {
    return (a != a) ? a : ((b != b) || b > a) ? b : a;
}
template <class A> __device__ __forceinline__ A op_min(A a, A b) {
    return (a != a) ? a : ((b != b) || b < a) ? b : a;
}

// old -> old (op) v, computed in T's compute type.
template <class T> struct Combine {
    typedef typename Acc<T>::type A;
    int op;
    A v;
    __device__ __forceinline__ T operator()(T old) const {
        const A a = widen(old);
        switch (op) {
            case OP_SUM: return narrow<T>(op_add(a, v));
            case OP_PROD: return narrow<T>(op_mul(a, v));
            case OP_AMAX: return narrow<T>(op_max(a, v));
            default: return narrow<T>(op_min(a, v));
        }
    }
};

// *p += v atomically: the hardware's own add where one exists for T, else a CAS loop.
template <class T> __device__ __forceinline__ void atomic_add(T* p, typename Acc<T>::type v) {
    atomic_apply(p, Combine<T>{OP_SUM, v});
}
template <> __device__ __forceinline__ void atomic_add(f32* p, f32 v) { atomicAdd(p, v); }
template <> __device__ __forceinline__ void atomic_add(f64* p, f64 v) { atomicAdd(p, v); }
template <> __device__ __forceinline__ void atomic_add(i32* p, i32 v) { atomicAdd(p, v); }
// Two's complement addition is the same bits for signed and unsigned (and wraps like torch).
template <> __device__ __forceinline__ void atomic_add(i64* p, i64 v) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);
}

// Over n elements e: dst[sd(e) + idx[si(e)] * dim_stride] (op)= src[ss(e)], or the value in
// `bits` when src is null. Negative indices count from `size` when `wrap`. Duplicate indices
// with OP_ASSIGN leave one of the values, unspecified which (as in torch on CUDA).
extern "C" __global__ void scatter(T* dst, Strided sd, i64 dim_stride, const i64* idx, Strided si,
                                   i64 size, int wrap, const T* src, Strided ss,
                                   unsigned long long bits, int op, i64 n, const i64* err) {
    if (err != nullptr && err[0] != 0) return;
    const T value = *reinterpret_cast<const T*>(&bits);
    FOR_EACH(e, n) {
        i64 v = idx[offset_of(si, e)];
        if (wrap && v < 0) v += size;
        T* p = dst + offset_of(sd, e) + v * dim_stride;
        const T x = src != nullptr ? src[offset_of(ss, e)] : value;
        if (op == OP_ASSIGN) {
            *p = x;
        } else if (op == OP_SUM) {
            atomic_add(p, widen(x));
        } else {
            atomic_apply(p, Combine<T>{op, widen(x)});
        }
    }
}

// a / count for a mean: true division for floats, floor division for integers (as torch's
// `div_(count, rounding_mode="floor")`), bool unchanged.
template <class A> __device__ __forceinline__ A div_count(A a, i64 c) {
    const i64 x = (i64)a;
    i64 q = x / c;
    if (x % c != 0 && x < 0) --q;
    return (A)q;
}
template <> __device__ __forceinline__ f32 div_count(f32 a, i64 c) { return a / (f32)c; }
template <> __device__ __forceinline__ f64 div_count(f64 a, i64 c) { return a / (f64)c; }
template <> __device__ __forceinline__ b8 div_count(b8 a, i64) { return a; }

// The mean of scatter_reduce_: p[sp(e)] /= count[sc(e)], where a count of 0 (nothing
// scattered there) counts as 1.
extern "C" __global__ void divide_by_count(T* p, Strided sp, const i64* count, Strided sc, i64 n,
                                           const i64* err) {
    if (err != nullptr && err[0] != 0) return;
    FOR_EACH(e, n) {
        i64 c = count[offset_of(sc, e)];
        if (c == 0) c = 1;
        T* q = p + offset_of(sp, e);
        *q = narrow<T>(div_count(widen(*q), c));
    }
}
