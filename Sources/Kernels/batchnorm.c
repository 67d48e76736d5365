// Batch normalization of one channel over a batch (course formulas 28–38): the loops of
// Net/BatchNorm.swift (see kernels.h for the layout). Each run of s floats is read in vectors of
// 16 with a scalar tail. Forward and backward split the runs alike and compute γ·x̂ + β by the
// same functions, so the mask of a fused ReLU recomputed in backward is forward's, bit for bit.
#include "kernels.h"
#include "vfloat.h"

#define INLINE static inline __attribute__((always_inline))

// The sum of a vector's lanes. (Helpers take vectors by address or are macros: a vector passed by
// value outside an AVX-512 function would change the calling convention, and the compiler warns.)
INLINE float lane_sum(const vfloat *v) {
    float s = 0;
    for (int l = 0; l < VLANES; l++) s += (*v)[l];
    return s;
}

// x̂ = (x − mean)·inv_std of the 16 floats at p; the output before the ReLU, γ·x̂ + β, of a vector
// or a float; and dz, which is dy where the fused ReLU passed its input (γ·x̂ + β > 0) and 0
// elsewhere, or dy itself without one. They use mean, inv_std, gamma, beta and relu in scope.
#define XHAT(p) ((LOAD(vfloat, p) - mean) * inv_std)
#define OUT(h) (gamma * (h) + beta)
#define DZ(dy, h) (relu ? (vfloat)((vmask)LOAD(vfloat, dy) & (OUT(h) > 0)) : LOAD(vfloat, dy))
#define DZ1(dy, h) (relu && !(OUT(h) > 0) ? 0 : (dy))

// Mean and variance in one pass over the channel (the pass is bound by memory), from the sums of
// d = x − k and d², k the channel's first value: shifted by a value near the mean, the variance
// E[d²] − E[d]² does not lose its digits to a large mean. Run sums are added in double.
INLINE void statistics_body(const float *x, size_t n, size_t stride, size_t s, float *mean, float *variance) {
    const float k = x[0];
    double total = 0, squares = 0;
    for (size_t r = 0; r < n; r++) {
        const float *p = x + r * stride;
        vfloat acc = {0}, acc2 = {0};
        size_t i = 0;
        for (; i + VLANES <= s; i += VLANES) {
            const vfloat d = LOAD(vfloat, p + i) - k;
            acc += d;
            acc2 += d * d;
        }
        float t = lane_sum(&acc), t2 = lane_sum(&acc2);
        for (; i < s; i++) {
            const float d = p[i] - k;
            t += d;
            t2 += d * d;
        }
        total += t;
        squares += t2;
    }
    const double count = (double)(n * s), shift = total / count, v = squares / count - shift * shift;
    *mean = (float)(k + shift);
    *variance = (float)(v > 0 ? v : 0);
}

INLINE void normalize_body(const float *x, size_t n, size_t stride, size_t s, float mean, float inv_std, float gamma,
                           float beta, int relu, float *y) {
    const vfloat zero = {0};
    for (size_t r = 0; r < n; r++) {
        const float *p = x + r * stride;
        float *q = y + r * stride;
        size_t i = 0;
        for (; i + VLANES <= s; i += VLANES) {
            const vfloat o = OUT(XHAT(p + i));
            STORE(vfloat, q + i, relu ? __builtin_elementwise_max(o, zero) : o);
        }
        for (; i < s; i++) {
            const float o = OUT((p[i] - mean) * inv_std);
            q[i] = relu && !(o > 0) ? 0 : o;
        }
    }
}

INLINE void gradient_sums_body(const float *dy, const float *x, size_t n, size_t stride, size_t s, float mean,
                               float inv_std, float gamma, float beta, int relu, float *sum_dz, float *sum_dz_xhat) {
    double total = 0, total_x = 0;
    for (size_t r = 0; r < n; r++) {
        const float *p = x + r * stride, *d = dy + r * stride;
        vfloat acc = {0}, acc_x = {0};
        size_t i = 0;
        for (; i + VLANES <= s; i += VLANES) {
            const vfloat h = XHAT(p + i), z = DZ(d + i, h);
            acc += z;
            acc_x += z * h;
        }
        float t = lane_sum(&acc), tx = lane_sum(&acc_x);
        for (; i < s; i++) {
            const float h = (p[i] - mean) * inv_std, z = DZ1(d[i], h);
            t += z;
            tx += z * h;
        }
        total += t;
        total_x += tx;
    }
    *sum_dz = (float)total;
    *sum_dz_xhat = (float)total_x;
}

