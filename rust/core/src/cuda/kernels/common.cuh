// Prepended to every kernel source (after the specialisation's #defines): the element types
// under ferrotorch's dtype names, conversions between them, and strided indexing.
// No CUDA header is included, so NVRTC needs nothing but itself.

typedef float f32;
typedef double f64;
typedef signed char i8;
typedef unsigned char u8;
typedef short i16;
typedef int i32;
typedef long long i64;
typedef bool b8;

// Half types as their bits; arithmetic happens in float (torch's "opmath" type).
struct f16 { unsigned short bits; };
struct bf16 { unsigned short bits; };

__device__ __forceinline__ float to_float(f16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.bits));
    return f;
}
__device__ __forceinline__ float to_float(bf16 h) {
    return __uint_as_float(((unsigned)h.bits) << 16);
}
__device__ __forceinline__ f16 f16_from(float f) {
    f16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.bits) : "f"(f));
    return h;
}
__device__ __forceinline__ f16 f16_from(double d) {
    f16 h;
    asm("cvt.rn.f16.f64 %0, %1;" : "=h"(h.bits) : "d"(d));
    return h;
}
__device__ __forceinline__ bf16 bf16_from(float f) {
    bf16 h;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h.bits) : "f"(f));
    return h;
}

// The type arithmetic on T happens in.
template <class T> struct Acc { typedef T type; };
template <> struct Acc<f16> { typedef float type; };
template <> struct Acc<bf16> { typedef float type; };
template <> struct Acc<b8> { typedef b8 type; };

// Convert<D, S>::run(v): torch's value conversion from S to D (float -> int truncates,
// anything -> bool is `!= 0`, NaN -> bool is true).
template <class D, class S> struct Convert {
    static __device__ __forceinline__ D run(S v) { return static_cast<D>(v); }
};
template <class S> struct Convert<b8, S> {
    static __device__ __forceinline__ b8 run(S v) { return v != S(0); }
};
template <class D> struct Convert<D, f16> {
    static __device__ __forceinline__ D run(f16 v) { return Convert<D, float>::run(to_float(v)); }
};
template <class D> struct Convert<D, bf16> {
    static __device__ __forceinline__ D run(bf16 v) { return Convert<D, float>::run(to_float(v)); }
};
// Floats reach uint8 through int64, as torch's casts do: a negative value wraps (-1.7 -> 255)
// instead of the undefined float -> unsigned conversion, which the GPU saturates to 0.
template <> struct Convert<u8, float> {
    static __device__ __forceinline__ u8 run(float v) { return (u8)(i64)v; }
};
template <> struct Convert<u8, double> {
    static __device__ __forceinline__ u8 run(double v) { return (u8)(i64)v; }
};
template <class S> struct Convert<f16, S> {
    static __device__ __forceinline__ f16 run(S v) { return f16_from(static_cast<float>(v)); }
};
template <class S> struct Convert<bf16, S> {
    static __device__ __forceinline__ bf16 run(S v) { return bf16_from(static_cast<float>(v)); }
};
template <> struct Convert<f16, f64> {
    static __device__ __forceinline__ f16 run(f64 v) { return f16_from(v); }
};
template <> struct Convert<f16, f16> {
    static __device__ __forceinline__ f16 run(f16 v) { return v; }
};
template <> struct Convert<bf16, bf16> {
    static __device__ __forceinline__ bf16 run(bf16 v) { return v; }
};
template <> struct Convert<f16, bf16> {
    static __device__ __forceinline__ f16 run(bf16 v) { return f16_from(to_float(v)); }
};
template <> struct Convert<bf16, f16> {
    static __device__ __forceinline__ bf16 run(f16 v) { return bf16_from(to_float(v)); }
};
template <> struct Convert<b8, f16> {
    static __device__ __forceinline__ b8 run(f16 v) { return to_float(v) != 0.0f; }
};
template <> struct Convert<b8, bf16> {
    static __device__ __forceinline__ b8 run(bf16 v) { return to_float(v) != 0.0f; }
};
template <> struct Convert<b8, b8> {
    static __device__ __forceinline__ b8 run(b8 v) { return v; }
};
template <> struct Convert<f16, b8> {
    static __device__ __forceinline__ f16 run(b8 v) { return f16_from(v ? 1.0f : 0.0f); }
};
template <> struct Convert<bf16, b8> {
    static __device__ __forceinline__ bf16 run(b8 v) { return bf16_from(v ? 1.0f : 0.0f); }
};

