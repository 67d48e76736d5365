// Batch normalization (course formulas 28–38), one image's channels at a time: the loops of
// Net/BatchNorm.swift (see kernels.h for the layout), with the activation after the BN fused in.
// Each channel's run of s floats is read in vectors of 16 with a scalar tail. Forward and backward
// split the runs alike and compute γ·x̂ + β by the same functions, so the mask of a fused ReLU and
// the slope of a fused GELU recomputed in backward are forward's, bit for bit.
//
// ReLU is applied run by run. GELU, whose Φ costs about as much as a pass over memory, runs over
// the image's whole block of channels at once (gelu.h), so that short runs (3×3 maps: 9 floats) do
// not pad each channel to a vector, and once per pass: forward on the image's block of y while it
// is in cache, backward once, into dz, which the input gradient reads instead of dy.
#include "kernels.h"
#include "kernel_variants.h"
#include "gelu.h"

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
// elsewhere, or dy itself without one. They use mean, inv_std, gamma, beta and relu in scope
// (relu: act is LE4_ACTIVATION_RELU).
#define XHAT(p) ((LOAD(vfloat, p) - mean) * inv_std)
#define OUT(h) (gamma * (h) + beta)
#define DZ(dy, h) (relu ? (vfloat)((vmask)LOAD(vfloat, dy) & (OUT(h) > 0)) : LOAD(vfloat, dy))
#define DZ1(dy, h) (relu && !(OUT(h) > 0) ? 0 : (dy))

// The sums of d = x − k and d² over a run of s floats, k near the channel's mean (the caller
// takes its first value): shifted so, the variance E[d²] − E[d]² does not lose its digits to a
// large mean. Added to *sum and *squares in double.
INLINE void sums_run(const float *p, size_t s, float k, double *sum, double *squares) {
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
    *sum += t;
    *squares += t2;
}

INLINE void normalize_run(const float *p, size_t s, float mean, float inv_std, float gamma, float beta, int relu,
                          float *q) {
    const vfloat zero = {0};
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

INLINE void gradient_sums_run(const float *d, const float *p, size_t s, float mean, float inv_std, float gamma,
                              float beta, int relu, double *sum_dz, double *sum_dz_xhat) {
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
    *sum_dz += t;
    *sum_dz_xhat += tx;
}

INLINE void input_grad_run(const float *d, const float *p, size_t s, float mean, float inv_std, float gamma, float beta,
                           int relu, float a, float b, float c, float *q) {
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

// Before the GELU: o = γ·x̂ + β of one image's channels into o.
INLINE void bn_output(const float *x, size_t channels, size_t s, const float *mean, const float *inv_std,
                      const float *gamma, const float *beta, float *o) {
    for (size_t c = 0; c < channels; c++) normalize_run(x + c * s, s, mean[c], inv_std[c], gamma[c], beta[c], 0, o + c * s);
}

// Each kernel runs over the channels of one image, channel c at x + c·s (see kernels.h). With GELU,
// the gradient sums first write dz = dy·GELU′(γ·x̂ + β) into scratch and sum it as without an
// activation; the input gradient then reads that dz (kernels.h).
#define LE4_BN_VARIANT(name, ENUM, detect, target, helpers)                                                        \
    target void le4_bn_sums_##name(const float *x, size_t channels, size_t s, const float *shift, double *sum,     \
                                   double *squares) {                                                              \
        for (size_t c = 0; c < channels; c++) sums_run(x + c * s, s, shift[c], sum + c, squares + c);              \
    }                                                                                                              \
    target void le4_bn_normalize_##name(const float *x, size_t channels, size_t s, const float *mean,              \
                                        const float *inv_std, const float *gamma, const float *beta, int act,      \
                                        float *y) {                                                                \
        const int relu = act == LE4_ACTIVATION_RELU;                                                               \
        for (size_t c = 0; c < channels; c++)                                                                      \
            normalize_run(x + c * s, s, mean[c], inv_std[c], gamma[c], beta[c], relu, y + c * s);                  \
        if (act == LE4_ACTIVATION_GELU) gelu_body(y, 0, channels * s, y);                                          \
    }                                                                                                              \
    target void le4_bn_gradient_sums_##name(const float *dy, const float *x, size_t channels, size_t s,            \
                                            const float *mean, const float *inv_std, const float *gamma,           \
                                            const float *beta, int act, float *scratch, double *sum_dz,            \
                                            double *sum_dz_xhat) {                                                 \
        if (act == LE4_ACTIVATION_GELU) {                                                                          \
            bn_output(x, channels, s, mean, inv_std, gamma, beta, scratch);                                        \
            gelu_body(scratch, dy, channels * s, scratch);                                                         \
            dy = scratch;                                                                                          \
        }                                                                                                          \
        const int relu = act == LE4_ACTIVATION_RELU;                                                               \
        for (size_t c = 0; c < channels; c++)                                                                      \
            gradient_sums_run(dy + c * s, x + c * s, s, mean[c], inv_std[c], gamma[c], beta[c], relu,             \
                              sum_dz + c, sum_dz_xhat + c);                                                        \
    }                                                                                                              \
    target void le4_bn_input_grad_##name(const float *dy, const float *x, size_t channels, size_t s,               \
                                         const float *mean, const float *inv_std, const float *gamma,              \
                                         const float *beta, int act, const float *a, const float *b,               \
                                         const float *c, float *dx) {                                              \
        const int relu = act == LE4_ACTIVATION_RELU;                                                               \
        for (size_t k = 0; k < channels; k++)                                                                      \
            input_grad_run(dy + k * s, x + k * s, s, mean[k], inv_std[k], gamma[k], beta[k], relu, a[k], b[k],     \
                           c[k], dx + k * s);                                                                      \
    }

LE4_ISA_LIST(LE4_BN_VARIANT)
