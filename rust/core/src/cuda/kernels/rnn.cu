// The pointwise part of an LSTM or GRU step (torch's _thnn_fused_lstm_cell / _gru_cell): one
// thread per (batch row, hidden unit), forward and backward. Specialised by T, a floating type;
// f16/bf16 compute in float (A). Gate blocks are contiguous [b, k * h]; the workspaces hold
// what the backward needs: the LSTM's activated (i, f, g, o), the GRU's (r, z, n, hx, hn).

typedef typename Acc<T>::type A;

__device__ __forceinline__ float rnn_exp(float x) { return expf(x); }
__device__ __forceinline__ double rnn_exp(double x) { return exp(x); }
__device__ __forceinline__ float rnn_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double rnn_tanh(double x) { return tanh(x); }
__device__ __forceinline__ A rnn_sigmoid(A x) { return A(1) / (A(1) + rnn_exp(-x)); }

extern "C" __global__ void lstm_cell_k(const T* gates, const T* cx, T* hy, T* cy, T* ws, i64 b, i64 h) {
    FOR_EACH(k, b * h) {
        const i64 r = k / h, j = k - r * h;
        const T* g4 = gates + r * 4 * h;
        const A i = rnn_sigmoid(load(g4 + j));
        const A f = rnn_sigmoid(load(g4 + h + j));
        const A g = rnn_tanh(load(g4 + 2 * h + j));
        const A o = rnn_sigmoid(load(g4 + 3 * h + j));
        const A c = f * load(cx + k) + i * g;
        store(cy + k, c);
        store(hy + k, o * rnn_tanh(c));
        T* w = ws + r * 4 * h + j;
        store(w, i);
        store(w + h, f);
        store(w + 2 * h, g);
        store(w + 3 * h, o);
    }
}

// dhy or dcy may be null (a zero gradient).
extern "C" __global__ void lstm_cell_backward_k(const T* dhy, const T* dcy, const T* cx, const T* cy, const T* ws,
                                                T* dgates, T* dcx, i64 b, i64 h) {
    FOR_EACH(k, b * h) {
        const i64 r = k / h, j = k - r * h;
        const T* w = ws + r * 4 * h + j;
        const A i = load(w), f = load(w + h), g = load(w + 2 * h), o = load(w + 3 * h);
        const A dh = dhy ? load(dhy + k) : A(0);
        const A tc = rnn_tanh(load(cy + k));
        const A dc = (dcy ? load(dcy + k) : A(0)) + dh * o * (A(1) - tc * tc);
        T* d = dgates + r * 4 * h + j;
        store(d, dc * g * i * (A(1) - i));
        store(d + h, dc * load(cx + k) * f * (A(1) - f));
        store(d + 2 * h, dc * i * (A(1) - g * g));
        store(d + 3 * h, dh * tc * o * (A(1) - o));
        store(dcx + k, dc * f);
    }
}

extern "C" __global__ void gru_cell_k(const T* gi, const T* gh, const T* hx, T* hy, T* ws, i64 b, i64 h) {
    FOR_EACH(k, b * h) {
        const i64 row = k / h, j = k - row * h;
        const T *a = gi + row * 3 * h + j, *c = gh + row * 3 * h + j;
        const A r = rnn_sigmoid(load(a) + load(c));
        const A z = rnn_sigmoid(load(a + h) + load(c + h));
        const A hn = load(c + 2 * h);
        const A n = rnn_tanh(load(a + 2 * h) + r * hn);
        const A hv = load(hx + k);
        store(hy + k, n + z * (hv - n));
        T* w = ws + row * 5 * h + j;
        store(w, r);
        store(w + h, z);
        store(w + 2 * h, n);
        store(w + 3 * h, hv);
        store(w + 4 * h, hn);
    }
}

extern "C" __global__ void gru_cell_backward_k(const T* dhy, const T* ws, T* dgi, T* dgh, T* dhx, i64 b, i64 h) {
    FOR_EACH(k, b * h) {
        const i64 row = k / h, j = k - row * h;
        const T* w = ws + row * 5 * h + j;
        const A r = load(w), z = load(w + h), n = load(w + 2 * h), hv = load(w + 3 * h), hn = load(w + 4 * h);
        const A d = load(dhy + k);
        const A dn = d * (A(1) - z) * (A(1) - n * n);
        const A dz = d * (hv - n) * z * (A(1) - z);
        const A dr = dn * hn * r * (A(1) - r);
        T *ei = dgi + row * 3 * h + j, *eh = dgh + row * 3 * h + j;
        store(ei, dr);
        store(eh, dr);
        store(ei + h, dz);
        store(eh + h, dz);
        store(ei + 2 * h, dn);
        store(eh + 2 * h, dn * r);
        store(dhx + k, d * z);
    }
}
