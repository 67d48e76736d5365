// GELU and the standard normal distribution it is made of, inline: for the GELU layer (gelu.c) and
// for the GELU fused after a batch norm (batchnorm.c), the same code, so that the fused and the
// separate layers give the same floats.
#ifndef LE4NN_GELU_H
#define LE4NN_GELU_H

#include "vfloat.h"

// e^x for x ≤ 0: x = n·ln 2 + r with |r| ≤ ½ln 2 (ln 2 in two parts, so r is exact), e^r by its
// Taylor series to r⁷, 2ⁿ written into the exponent bits. x is clamped at −87, where e^x is the
// smallest normal float; n is rounded by adding 1.5·2²³, which leaves it in the sum's low bits.
// (Vectors go by pointer: passed by value, they would change the ABI of the targets without AVX-512.)
static inline __attribute__((always_inline)) void exp_nonpositive(vfloat *v) {
    const vfloat x = __builtin_elementwise_max(*v, (vfloat){0} - 87);
    const float magic = 12582912.f;
    const vfloat shifted = x * 1.44269504f + magic, n = shifted - magic;
    const vfloat r = x - n * 0.693359375f + n * 2.12194440e-4f;
    vfloat e = (vfloat){0} + 1.f / 5040;
    e = e * r + 1.f / 720; e = e * r + 1.f / 120; e = e * r + 1.f / 24;
    e = e * r + 1.f / 6; e = e * r + 1.f / 2; e = e * r + 1; e = e * r + 1;
    const vmask bits = (((vmask)shifted - 0x4B400000) + 127) << 23;
    *v = e * (vfloat)bits;
}

// Φ(x) and φ(x). With z = |x|/√2, erf(z) = 1 − q, q = (a₁t + … + a₅t⁵)·e^(−z²), t = 1/(1 + p·z);
// e^(−z²) = e^(−x²/2) is also √(2π)·φ(x). Φ(x) = 1 − q/2 for x ≥ 0 and q/2 below: ½ + (½ − q/2)
// with x's sign.
static inline __attribute__((always_inline)) void normal(const vfloat *v, vfloat *cdf, vfloat *density) {
    const vfloat x = *v;
    const vmask sign = (vmask)x & (int)0x80000000;
    const vfloat z = (vfloat)((vmask)x & 0x7FFFFFFF) * 0.70710678f;
    vfloat e = -0.5f * x * x;
    exp_nonpositive(&e);
    const vfloat t = 1 / (1 + 0.3275911f * z);
    const vfloat q = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f)))) * e;
    *cdf = 0.5f + (vfloat)((vmask)(0.5f - 0.5f * q) ^ sign);
    *density = e * 0.39894228f;
}

// One vector: y = x·Φ(x), or with dy, y = dy·(Φ(x) + x·φ(x)).
static inline __attribute__((always_inline)) void gelu_vector(const float *x, const float *dy, float *y) {
    const vfloat v = LOAD(vfloat, x);
    vfloat cdf, density;
    normal(&v, &cdf, &density);
    STORE(vfloat, y, dy ? LOAD(vfloat, dy) * (cdf + v * density) : v * cdf);
}

// Whole vectors, then the last n mod 16 through a copy.
static inline __attribute__((always_inline)) void gelu_body(const float *x, const float *dy, size_t n, float *y) {
    size_t i = 0;
    for (; i + VLANES <= n; i += VLANES) gelu_vector(x + i, dy ? dy + i : 0, y + i);
    if (i == n) return;
    float xs[VLANES] = {0}, ds[VLANES] = {0}, ys[VLANES];
    for (size_t j = 0; i + j < n; j++) xs[j] = x[i + j], ds[j] = dy ? dy[i + j] : 0;
    gelu_vector(xs, dy ? ds : 0, ys);
    for (size_t j = 0; i + j < n; j++) y[i + j] = ys[j];
}

#endif
