// Unary ops: out = f(x) with out of T (math, rounding, sign ops, nan_to_num) or of bool
// (predicates, logical_not). x has out's shape. `p0..p2` are op parameters as bits: values in T
// for nan_to_num, a double for round(decimals=).

enum UnaryOp {
    U_EXP, U_EXP2, U_LOG, U_LOG2, U_LOG10, U_LOG1P, U_EXPM1, U_SQRT, U_RSQRT, U_SIN, U_COS,
    U_TAN, U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_TANH, U_ASINH, U_ACOSH, U_ATANH,
    U_SIGMOID, U_ERF, U_ERFC, U_ERFINV, U_RECIPROCAL, U_FLOOR, U_CEIL, U_TRUNC, U_ROUND,
    U_FRAC, U_ROUND_DECIMALS, U_NEG, U_ABS, U_SIGN, U_RELU, U_SQUARE, U_BITWISE_NOT,
    U_NAN_TO_NUM, U_GELU, U_GELU_TANH
};
enum PredicateOp { P_ISNAN, P_ISINF, P_ISFINITE, P_ISPOSINF, P_ISNEGINF, P_LOGICAL_NOT };

template <class O, class Ix, class F>
__device__ __forceinline__ void run1(O* out, const T* in, const Ix& ix, i64 n, F f) {
    FOR_EACH(i, n) {
        i64 o, x, y, z;
        ix.at(i, o, x, y, z);
        store(out + o, f(load(in + x)));
    }
}

// Contiguous: 16-byte packs when both buffers are aligned to them, two packs a thread per
// iteration, the next iteration's two loaded before this one's are computed (so loads stay in
// flight while an op like exp computes); otherwise four independent, warp-coalesced element
// loads in flight per thread.
template <class O, class F>
__device__ __forceinline__ void run1(O* out, const T* in, const Flat& ix, i64 n, F f) {
    enum { N = Pack16<T>::N };
    typedef typename Pack16<T>::type In;
    typedef Pack<O, N> Out;
    const i64 step = (i64)blockDim.x * gridDim.x;
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (aligned_to(in, sizeof(In)) && aligned_to(out, sizeof(Out))) {
        const In* pin = reinterpret_cast<const In*>(in);
        Out* pout = reinterpret_cast<Out*>(out);
        const i64 packs = n / N;
        In n0, n1;
        if (i < packs) n0 = pin[i];
        if (i + step < packs) n1 = pin[i + step];
        for (i64 j = i; j < packs; j += 2 * step) {
            const bool two = j + step < packs;
            const In u0 = n0, u1 = two ? n1 : n0;
            if (j + 2 * step < packs) n0 = pin[j + 2 * step];
            if (j + 3 * step < packs) n1 = pin[j + 3 * step];
            Out w0, w1;
#pragma unroll
            for (int k = 0; k < N; ++k) {
                w0.v[k] = narrow<O>(f(widen(u0.v[k])));
                w1.v[k] = narrow<O>(f(widen(u1.v[k])));
            }
            pout[j] = w0;
            if (two) pout[j + step] = w1;
        }
        for (i += packs * N; i < n; i += step) store(out + i, f(load(in + i)));
        return;
    }
    for (; i + 3 * step < n; i += 4 * step) {
        const A v0 = load(in + i), v1 = load(in + i + step);
        const A v2 = load(in + i + 2 * step), v3 = load(in + i + 3 * step);
        store(out + i, f(v0));
        store(out + i + step, f(v1));
        store(out + i + 2 * step, f(v2));
        store(out + i + 3 * step, f(v3));
    }
    for (; i < n; i += step) store(out + i, f(load(in + i)));
}

