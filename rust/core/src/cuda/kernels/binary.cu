// Binary ops (out = a op b), comparisons, and the ternaries where/clamp/lerp, plus
// isclose/allclose/equal. Operands arrive converted to T and broadcast to the output's shape;
// a null operand pointer means "the value passed by value" (a CPU scalar, or a number).
// The op is a run-time argument picked outside the loop, so one program per T holds them all.

enum BinaryOp {
    B_ADD, B_SUB, B_MUL, B_DIV, B_DIV_TRUNC, B_DIV_FLOOR, B_REMAINDER, B_FMOD, B_POW,
    B_ATAN2, B_HYPOT, B_COPYSIGN, B_XLOGY, B_MAXIMUM, B_MINIMUM, B_FMAX, B_FMIN,
    B_BIT_AND, B_BIT_OR, B_BIT_XOR, B_SHL, B_SHR, B_GELU_BACKWARD, B_GELU_TANH_BACKWARD
};
enum CompareOp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_AND, C_OR, C_XOR };

template <class O, class Ix, class F>
__device__ __forceinline__ void run2(O* out, const T* a, A av, const T* b, A bv, const Ix& ix,
                                     i64 n, F f) {
    FOR_EACH(i, n) {
        i64 o, x, y, z;
        ix.at(i, o, x, y, z);
        A u = a ? load(a + x) : av;
        A v = b ? load(b + y) : bv;
        store(out + o, f(u, v));
    }
}

// One contiguous operand read as packs, or a broadcast single element (stride 0, or a value).
struct PackReader {
    typedef typename Pack16<T>::type P;
    const P* p;
    A one;
    __device__ __forceinline__ A at(const P& u, int k) const { return p ? widen(u.v[k]) : one; }
    __device__ __forceinline__ P get(i64 j) const { return p ? p[j] : P(); }
};

// Whether an operand (stride 0 or 1) can be read as aligned packs; sets up its reader.
__device__ __forceinline__ bool pack_reader(const T* x, A xv, i64 stride, PackReader& r) {
    r.p = nullptr;
    r.one = x && stride == 0 ? load(x) : xv;
    if (!x || stride == 0) return true;
    r.p = reinterpret_cast<const PackReader::P*>(x);
    return aligned_to(x, sizeof(PackReader::P));
}

// Contiguous operands (stride 1, or 0 for a broadcast single element): aligned 16-byte packs,
// two per operand in flight per thread; otherwise four independent, warp-coalesced element
// loads in flight per thread, as in unary.cu's run1.
template <class O, class F>
__device__ __forceinline__ void run2(O* out, const T* a, A av, const T* b, A bv, const Flat& ix,
                                     i64 n, F f) {
    enum { N = Pack16<T>::N };
    typedef Pack<O, N> Out;
    const i64 step = (i64)blockDim.x * gridDim.x;
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    PackReader ra, rb;
    const bool packed = pack_reader(a, av, ix.s1, ra);
    if (pack_reader(b, bv, ix.s2, rb) && packed && aligned_to(out, sizeof(Out))) {
        Out* pout = reinterpret_cast<Out*>(out);
        const i64 packs = n / N;
        for (i64 j = i; j < packs; j += 2 * step) {
            const bool two = j + step < packs;
            const PackReader::P a0 = ra.get(j), b0 = rb.get(j);
            const PackReader::P a1 = two ? ra.get(j + step) : a0, b1 = two ? rb.get(j + step) : b0;
            Out w0, w1;
#pragma unroll
            for (int k = 0; k < N; ++k) {
                w0.v[k] = narrow<O>(f(ra.at(a0, k), rb.at(b0, k)));
                w1.v[k] = narrow<O>(f(ra.at(a1, k), rb.at(b1, k)));
            }
            pout[j] = w0;
            if (two) pout[j + step] = w1;
        }
        for (i += packs * N; i < n; i += step) {
            A u = a ? load(a + i * ix.s1) : av;
            A v = b ? load(b + i * ix.s2) : bv;
            store(out + i, f(u, v));
        }
        return;
    }
    for (; i + 3 * step < n; i += 4 * step) {
        A u[4], v[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const i64 j = i + k * step;
            u[k] = a ? load(a + j * ix.s1) : av;
            v[k] = b ? load(b + j * ix.s2) : bv;
        }
#pragma unroll
        for (int k = 0; k < 4; ++k) store(out + i + k * step, f(u[k], v[k]));
    }
    for (; i < n; i += step) {
        A u = a ? load(a + i * ix.s1) : av;
        A v = b ? load(b + i * ix.s2) : bv;
        store(out + i, f(u, v));
    }
}

