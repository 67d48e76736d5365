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

#endif
