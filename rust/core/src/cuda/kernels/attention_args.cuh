// The argument block of the attention kernels (attention.cu on CUDA cores, flash_attention.cu on
// tensor cores), put before each of them.

// Element strides of an operand seen as (batch, head, row, column). Must match `GeoArg` in
// cuda/attention.rs.
struct Geo {
    i64 b, h, r, c;
};
// Must match `Args` in cuda/attention.rs. The kernels read q, k, v, bias and dout and write o
// (the output), dq, dk and dv through these strides.
struct Args {
    Geo q, k, v, bias, dout, o, dq, dk, dv;
    i64 batch, heads, groups, l, s, e, ev;
    double scale;
    int causal, has_bias;
};

__device__ __forceinline__ i64 min64(i64 a, i64 b) { return a < b ? a : b; }