// NaN-propagating and NaN-ignoring max/min (NaN only exists for floats).
__device__ __forceinline__ A maximum_(A x, A y) { return (is_nan(x) || x > y) ? x : y; }
__device__ __forceinline__ A minimum_(A x, A y) { return (is_nan(x) || x < y) ? x : y; }
__device__ __forceinline__ A fmax_(A x, A y) { return (is_nan(y) || x > y) ? x : y; }
__device__ __forceinline__ A fmin_(A x, A y) { return (is_nan(y) || x < y) ? x : y; }

#if KIND == K_BOOL
// torch's bool kernels: add is or, sub is xor, mul is and.
__device__ __forceinline__ A add_(A x, A y, A al) { return x | (y & al); }
__device__ __forceinline__ A sub_(A x, A y, A al) { return x ^ (y & al); }
__device__ __forceinline__ A mul_(A x, A y) { return x & y; }
#elif KIND == K_FLOAT
__device__ __forceinline__ A add_(A x, A y, A al) { return x + al * y; }
__device__ __forceinline__ A sub_(A x, A y, A al) { return x - al * y; }
__device__ __forceinline__ A mul_(A x, A y) { return x * y; }
#else
__device__ __forceinline__ A add_(A x, A y, A al) { return (A)((UA)x + (UA)y * (UA)al); }
__device__ __forceinline__ A sub_(A x, A y, A al) { return (A)((UA)x - (UA)y * (UA)al); }
__device__ __forceinline__ A mul_(A x, A y) { return (A)((UA)x * (UA)y); }
#endif

#if KIND == K_SINT || KIND == K_UINT
// Integer division never traps: a zero divisor gives 0 (torch's CUDA kernels do not raise;
// the CPU raises before computing) and MIN / -1 wraps.
__device__ __forceinline__ bool neg_(A v) { return KIND == K_SINT && v < (A)0; }
__device__ __forceinline__ A quot_(A x, A y) {
    if (y == 0) return 0;
    if (KIND == K_SINT && y == (A)-1) return (A)((UA)0 - (UA)x);
    return (A)(x / y);
}
__device__ __forceinline__ A rem_(A x, A y) {
    if (y == 0 || (KIND == K_SINT && y == (A)-1)) return 0;
    return (A)(x % y);
}
__device__ __forceinline__ A div_floor_(A x, A y) {
    A q = quot_(x, y), r = rem_(x, y);
    return (r != 0 && neg_(r) != neg_(y)) ? (A)((UA)q - 1) : q;
}
__device__ __forceinline__ A remainder_(A x, A y) {
    A r = rem_(x, y);
    return (r != 0 && neg_(r) != neg_(y)) ? (A)((UA)r + (UA)y) : r;
}
__device__ __forceinline__ A pow_(A base, A e) {
    if (neg_(e)) {
        // Negative integer powers: only bases 1 and -1 are not 0.
        if (base == 1) return 1;
        if (KIND == K_SINT && base == (A)-1) return (e % 2 == 0) ? (A)1 : base;
        return 0;
    }
    UA acc = 1, b = (UA)base;
    unsigned long long k = (unsigned long long)e;
    while (k) {
        if (k & 1) acc = (UA)(acc * b);
        b = (UA)(b * b);
        k >>= 1;
    }
    return (A)acc;
}
// Shifts by a negative amount or by the width or more: 0 to the left, the sign fill to the right.
__device__ __forceinline__ A shl_(A x, A s) {
    const long long bits = sizeof(A) * 8;
    if (neg_(s) || (long long)s >= bits) return 0;
    return (A)((UA)x << (int)s);
}
__device__ __forceinline__ A shr_(A x, A s) {
    const long long bits = sizeof(A) * 8;
    const long long most = bits - (KIND == K_SINT ? 1 : 0);
    long long k = (neg_(s) || (long long)s >= most) ? most : (long long)s;
    if (k >= bits) return 0;
    return (A)(x >> (int)k);
}
#endif

