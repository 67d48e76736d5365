// 2×2 max pooling, stride 2 (see kernels.h). Each output row is computed in vectors of 16, 8 or 4
// outputs, the widest that fits the row (rows of 14 and 7 are common: 28×28 digits pooled twice);
// the last vector of a row ends at the row's end, overlapping the one before and computing its
// first outputs again, so only rows shorter than 4 are scalar. A vector of L outputs reads 2L
// floats of the top and of the bottom input row and splits them into even and odd columns.
#include <stdint.h>

#include "kernels.h"
#include "kernel_variants.h"

#define INLINE static inline __attribute__((always_inline))

// The window at output (oh, ow), one output at a time: the maximum, first in the order top-left,
// top-right, bottom-left, bottom-right on ties, and its index (counted from index_base at x).
INLINE void pool_one(const float *x, size_t w, size_t oh, size_t ow, int32_t index_base, float *y, int32_t *argmax) {
    const size_t k0 = 2 * oh * w + 2 * ow, k1 = k0 + w;
    const size_t top = x[k0 + 1] > x[k0] ? k0 + 1 : k0, bottom = x[k1 + 1] > x[k1] ? k1 + 1 : k1;
    const size_t best = x[bottom] > x[top] ? bottom : top;
    *y = x[best];
    if (argmax) *argmax = index_base + (int32_t)best;
}

// One vector of L outputs from ow of output row oh, with the same order on ties as pool_one,
// written with selects rather than branches (random data would mispredict one per comparison).
#define LE4_POOL_VECTOR(L, EVEN, ODD)                                                                              \
    typedef float f##L __attribute__((vector_size(4 * L), aligned(4), may_alias));                                 \
    typedef int32_t i##L __attribute__((vector_size(4 * L), aligned(4), may_alias));                               \
    INLINE void pool_vector##L(const float *x, size_t w, size_t oh, size_t ow, int32_t index_base, float *y,       \
                               int32_t *argmax) {                                                                  \
        const float *t = x + 2 * oh * w + 2 * ow, *b = t + w;                                                      \
        const f##L t0 = *(const f##L *)t, t1 = *(const f##L *)(t + L);                                            \
        const f##L b0 = *(const f##L *)b, b1 = *(const f##L *)(b + L);                                            \
        const f##L te = __builtin_shufflevector(t0, t1, EVEN), to = __builtin_shufflevector(t0, t1, ODD);          \
        const f##L be = __builtin_shufflevector(b0, b1, EVEN), bo = __builtin_shufflevector(b0, b1, ODD);          \
        const i##L right_t = to > te, right_b = bo > be;                                                           \
        const f##L top = (f##L)((right_t & (i##L)to) | (~right_t & (i##L)te));                                     \
        const f##L bottom = (f##L)((right_b & (i##L)bo) | (~right_b & (i##L)be));                                  \
        const i##L lower = bottom > top;                                                                           \
        *(f##L *)(y + oh * (w / 2) + ow) = (f##L)((lower & (i##L)bottom) | (~lower & (i##L)top));                  \
        if (!argmax) return;                                                                                       \
        i##L first; /* index of each window's top-left input */                                                    \
        for (int l = 0; l < L; l++) first[l] = index_base + (int32_t)(2 * oh * w + 2 * (ow + l));                  \
        const i##L it = first - right_t, ib = first + (int32_t)w - right_b; /* a true lane is −1 */                \
        *(i##L *)(argmax + oh * (w / 2) + ow) = (lower & ib) | (~lower & it);                                      \
    }

#define EVEN4 0, 2, 4, 6
#define ODD4 1, 3, 5, 7
LE4_POOL_VECTOR(4, EVEN4, ODD4)
#define EVEN8 0, 2, 4, 6, 8, 10, 12, 14
#define ODD8 1, 3, 5, 7, 9, 11, 13, 15
LE4_POOL_VECTOR(8, EVEN8, ODD8)
#define EVEN16 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define ODD16 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
LE4_POOL_VECTOR(16, EVEN16, ODD16)

// Every output of every plane.
INLINE void forward_body(const float *x, size_t planes, size_t h, size_t w, int32_t index_base, float *y,
                         int32_t *argmax) {
    // An odd last row or column belongs to no window; w / 2 is the row stride of y either way.
    const size_t oh_count = h / 2, ow_count = w / 2, in = h * w, out = oh_count * ow_count;
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * in;
        float *yp = y + p * out;
        int32_t *ap = argmax ? argmax + p * out : 0;
        const int32_t base = index_base + (int32_t)(p * in);
        for (size_t oh = 0; oh < oh_count; oh++) {
            if (ow_count >= 4) {
                const size_t lanes = ow_count >= 16 ? 16 : ow_count >= 8 ? 8 : 4;
                for (size_t ow = 0;; ow += lanes) {
                    if (ow + lanes > ow_count) ow = ow_count - lanes;
                    if (lanes == 16) pool_vector16(xp, w, oh, ow, base, yp, ap);
                    else if (lanes == 8) pool_vector8(xp, w, oh, ow, base, yp, ap);
                    else pool_vector4(xp, w, oh, ow, base, yp, ap);
                    if (ow + lanes == ow_count) break;
                }
            } else {
                for (size_t ow = 0; ow < ow_count; ow++)
                    pool_one(xp, w, oh, ow, base, yp + oh * ow_count + ow, ap ? ap + oh * ow_count + ow : 0);
            }
        }
    }
}

#define LE4_POOL_VARIANT(name, ENUM, detect, target, helpers)                                                \
    target void le4_maxpool2x2_##name(const float *x, size_t planes, size_t h, size_t w, int32_t index_base, \
                                      float *y, int32_t *argmax) {                                           \
        forward_body(x, planes, h, w, index_base, y, argmax);                                                \
    }

LE4_ISA_LIST(LE4_POOL_VARIANT)