#if KIND == K_FLOAT
__device__ __forceinline__ A sign_(A v) { return (A)(((A)0 < v) ? 1 : 0) - (A)((v < (A)0) ? 1 : 0); }
__device__ __forceinline__ A relu_(A v) { return v < (A)0 ? (A)0 : v; }
__device__ __forceinline__ A neg_(A v) { return -v; }
__device__ __forceinline__ A abs_(A v) { return m_fabs(v); }
__device__ __forceinline__ A square_(A v) { return v * v; }
__device__ __forceinline__ bool is_inf_(A v) { return v - v != v - v && !is_nan(v); }
#elif KIND == K_BOOL
__device__ __forceinline__ A sign_(A v) { return v; }
__device__ __forceinline__ A relu_(A v) { return v; }
__device__ __forceinline__ A neg_(A v) { return v; }
__device__ __forceinline__ A abs_(A v) { return v; }
__device__ __forceinline__ A square_(A v) { return v; }
#else
// Integers wrap as torch's do: abs(int8(-128)) == -128.
__device__ __forceinline__ A sign_(A v) { return (A)((v > (A)0 ? 1 : 0) - (v < (A)0 ? 1 : 0)); }
__device__ __forceinline__ A relu_(A v) { return v < (A)0 ? (A)0 : v; }
__device__ __forceinline__ A neg_(A v) { return (A)((UA)0 - (UA)v); }
__device__ __forceinline__ A abs_(A v) { return v < (A)0 ? neg_(v) : v; }
__device__ __forceinline__ A square_(A v) { return (A)((UA)v * (UA)v); }
#endif

template <class Ix>
__device__ __forceinline__ void unary_op(int op, T* out, const T* in, u64 p0, u64 p1, u64 p2,
                                         const Ix& ix, i64 n) {
    switch (op) {
    case U_NEG: return run1(out, in, ix, n, [](A v) { return neg_(v); });
    case U_ABS: return run1(out, in, ix, n, [](A v) { return abs_(v); });
    case U_SIGN: return run1(out, in, ix, n, [](A v) { return sign_(v); });
    case U_RELU: return run1(out, in, ix, n, [](A v) { return relu_(v); });
    case U_SQUARE: return run1(out, in, ix, n, [](A v) { return square_(v); });
#if KIND == K_BOOL
    case U_BITWISE_NOT: return run1(out, in, ix, n, [](A v) -> A { return !v; });
#elif KIND != K_FLOAT
    case U_BITWISE_NOT: return run1(out, in, ix, n, [](A v) { return (A)~v; });
#else
    case U_EXP: return run1(out, in, ix, n, [](A v) { return m_exp(v); });
    case U_EXP2: return run1(out, in, ix, n, [](A v) { return m_exp2(v); });
    case U_LOG: return run1(out, in, ix, n, [](A v) { return m_log(v); });
    case U_LOG2: return run1(out, in, ix, n, [](A v) { return m_log2(v); });
    case U_LOG10: return run1(out, in, ix, n, [](A v) { return m_log10(v); });
    case U_LOG1P: return run1(out, in, ix, n, [](A v) { return m_log1p(v); });
    case U_EXPM1: return run1(out, in, ix, n, [](A v) { return m_expm1(v); });
    case U_SQRT: return run1(out, in, ix, n, [](A v) { return m_sqrt(v); });
    case U_RSQRT: return run1(out, in, ix, n, [](A v) { return (A)1 / m_sqrt(v); });
    case U_SIN: return run1(out, in, ix, n, [](A v) { return m_sin(v); });
    case U_COS: return run1(out, in, ix, n, [](A v) { return m_cos(v); });
    case U_TAN: return run1(out, in, ix, n, [](A v) { return m_tan(v); });
    case U_ASIN: return run1(out, in, ix, n, [](A v) { return m_asin(v); });
    case U_ACOS: return run1(out, in, ix, n, [](A v) { return m_acos(v); });
    case U_ATAN: return run1(out, in, ix, n, [](A v) { return m_atan(v); });
    case U_SINH: return run1(out, in, ix, n, [](A v) { return m_sinh(v); });
    case U_COSH: return run1(out, in, ix, n, [](A v) { return m_cosh(v); });
    case U_TANH: return run1(out, in, ix, n, [](A v) { return m_tanh(v); });
    case U_ASINH: return run1(out, in, ix, n, [](A v) { return m_asinh(v); });
    case U_ACOSH: return run1(out, in, ix, n, [](A v) { return m_acosh(v); });
    case U_ATANH: return run1(out, in, ix, n, [](A v) { return m_atanh(v); });
    case U_SIGMOID: return run1(out, in, ix, n, [](A v) { return (A)1 / ((A)1 + m_exp(-v)); });
    case U_GELU: return run1(out, in, ix, n, [](A v) {
        return v * (A)0.5 * ((A)1 + m_erf(v * (A)0.70710678118654752440));
    });
    case U_GELU_TANH: return run1(out, in, ix, n, [](A v) {
        const A inner = (A)0.79788456080286535588 * (v + (A)0.044715 * v * v * v);
        return (A)0.5 * v * ((A)1 + m_tanh(inner));
    });
    case U_ERF: return run1(out, in, ix, n, [](A v) { return m_erf(v); });
    case U_ERFC: return run1(out, in, ix, n, [](A v) { return m_erfc(v); });
    case U_ERFINV: return run1(out, in, ix, n, [](A v) { return m_erfinv(v); });
    case U_RECIPROCAL: return run1(out, in, ix, n, [](A v) { return (A)1 / v; });
    case U_FLOOR: return run1(out, in, ix, n, [](A v) { return m_floor(v); });
    case U_CEIL: return run1(out, in, ix, n, [](A v) { return m_ceil(v); });
    case U_TRUNC: return run1(out, in, ix, n, [](A v) { return m_trunc(v); });
    case U_ROUND: return run1(out, in, ix, n, [](A v) { return m_rint(v); });
    case U_FRAC: return run1(out, in, ix, n, [](A v) { return v - m_trunc(v); });
    case U_ROUND_DECIMALS: {
        // nearbyint(x * 10^d) / 10^d, dividing first for d < 0 (p1 != 0).
        const A p = (A)__longlong_as_double((long long)p0);
        if (p1) return run1(out, in, ix, n, [=](A v) { return m_rint(v / p) * p; });
        return run1(out, in, ix, n, [=](A v) { return m_rint(v * p) / p; });
    }
    case U_NAN_TO_NUM: {
        const A nan = value_of(p0), pos = value_of(p1), neg = value_of(p2);
        return run1(out, in, ix, n, [=](A v) {
            return is_nan(v) ? nan : is_inf_(v) ? (v > (A)0 ? pos : neg) : v;
        });
    }
#endif
    default: return;
    }
}