#if KIND == K_FLOAT
// torch's div_floor_floating: the floor of the exact quotient, as Python's // on floats.
__device__ __forceinline__ A div_floor_(A a, A b) {
    if (b == (A)0) return a / b;
    A m = m_fmod(a, b);
    A div = (a - m) / b;
    if (m != (A)0 && ((b < (A)0) != (m < (A)0))) div -= (A)1;
    if (div != (A)0) {
        A fl = m_floor(div);
        return (div - fl > (A)0.5) ? fl + (A)1 : fl;
    }
    return m_copysign((A)0, a / b);
}
__device__ __forceinline__ A remainder_(A a, A b) {
    A m = m_fmod(a, b);
    return (m != (A)0 && ((b < (A)0) != (m < (A)0))) ? m + b : m;
}
__device__ __forceinline__ A xlogy_(A x, A y) {
    if (is_nan(y)) return y;
    if (x == (A)0) return x;
    return x * m_log(y);
}
#endif

template <class Ix>
__device__ __forceinline__ void binary_op(int op, T* out, const T* a, u64 abits, const T* b,
                                          u64 bbits, u64 alpha_bits, const Ix& ix, i64 n) {
    const A av = value_of(abits), bv = value_of(bbits), al = value_of(alpha_bits);
    switch (op) {
    case B_ADD: return run2(out, a, av, b, bv, ix, n, [=](A x, A y) { return add_(x, y, al); });
    case B_SUB: return run2(out, a, av, b, bv, ix, n, [=](A x, A y) { return sub_(x, y, al); });
    case B_MUL: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return mul_(x, y); });
    case B_MAXIMUM: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return maximum_(x, y); });
    case B_MINIMUM: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return minimum_(x, y); });
    case B_FMAX: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return fmax_(x, y); });
    case B_FMIN: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return fmin_(x, y); });
#if KIND != K_FLOAT
    case B_BIT_AND: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return (A)(x & y); });
    case B_BIT_OR: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return (A)(x | y); });
    case B_BIT_XOR: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return (A)(x ^ y); });
#endif
#if KIND == K_SINT || KIND == K_UINT
    case B_DIV_TRUNC: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return quot_(x, y); });
    case B_DIV_FLOOR: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return div_floor_(x, y); });
    case B_REMAINDER: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return remainder_(x, y); });
    case B_FMOD: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return rem_(x, y); });
    case B_POW: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return pow_(x, y); });
    case B_SHL: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return shl_(x, y); });
    case B_SHR: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return shr_(x, y); });
#endif
#if KIND == K_FLOAT
    case B_DIV: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return x / y; });
    case B_DIV_TRUNC: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return m_trunc(x / y); });
    case B_DIV_FLOOR: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return div_floor_(x, y); });
    case B_REMAINDER: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return remainder_(x, y); });
    case B_FMOD: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return m_fmod(x, y); });
    case B_POW: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return m_pow(x, y); });
    case B_ATAN2: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return m_atan2(x, y); });
    case B_HYPOT: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return m_hypot(x, y); });
    case B_COPYSIGN: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return m_copysign(x, y); });
    case B_XLOGY: return run2(out, a, av, b, bv, ix, n, [](A x, A y) { return xlogy_(x, y); });
    // x is the gradient, y the input: x * gelu'(y).
    case B_GELU_BACKWARD: return run2(out, a, av, b, bv, ix, n, [](A g, A v) {
        const A cdf = (A)0.5 * ((A)1 + m_erf(v * (A)0.70710678118654752440));
        const A pdf = m_exp((A)-0.5 * v * v) * (A)0.39894228040143267794;
        return g * (cdf + v * pdf);
    });
    case B_GELU_TANH_BACKWARD: return run2(out, a, av, b, bv, ix, n, [](A g, A v) {
        const A beta = (A)0.79788456080286535588, kappa = (A)0.044715;
        const A v_sq = v * v;
        const A t = m_tanh(beta * (v + kappa * v_sq * v));
        const A left = (A)0.5 * v, right = (A)1 + t;
        const A right_derivative = left * ((A)1 - t * t) * beta * ((A)1 + (A)3 * kappa * v_sq);
        return g * ((A)0.5 * right + right_derivative);
    });
#endif
    default: return;
    }
}

extern "C" __global__ void binary_contiguous(int op, T* out, const T* a, i64 sa, u64 abits,
                                             const T* b, i64 sb, u64 bbits, u64 alpha, i64 n) {
    binary_op(op, out, a, abits, b, bbits, alpha, Flat{sa, sb, 0}, n);
}

extern "C" __global__ void binary_strided(int op, T* out, Strided so, const T* a, Strided sa,
                                          u64 abits, const T* b, Strided sb, u64 bbits, u64 alpha,
                                          i64 n) {
    binary_op(op, out, a, abits, b, bbits, alpha, Strides{so, sa, sb, so}, n);
}

