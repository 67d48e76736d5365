// The vector type of the kernels written with clang/GCC vector extensions instead of intrinsics:
// 16 floats, lowered to one zmm, two ymm or four xmm registers by the function's target, so one
// body compiles for AVX-512, AVX2 and portable C. Unaligned (aligned(4)) and may_alias, so any
// float pointer can be read or written as a vector.
#ifndef LE4NN_VFLOAT_H
#define LE4NN_VFLOAT_H

typedef float vfloat __attribute__((vector_size(64), aligned(4), may_alias));
/// The lanes of a comparison of vfloats: all bits set where true.
typedef int vmask __attribute__((vector_size(64), aligned(4)));
#define VLANES 16
/// Half a vfloat, for channel counts that are a multiple of 8 but not of 16 (cifar-fast's first
/// convolution on digits has 8 input channels).
typedef float vfloat8 __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD(type, p) (*(const type *)(p))
#define STORE(type, p, v) (*(type *)(p) = (v))

#include <stddef.h>

// A ragged end of n ≤ VLANES floats through a whole vector: the first n floats at p into *v, zeros
// in the other lanes, and the first n lanes of *v to p. (By address: a vector passed by value
// outside an AVX-512 function would change the calling convention.)
static inline __attribute__((always_inline)) void load_first(vfloat *v, const float *p, size_t n) {
    if (n == VLANES) { *v = LOAD(vfloat, p); return; }
    *v = (vfloat){0};
    for (size_t l = 0; l < n; l++) (*v)[l] = p[l];
}
static inline __attribute__((always_inline)) void store_first(float *p, const vfloat *v, size_t n) {
    if (n == VLANES) { STORE(vfloat, p, *v); return; }
    for (size_t l = 0; l < n; l++) p[l] = (*v)[l];
}

#endif
