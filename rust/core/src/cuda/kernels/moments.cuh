// Block-wide reductions shared by the row-wise (layer norm, softmax) and channel-wise (batch
// norm) kernels: the compute type A, a block all-reduce, plain sums and Welford moments.

typedef typename Acc<T>::type A;

__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }

// ---- combining partial statistics across threads ----------------------------------------------

// Every thread of the block gets the combination of all threads' values (a warp butterfly, then
// the warps' results through shared memory, combined in the same order by every thread).
template <class X, class C> __device__ X block_allreduce(X v, const C& combine) {
    __shared__ __align__(16) unsigned char smem[32 * sizeof(X)];
    X* sh = reinterpret_cast<X*>(smem);
    v = warp_allreduce(v, combine);
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();  // an earlier call may still read sh
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = sh[0];
    for (int k = 1; k < nw; ++k) v = combine(v, sh[k]);
    return v;
}

struct Sum {
    __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};

// Welford's running (count, mean, sum of squared deviations): one read of the row, no
// cancellation when the mean is large against the spread.
struct Moments {
    A n, mean, m2;
};
struct CombineMoments {
    // Symmetric in a and b (weighted mean rather than a delta update), so both lanes of a
    // butterfly compute the same bits.
    __device__ __forceinline__ Moments operator()(Moments a, Moments b) const {
        Moments r;
        r.n = a.n + b.n;
        if (r.n == A(0)) return a;
        const A d = b.mean - a.mean;
        r.mean = (a.n * a.mean + b.n * b.mean) / r.n;
        r.m2 = a.m2 + b.m2 + d * d * (a.n * b.n / r.n);
        return r;
    }
};