template <class Ix>
__device__ __forceinline__ void compare_op(int op, b8* out, const T* a, u64 abits, const T* b,
                                           u64 bbits, const Ix& ix, i64 n) {
    const A av = value_of(abits), bv = value_of(bbits), zero = (A)0;
    switch (op) {
    case C_EQ: return run2(out, a, av, b, bv, ix, n, [](A x, A y) -> b8 { return x == y; });
    case C_NE: return run2(out, a, av, b, bv, ix, n, [](A x, A y) -> b8 { return x != y; });
    case C_LT: return run2(out, a, av, b, bv, ix, n, [](A x, A y) -> b8 { return x < y; });
    case C_LE: return run2(out, a, av, b, bv, ix, n, [](A x, A y) -> b8 { return x <= y; });
    case C_GT: return run2(out, a, av, b, bv, ix, n, [](A x, A y) -> b8 { return x > y; });
    case C_GE: return run2(out, a, av, b, bv, ix, n, [](A x, A y) -> b8 { return x >= y; });
    case C_AND: return run2(out, a, av, b, bv, ix, n, [=](A x, A y) -> b8 { return x != zero && y != zero; });
    case C_OR: return run2(out, a, av, b, bv, ix, n, [=](A x, A y) -> b8 { return x != zero || y != zero; });
    case C_XOR: return run2(out, a, av, b, bv, ix, n, [=](A x, A y) -> b8 { return (x != zero) != (y != zero); });
    default: return;
    }
}

extern "C" __global__ void compare_contiguous(int op, b8* out, const T* a, i64 sa, u64 abits,
                                              const T* b, i64 sb, u64 bbits, i64 n) {
    compare_op(op, out, a, abits, b, bbits, Flat{sa, sb, 0}, n);
}

extern "C" __global__ void compare_strided(int op, b8* out, Strided so, const T* a, Strided sa,
                                           u64 abits, const T* b, Strided sb, u64 bbits, i64 n) {
    compare_op(op, out, a, abits, b, bbits, Strides{so, sa, sb, so}, n);
}

template <class O, class Ix, class F>
__device__ __forceinline__ void run3(O* out, const T* a, A av, const T* b, A bv, const T* c,
                                     A cv, const Ix& ix, i64 n, F f) {
    FOR_EACH(i, n) {
        i64 o, x, y, z;
        ix.at(i, o, x, y, z);
        A u = a ? load(a + x) : av;
        A v = b ? load(b + y) : bv;
        A w = c ? load(c + z) : cv;
        store(out + o, f(u, v, w));
    }
}

// clamp: a NaN bound wins, a NaN x passes through; max wins where min > max. A missing bound
// has has_lo/has_hi 0.
__device__ __forceinline__ A clamp_lo_(A x, A lo) { return (is_nan(lo) || x < lo) ? lo : x; }
__device__ __forceinline__ A clamp_hi_(A x, A hi) { return (is_nan(hi) || hi < x) ? hi : x; }

template <class Ix>
__device__ __forceinline__ void ternary_op(int op, T* out, const T* a, u64 abits, const T* b,
                                           u64 bbits, const T* c, u64 cbits, const Ix& ix,
                                           i64 n) {
    const A av = value_of(abits), bv = value_of(bbits), cv = value_of(cbits);
    switch (op) {
    case 0: return run3(out, a, av, b, bv, c, cv, ix, n, [](A x, A l, A h) { return clamp_hi_(clamp_lo_(x, l), h); });
    case 1: return run3(out, a, av, b, bv, c, cv, ix, n, [](A x, A l, A) { return clamp_lo_(x, l); });
    case 2: return run3(out, a, av, b, bv, c, cv, ix, n, [](A x, A, A h) { return clamp_hi_(x, h); });
#if KIND == K_FLOAT
    // lerp from the nearer end, so weight 1 gives end exactly.
    case 3: return run3(out, a, av, b, bv, c, cv, ix, n, [](A s, A e, A w) {
        return m_fabs(w) < (A)0.5 ? s + w * (e - s) : e - (e - s) * ((A)1 - w);
    });
#endif
    default: return;
    }
}

// op 0: clamp(a, b, c); 1: clamp(a, min=b); 2: clamp(a, max=c); 3: lerp(a, b, weight=c).
extern "C" __global__ void ternary_contiguous(int op, T* out, const T* a, i64 sa, u64 abits,
                                              const T* b, i64 sb, u64 bbits, const T* c, i64 sc,
                                              u64 cbits, i64 n) {
    ternary_op(op, out, a, abits, b, bbits, c, cbits, Flat{sa, sb, sc}, n);
}

