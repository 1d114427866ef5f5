// nll_loss forward and backward. Specialised by T, the floating type of the log-probabilities;
// sums are carried in A (float for f16/bf16). The input is a contiguous [batch, classes, inner]
// (inner: the product of the K extra dims), the target a contiguous [batch, inner] of int64.

typedef typename Acc<T>::type A;

// Per target element p = b * inner + k: loss = -w[t] * x[b, t, k] and its weight w[t] (both 0
// where t == ignore_index). With `out` set (reduction='none') the loss is written there in T;
// else both go to the A arrays `loss` and `wsum` for the host to sum. A target outside
// [0, classes) writes nothing and lowers `*bad` to its position, which the host reads at the
// device's next synchronisation to report the first one.
extern "C" __global__ void nll_loss_terms_k(const T* x, const i64* target, const T* weight, i64 n_el,
                                            i64 classes, i64 inner, i64 ignore_index, T* out, A* loss,
                                            A* wsum, long long* bad) {
    FOR_EACH(p, n_el) {
        const i64 t = target[p];
        A l = A(0), w = A(0);
        if (t != ignore_index) {
            if (t < 0 || t >= classes) {
                atomicMin(bad, (long long)p);
            } else {
                const i64 b = p / inner, k = p - b * inner;
                w = weight ? load(weight + t) : A(1);
                l = -w * load(x + (b * classes + t) * inner + k);
            }
        }
        if (out) {
            store(out + p, l);
        } else {
            loss[p] = l;
            wsum[p] = w;
        }
    }
}

// grad_input[b, t, k] = -w[t] * g (g per element for reduction='none', else the one value g[0],
// divided by the total weight for 'mean'); grad_input arrives zeroed. Ignored and out-of-range
// targets (already reported by the forward) write nothing.
extern "C" __global__ void nll_loss_backward_k(const T* g, int g_per_element, const T* total_weight,
                                               const i64* target, const T* weight, T* grad_input,
                                               i64 n_el, i64 classes, i64 inner, i64 ignore_index) {
    FOR_EACH(p, n_el) {
        const i64 t = target[p];
        if (t == ignore_index || t < 0 || t >= classes) continue;
        A gv = load(g + (g_per_element ? p : 0));
        if (total_weight) gv = gv / load(total_weight);
        const A w = weight ? load(weight + t) : A(1);
        const i64 b = p / inner, k = p - b * inner;
        store(grad_input + (b * classes + t) * inner + k, -gv * w);
    }
}