INLINE void input_grad_body(const float *dy, const float *x, size_t n, size_t stride, size_t s, float mean,
                            float inv_std, float gamma, float beta, int relu, float a, float b, float c, float *dx) {
    for (size_t r = 0; r < n; r++) {
        const float *p = x + r * stride, *d = dy + r * stride;
        float *q = dx + r * stride;
        size_t i = 0;
        for (; i + VLANES <= s; i += VLANES) {
            const vfloat h = XHAT(p + i);
            STORE(vfloat, q + i, a * DZ(d + i, h) + b * h + c);
        }
        for (; i < s; i++) {
            const float h = (p[i] - mean) * inv_std;
            q[i] = a * DZ1(d[i], h) + b * h + c;
        }
    }
}

#define LE4_BN_VARIANT(name, target)                                                                          \
    target static void statistics_##name(const float *x, size_t n, size_t stride, size_t s, float *mean,      \
                                         float *variance) {                                                   \
        statistics_body(x, n, stride, s, mean, variance);                                                     \
    }                                                                                                         \
    target static void normalize_##name(const float *x, size_t n, size_t stride, size_t s, float mean,        \
                                        float inv_std, float gamma, float beta, int relu, float *y) {         \
        normalize_body(x, n, stride, s, mean, inv_std, gamma, beta, relu, y);                                 \
    }                                                                                                         \
    target static void gradient_sums_##name(const float *dy, const float *x, size_t n, size_t stride,         \
                                            size_t s, float mean, float inv_std, float gamma, float beta,     \
                                            int relu, float *sum_dz, float *sum_dz_xhat) {                    \
        gradient_sums_body(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, sum_dz, sum_dz_xhat);       \
    }                                                                                                         \
    target static void input_grad_##name(const float *dy, const float *x, size_t n, size_t stride, size_t s,  \
                                         float mean, float inv_std, float gamma, float beta, int relu,        \
                                         float a, float b, float c, float *dx) {                              \
        input_grad_body(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, a, b, c, dx);                  \
    }

LE4_BN_VARIANT(portable, )
LE4_BN_VARIANT(avx2, __attribute__((target("avx2,fma"))))
LE4_BN_VARIANT(avx512, __attribute__((target("avx512f"))))

void le4_bn_statistics(le4_isa isa, const float *x, size_t n, size_t stride, size_t s, float *mean, float *variance) {
    if (isa == LE4_ISA_AVX512) statistics_avx512(x, n, stride, s, mean, variance);
    else if (isa == LE4_ISA_AVX2) statistics_avx2(x, n, stride, s, mean, variance);
    else statistics_portable(x, n, stride, s, mean, variance);
}

void le4_bn_normalize(le4_isa isa, const float *x, size_t n, size_t stride, size_t s, float mean, float inv_std,
                      float gamma, float beta, int relu, float *y) {
    if (isa == LE4_ISA_AVX512) normalize_avx512(x, n, stride, s, mean, inv_std, gamma, beta, relu, y);
    else if (isa == LE4_ISA_AVX2) normalize_avx2(x, n, stride, s, mean, inv_std, gamma, beta, relu, y);
    else normalize_portable(x, n, stride, s, mean, inv_std, gamma, beta, relu, y);
}

void le4_bn_gradient_sums(le4_isa isa, const float *dy, const float *x, size_t n, size_t stride, size_t s, float mean,
                          float inv_std, float gamma, float beta, int relu, float *sum_dz, float *sum_dz_xhat) {
    if (isa == LE4_ISA_AVX512)
        gradient_sums_avx512(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, sum_dz, sum_dz_xhat);
    else if (isa == LE4_ISA_AVX2)
        gradient_sums_avx2(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, sum_dz, sum_dz_xhat);
    else gradient_sums_portable(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, sum_dz, sum_dz_xhat);
}

void le4_bn_input_grad(le4_isa isa, const float *dy, const float *x, size_t n, size_t stride, size_t s, float mean,
                       float inv_std, float gamma, float beta, int relu, float a, float b, float c, float *dx) {
    if (isa == LE4_ISA_AVX512) input_grad_avx512(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, a, b, c, dx);
    else if (isa == LE4_ISA_AVX2) input_grad_avx2(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, a, b, c, dx);
    else input_grad_portable(dy, x, n, stride, s, mean, inv_std, gamma, beta, relu, a, b, c, dx);
}