extern "C" __global__ void ternary_strided(int op, T* out, Strided so, const T* a, Strided sa,
                                           u64 abits, const T* b, Strided sb, u64 bbits,
                                           const T* c, Strided sc, u64 cbits, i64 n) {
    ternary_op(op, out, a, abits, b, bbits, c, cbits, Strides{so, sa, sb, sc}, n);
}

// where(cond, a, b); a u8 condition arrives converted to bool.
template <class Ix>
__device__ __forceinline__ void where_op(T* out, const b8* c, const T* a, u64 abits, const T* b,
                                         u64 bbits, const Ix& ix, i64 n) {
    const T av = *reinterpret_cast<const T*>(&abits), bv = *reinterpret_cast<const T*>(&bbits);
    FOR_EACH(i, n) {
        i64 o, x, y, z;
        ix.at(i, o, x, y, z);
        out[o] = c[x] ? (a ? a[y] : av) : (b ? b[z] : bv);
    }
}

extern "C" __global__ void where_contiguous(T* out, const b8* c, i64 sc, const T* a, i64 sa,
                                            u64 abits, const T* b, i64 sb, u64 bbits, i64 n) {
    where_op(out, c, a, abits, b, bbits, Flat{sc, sa, sb}, n);
}

extern "C" __global__ void where_strided(T* out, Strided so, const b8* c, Strided scond,
                                         const T* a, Strided sa, u64 abits, const T* b,
                                         Strided sb, u64 bbits, i64 n) {
    where_op(out, c, a, abits, b, bbits, Strides{so, scond, sa, sb}, n);
}

// isclose as torch computes it: for floats each intermediate rounded to T; for integers the
// difference taken in T (wrapping) and the tolerance in the default float dtype F (double when
// `wide`, else float), each step rounded to F. `exact` asks for plain equality (torch.equal).
__device__ __forceinline__ A round_t(A v) { return Convert<A, T>::run(Convert<T, A>::run(v)); }

template <class F>
__device__ __forceinline__ bool int_close_(A x, A y, double rtol, double atol) {
    const F r = (F)rtol, t = (F)atol;
    F allowed = t + (F)m_fabs((F)(r * (F)y));
    A d = (A)((UA)x - (UA)y);
    if (KIND == K_SINT && d < (A)0) d = (A)((UA)0 - (UA)d);
    return (F)d <= allowed;
}

struct Close {
    double rtol, atol;
    int equal_nan, wide, exact;
    __device__ __forceinline__ bool operator()(A x, A y) const {
        if (x == y) return true;
        if (exact) return false;
#if KIND == K_FLOAT
        if (equal_nan && is_nan(x) && is_nan(y)) return true;
        A allowed = round_t((A)atol + m_fabs(round_t((A)rtol * y)));
        A actual = m_fabs(round_t(x - y));
        // Finite: inf - inf and NaN - NaN are NaN.
        return actual - actual == (A)0 && actual <= allowed;
#elif KIND == K_BOOL
        return false;
#else
        return wide ? int_close_<double>(x, y, rtol, atol) : int_close_<float>(x, y, rtol, atol);
#endif
    }
};

extern "C" __global__ void isclose_contiguous(b8* out, const T* a, i64 sa, const T* b, i64 sb,
                                              Close c, i64 n) {
    run2(out, a, (A)0, b, (A)0, Flat{sa, sb, 0}, n, [&](A x, A y) -> b8 { return c(x, y); });
}

extern "C" __global__ void isclose_strided(b8* out, Strided so, const T* a, Strided sa,
                                           const T* b, Strided sb, Close c, i64 n) {
    run2(out, a, (A)0, b, (A)0, Strides{so, sa, sb, so}, n,
         [&](A x, A y) -> b8 { return c(x, y); });
}

// allclose / equal: `*all` (set to 1 by the host) is cleared by any pair that is not close.
extern "C" __global__ void all_close(int* all, const T* a, Strided sa, const T* b, Strided sb,
                                     Close c, i64 n) {
    const Strides ix{sa, sa, sb, sa};
    FOR_EACH(i, n) {
        i64 o, x, y, z;
        ix.at(i, o, x, y, z);
        if (!c(load(a + x), load(b + y))) *all = 0;
    }
}
