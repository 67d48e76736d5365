// GELU, the exact form that PyTorch's nn.GELU() and airbench use: y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2))
// the standard normal distribution function, dy/dx = Φ(x) + x·φ(x), φ its density. erf by
// Abramowitz and Stegun's 7.1.26 (absolute error below 1.5e-7, about a Float's rounding). A kernel
// rather than Swift SIMD, whose vectors compile for baseline x86-64 (SSE2, no FMA): there, GELU
// took 5–7 % of a cifar-fast step.
#include "kernels.h"
#include "kernel_variants.h"
#include "gelu.h"

#define LE4_GELU_VARIANT(name, ENUM, detect, target, helpers)                          \
    target void le4_gelu_##name(const float *x, const float *dy, size_t n, float *y) { \
        gelu_body(x, dy, n, y);                                                        \
    }

LE4_ISA_LIST(LE4_GELU_VARIANT)
