// Separable resampling (see ops::resample): one thread per output element sums the products of
// its taps over three dims. Specialised by T, a floating type; weights and sums in A (float for
// f16/bf16). Unused leading dims have one tap of weight 1.

typedef typename Acc<T>::type A;

extern "C" __global__ void resample_k(const T* x, T* y, const i64* i0, const A* w0, const i64* i1, const A* w1,
                                      const i64* i2, const A* w2, i64 planes, i64 in0, i64 in1, i64 in2, i64 o0,
                                      i64 o1, i64 o2, i64 k0, i64 k1, i64 k2) {
    FOR_EACH(e, planes * o0 * o1 * o2) {
        i64 r = e;
        const i64 c = r % o2;
        r /= o2;
        const i64 b = r % o1;
        r /= o1;
        const i64 a = r % o0;
        const i64 p = r / o0;
        const T* plane = x + p * in0 * in1 * in2;
        A acc = A(0);
        for (i64 j0 = 0; j0 < k0; ++j0) {
            const i64 q0 = a * k0 + j0;
            for (i64 j1 = 0; j1 < k1; ++j1) {
                const i64 q1 = b * k1 + j1;
                const T* line = plane + (i0[q0] * in1 + i1[q1]) * in2;
                A s = A(0);
                for (i64 j2 = 0; j2 < k2; ++j2) {
                    const i64 q2 = c * k2 + j2;
                    s += w2[q2] * load(line + i2[q2]);
                }
                acc += w0[q0] * w1[q1] * s;
            }
        }
        store(y + e, acc);
    }
}
