// Fused multi-tensor optimizer updates (ops/optim.rs): one launch updates every parameter of a
// group. Specialised by T, a floating type; f16/bf16 compute in float (A). The math of each
// rule mirrors cpu/optim.rs line for line (torch's single-tensor order of operations).
//
// `table` (i64 words) holds, for n parameters: n descriptors {param, grad, state0, state1,
// state2, numel} (null state pointers are unused), then n rows of SCALARS f64 constants, then
// one {parameter index, first element} pair per block; a block updates `chunk` elements.

#define SCALARS 12
typedef typename Acc<T>::type A;

__device__ __forceinline__ bool on(A flag) { return flag != A(0); }
__device__ __forceinline__ A sqrt_(A x) { return sqrt(x); }
__device__ __forceinline__ A abs_(A x) { return x < A(0) ? -x : x; }
__device__ __forceinline__ A max_(A a, A b) { return (a != a || a > b) ? a : b; }

__device__ __forceinline__ A lerp(A from, A to, A w) {
    return abs_(w) < A(0.5) ? from + w * (to - from) : to - (to - from) * (A(1) - w);
}

__device__ __forceinline__ A decayed(A g, A p, A wd, A maximize) {
    g = on(maximize) ? -g : g;
    return on(wd) ? g + wd * p : g;
}

// c: [lr, wd, momentum, dampening, nesterov, maximize, first_step]
__device__ __forceinline__ A sgd(const A* c, A p, A g, A* s) {
    g = decayed(g, p, c[1], c[5]);
    const A momentum = c[2];
    if (on(momentum)) {
        s[0] = on(c[6]) ? g : s[0] * momentum + (A(1) - c[3]) * g;
        g = on(c[4]) ? g + momentum * s[0] : s[0];
    }
    return p + (-c[0]) * g;
}

// Decoupled weight decay scales p; coupled decay adds to g (Adam, NAdam, RAdam).
__device__ __forceinline__ void weight_decay(A lr, A wd, A decoupled, A maximize, A& p, A& g) {
    if (on(decoupled)) {
        g = on(maximize) ? -g : g;
        if (on(wd)) p = p * (A(1) - lr * wd);
    } else {
        g = decayed(g, p, wd, maximize);
    }
}

// c: [lr, beta1, beta2, eps, wd, step_size, bias_correction2_sqrt, amsgrad, maximize, decoupled]
__device__ __forceinline__ A adam(const A* c, A p, A g, A* s) {
    weight_decay(c[0], c[4], c[9], c[8], p, g);
    s[0] = lerp(s[0], g, A(1) - c[1]);
    s[1] = s[1] * c[2] + (A(1) - c[2]) * (g * g);
    A v = s[1];
    if (on(c[7])) {
        s[2] = max_(s[2], s[1]);
        v = s[2];
    }
    const A denom = sqrt_(v) / c[6] + c[3];
    return p + (-c[5]) * (s[0] / denom);
}

// c: [lr, alpha, eps, wd, momentum, centered, maximize]; states: square_avg, momentum, grad_avg
__device__ __forceinline__ A rmsprop(const A* c, A p, A g, A* s) {
    const A alpha = c[1];
    g = decayed(g, p, c[3], c[6]);
    s[0] = s[0] * alpha + (A(1) - alpha) * (g * g);
    A avg;
    if (on(c[5])) {
        s[2] = lerp(s[2], g, A(1) - alpha);
        avg = sqrt_(s[0] + (-A(1)) * (s[2] * s[2]));
    } else {
        avg = sqrt_(s[0]);
    }
    avg = avg + c[2];
    if (c[4] > A(0)) {
        s[1] = s[1] * c[4] + g / avg;
        return p + (-c[0]) * s[1];
    }
    return p + (-c[0]) * (g / avg);
}

// c: [clr, wd, eps, maximize]; states: sum
__device__ __forceinline__ A adagrad(const A* c, A p, A g, A* s) {
    g = decayed(g, p, c[1], c[3]);
    s[0] = s[0] + g * g;
    return p + (-c[0]) * (g / (sqrt_(s[0]) + c[2]));
}