extern "C" __global__ void unary_contiguous(int op, T* out, const T* in, u64 p0, u64 p1, u64 p2,
                                            i64 n) {
    unary_op(op, out, in, p0, p1, p2, Flat{1, 0, 0}, n);
}

extern "C" __global__ void unary_strided(int op, T* out, Strided so, const T* in, Strided si,
                                         u64 p0, u64 p1, u64 p2, i64 n) {
    unary_op(op, out, in, p0, p1, p2, Strides{so, si, si, si}, n);
}

template <class Ix>
__device__ __forceinline__ void predicate_op(int op, b8* out, const T* in, const Ix& ix, i64 n) {
    switch (op) {
    case P_LOGICAL_NOT: return run1(out, in, ix, n, [](A v) -> b8 { return v == (A)0; });
#if KIND == K_FLOAT
    case P_ISNAN: return run1(out, in, ix, n, [](A v) -> b8 { return is_nan(v); });
    case P_ISINF: return run1(out, in, ix, n, [](A v) -> b8 { return is_inf_(v); });
    case P_ISFINITE: return run1(out, in, ix, n, [](A v) -> b8 { return v - v == (A)0; });
    case P_ISPOSINF: return run1(out, in, ix, n, [](A v) -> b8 { return is_inf_(v) && v > (A)0; });
    case P_ISNEGINF: return run1(out, in, ix, n, [](A v) -> b8 { return is_inf_(v) && v < (A)0; });
#endif
    default: return;
    }
}

extern "C" __global__ void predicate_contiguous(int op, b8* out, const T* in, i64 n) {
    predicate_op(op, out, in, Flat{1, 0, 0}, n);
}

extern "C" __global__ void predicate_strided(int op, b8* out, Strided so, const T* in,
                                             Strided si, i64 n) {
    predicate_op(op, out, in, Strides{so, si, si, si}, n);
}
