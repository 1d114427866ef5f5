// Shared by unary.cu and binary.cu: math on the compute types, integer arithmetic that wraps
// as torch's does, and operands that are either device memory or one value passed by value.
// Specialised by T (the element type ops compute in) and KIND: 0 bool, 1 signed integer,
// 2 unsigned integer, 3 floating point. Math on f16/bf16 happens in float (Acc<T>).

typedef typename Acc<T>::type A;
typedef unsigned long long u64;

#define K_BOOL 0
#define K_SINT 1
#define K_UINT 2
#define K_FLOAT 3

// Overloads for float and double, so one templated body serves both.
#define MATH1(name, ff, df) \
    __device__ __forceinline__ float name(float x) { return ff(x); } \
    __device__ __forceinline__ double name(double x) { return df(x); }
#define MATH2(name, ff, df) \
    __device__ __forceinline__ float name(float x, float y) { return ff(x, y); } \
    __device__ __forceinline__ double name(double x, double y) { return df(x, y); }
MATH1(m_exp, expf, exp)
MATH1(m_exp2, exp2f, exp2)
MATH1(m_log, logf, log)
MATH1(m_log2, log2f, log2)
MATH1(m_log10, log10f, log10)
MATH1(m_log1p, log1pf, log1p)
MATH1(m_expm1, expm1f, expm1)
MATH1(m_sqrt, sqrtf, sqrt)
MATH1(m_sin, sinf, sin)
MATH1(m_cos, cosf, cos)
MATH1(m_tan, tanf, tan)
MATH1(m_asin, asinf, asin)
MATH1(m_acos, acosf, acos)
MATH1(m_atan, atanf, atan)
MATH1(m_sinh, sinhf, sinh)
MATH1(m_cosh, coshf, cosh)
MATH1(m_tanh, tanhf, tanh)
MATH1(m_asinh, asinhf, asinh)
MATH1(m_acosh, acoshf, acosh)
MATH1(m_atanh, atanhf, atanh)
MATH1(m_erf, erff, erf)
MATH1(m_erfc, erfcf, erfc)
MATH1(m_erfinv, erfinvf, erfinv)
MATH1(m_floor, floorf, floor)
MATH1(m_ceil, ceilf, ceil)
MATH1(m_trunc, truncf, trunc)
MATH1(m_rint, rintf, rint)
MATH1(m_fabs, fabsf, fabs)
MATH2(m_fmod, fmodf, fmod)
MATH2(m_pow, powf, pow)
MATH2(m_atan2, atan2f, atan2)
MATH2(m_hypot, hypotf, hypot)
MATH2(m_copysign, copysignf, copysign)

// NaN test that compiles for every compute type (always false for integers and bool).
template <class X> __device__ __forceinline__ bool is_nan(X v) { return v != v; }

// The unsigned type of the same width: integer arithmetic goes through it so overflow wraps
// (signed overflow is undefined in C++).
template <class X> struct Unsigned { typedef X type; };
template <> struct Unsigned<i8> { typedef unsigned char type; };
template <> struct Unsigned<i16> { typedef unsigned short type; };
template <> struct Unsigned<i32> { typedef unsigned int type; };
template <> struct Unsigned<i64> { typedef unsigned long long type; };
typedef typename Unsigned<A>::type UA;

// An operand of T read as A: from device memory at an offset, or, when the pointer is null,
// the single value whose bytes (in T) the host passed.
__device__ __forceinline__ A value_of(u64 bits) {
    return Convert<A, T>::run(*reinterpret_cast<const T*>(&bits));
}

// Index maps of the two layouts every kernel comes in: contiguous (an input may instead be
// one element broadcast, step 0) and strided, where the host merged the operands' dimensions
// together so they share sizes, and one division per dimension serves every operand.
struct Flat {
    i64 s1, s2, s3;
    __device__ __forceinline__ void at(i64 i, i64& o, i64& x, i64& y, i64& z) const {
        o = i;
        x = i * s1;
        y = i * s2;
        z = i * s3;
    }
};
struct Strides {
    const Strided &so, &s1, &s2, &s3;
    __device__ __forceinline__ void at(i64 i, i64& o, i64& x, i64& y, i64& z) const {
        o = x = y = z = 0;
        for (int d = so.ndim - 1; d > 0; --d) {
            i64 r;
            const i64 q = divmod(i, so.sizes[d], r);
            o += r * so.strides[d];
            x += r * s1.strides[d];
            y += r * s2.strides[d];
            z += r * s3.strides[d];
            i = q;
        }
        if (so.ndim > 0) {
            o += i * so.strides[0];
            x += i * s1.strides[0];
            y += i * s2.strides[0];
            z += i * s3.strides[0];
        }
    }
};