// c: [lr, rho, eps, wd, maximize]; states: square_avg, acc_delta
__device__ __forceinline__ A adadelta(const A* c, A p, A g, A* s) {
    const A rho = c[1], eps = c[2];
    g = decayed(g, p, c[3], c[4]);
    s[0] = s[0] * rho + (A(1) - rho) * (g * g);
    const A std = sqrt_(s[0] + eps);
    const A delta = sqrt_(s[1] + eps) / std * g;
    s[1] = s[1] * rho + (A(1) - rho) * (delta * delta);
    return p + (-c[0]) * delta;
}

// c: [clr, beta1, beta2, eps, wd, maximize]; states: exp_avg, exp_inf
__device__ __forceinline__ A adamax(const A* c, A p, A g, A* s) {
    g = decayed(g, p, c[4], c[5]);
    s[0] = lerp(s[0], g, A(1) - c[1]);
    s[1] = max_(s[1] * c[2], abs_(g) + c[3]);
    return p + (-c[0]) * (s[0] / s[1]);
}

// c: [lr, beta1, beta2, eps, wd, decoupled, maximize, bias_correction2, grad_coef, avg_coef]
__device__ __forceinline__ A nadam(const A* c, A p, A g, A* s) {
    weight_decay(c[0], c[4], c[5], c[6], p, g);
    s[0] = lerp(s[0], g, A(1) - c[1]);
    s[1] = s[1] * c[2] + (A(1) - c[2]) * (g * g);
    const A denom = sqrt_(s[1] / c[7]) + c[3];
    p = p + (-c[8]) * (g / denom);
    return p + (-c[9]) * (s[0] / denom);
}

// c: [lr, beta1, beta2, eps, wd, decoupled, maximize, bias_correction1, bc2_sqrt, rect]
__device__ __forceinline__ A radam(const A* c, A p, A g, A* s) {
    weight_decay(c[0], c[4], c[5], c[6], p, g);
    s[0] = lerp(s[0], g, A(1) - c[1]);
    s[1] = s[1] * c[2] + (A(1) - c[2]) * (g * g);
    const A corrected = s[0] / c[7];
    if (c[9] > A(0)) {
        const A adaptive = c[8] / (sqrt_(s[1]) + c[3]);
        return p + (-A(1)) * (corrected * c[0] * adaptive * c[9]);
    }
    return p + (-A(1)) * (corrected * c[0]);
}

#define FUSED_STEP(kernel, rule)                                                              \
    extern "C" __global__ void kernel(const i64* table, i64 n, i64 chunk) {                   \
        const i64 t = table[(6 + SCALARS) * n + 2 * blockIdx.x];                              \
        const i64 start = table[(6 + SCALARS) * n + 2 * blockIdx.x + 1];                      \
        const i64* d = table + 6 * t;                                                         \
        T* p = (T*)d[0];                                                                      \
        const T* g = (const T*)d[1];                                                          \
        T* st[3] = {(T*)d[2], (T*)d[3], (T*)d[4]};                                            \
        const i64 end = min(start + chunk, d[5]);                                             \
        const double* cd = (const double*)(table + 6 * n) + SCALARS * t;                      \
        A c[SCALARS];                                                                         \
        for (int j = 0; j < SCALARS; j++) c[j] = (A)cd[j];                                    \
        for (i64 k = start + threadIdx.x; k < end; k += blockDim.x) {                         \
            A s[3];                                                                           \
            for (int j = 0; j < 3; j++) s[j] = st[j] ? load(st[j] + k) : A(0);                \
            store(p + k, rule(c, load(p + k), load(g + k), s));                               \
            for (int j = 0; j < 3; j++)                                                       \
                if (st[j]) store(st[j] + k, s[j]);                                            \
        }                                                                                     \
    }

FUSED_STEP(sgd_k, sgd)
FUSED_STEP(adam_k, adam)
FUSED_STEP(rmsprop_k, rmsprop)
FUSED_STEP(adagrad_k, adagrad)
FUSED_STEP(adadelta_k, adadelta)
FUSED_STEP(adamax_k, adamax)
FUSED_STEP(nadam_k, nadam)
FUSED_STEP(radam_k, radam)