// A value of T in its compute type, and back.
template <class T> __device__ __forceinline__ typename Acc<T>::type widen(T v) {
    return Convert<typename Acc<T>::type, T>::run(v);
}
template <class T> __device__ __forceinline__ T narrow(typename Acc<T>::type v) {
    return Convert<T, typename Acc<T>::type>::run(v);
}
template <class T> __device__ __forceinline__ typename Acc<T>::type load(const T* p) {
    return widen(*p);
}
template <class T> __device__ __forceinline__ void store(T* p, typename Acc<T>::type v) {
    *p = narrow<T>(v);
}

// N elements of X moved by one memory instruction. Packs of 16 bytes (the widest load a thread
// can issue) are what contiguous kernels stream through: a quarter of the instructions of
// 4-byte loads, and four times the bytes in flight per thread.
template <class X, int N> struct alignas(sizeof(X) * N) Pack {
    X v[N];
};
template <class X> struct Pack16 {
    enum { N = 16 / sizeof(X) };
    typedef Pack<X, N> type;
};
__device__ __forceinline__ bool aligned_to(const void* p, unsigned bytes) {
    return (unsigned long long)p % bytes == 0;
}

// A view's geometry, in elements, after the host merged every dimension it could (most
// views arrive with ndim 1). Dimension 0 is the outermost.
#define MAX_DIMS 16
struct Strided {
    i64 sizes[MAX_DIMS];
    i64 strides[MAX_DIMS];
    int ndim;
};

// i / size, with the remainder in r. When both fit in 32 bits (every tensor below 2^32
// elements) the division is unsigned 32-bit: a 64-bit one is a long software sequence on the
// GPU, which left strided copies and elementwise kernels bound by index arithmetic, not memory.
__device__ __forceinline__ i64 divmod(i64 i, i64 size, i64& r) {
    if ((((unsigned long long)i | (unsigned long long)size) >> 32) == 0) {
        const unsigned q = (unsigned)i / (unsigned)size;
        r = (i64)((unsigned)i - q * (unsigned)size);
        return (i64)q;
    }
    const i64 q = i / size;
    r = i - q * size;
    return q;
}

// Offset of the i-th element (row-major order over `sizes`) of a view.
__device__ __forceinline__ i64 offset_of(const Strided& s, i64 i) {
    i64 off = 0;
    for (int d = s.ndim - 1; d > 0; --d) {
        i64 r;
        i = divmod(i, s.sizes[d], r);
        off += r * s.strides[d];
    }
    return s.ndim > 0 ? off + i * s.strides[0] : 0;
}

// Grid-stride loop over n elements.
#define FOR_EACH(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// Warp shuffles of any trivially copyable value (an accumulator struct, a double, an index
// pair), word by word: the union rounds it up to whole words. `shuffle_word` moves one word.
template <class A, class F> __device__ __forceinline__ A shfl_words(A v, const F& shuffle_word) {
    union U {
        A a;
        unsigned w[(sizeof(A) + 3) / 4];
    };
    U u;
    u.a = v;
#pragma unroll
    for (int k = 0; k < (int)((sizeof(A) + 3) / 4); ++k) u.w[k] = shuffle_word(u.w[k]);
    return u.a;
}
template <class A> __device__ __forceinline__ A shfl_down(A v, int off) {
    return shfl_words(v, [off](unsigned w) { return __shfl_down_sync(0xffffffffu, w, off); });
}
template <class A> __device__ __forceinline__ A shfl_up(A v, int off) {
    return shfl_words(v, [off](unsigned w) { return __shfl_up_sync(0xffffffffu, w, off); });
}
// Exchanges with lane `lane ^ mask` of the warp.
template <class A> __device__ __forceinline__ A shfl_xor(A v, int mask) {
    return shfl_words(v, [mask](unsigned w) { return __shfl_xor_sync(0xffffffffu, w, mask); });
}

// Butterfly reduction over the 32 lanes of a warp: every lane ends with the combination of all
// of them (row kernels need the row's statistic in every lane, not just lane 0). `combine` must
// be commutative, so that all lanes compute bit-identical results.
template <class X, class C> __device__ __forceinline__ X warp_allreduce(X v, const C& combine) {
#pragma unroll
    for (int m = 16; m > 0; m >>= 1) v = combine(v, shfl_xor(v, m));
    return v;
}
