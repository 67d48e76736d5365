// The per-instruction-set variants of the ops in le4_kernels (internal to the Kernels target):
// le4_<op>_<isa>. LE4_KERNEL_OPS lists the ops once; from it and LE4_ISA_LIST come the variants'
// declarations, each with its table field's own type (a variant whose signature drifts from the
// table does not compile), and dispatch.c's table rows. An op's file defines its variants with
// LE4_ISA_LIST(ITS_VARIANT), ITS_VARIANT(name, ENUM, detect, target, helpers) one set's.
#ifndef LE4NN_KERNEL_VARIANTS_H
#define LE4NN_KERNEL_VARIANTS_H

#include "kernels.h"

#define LE4_KERNEL_OPS(X, set)                                                                               \
    X(sgemm, set) X(sgemm_packed_b_size, set) X(sgemm_pack_b, set) X(sgemm_prepacked, set)                   \
    X(winograd_filter, set) X(winograd_filter_grad, set) X(winograd_input, set) X(winograd_output, set)       \
    X(winograd_output_pool, set) X(winograd_output_grad, set)                                                \
    X(conv3x3_forward, set) X(conv3x3_filter_grad, set) X(maxpool2x2, set)                                   \
    X(bn_sums, set) X(bn_normalize, set) X(bn_gradient_sums, set) X(bn_input_grad, set) X(gelu, set)

#define LE4_DECLARE_VARIANT(op, set) __typeof__(*((le4_kernels *)0)->op) le4_##op##_##set;
#define LE4_DECLARE_VARIANTS(name, ENUM, detect, target, helpers) LE4_KERNEL_OPS(LE4_DECLARE_VARIANT, name)

LE4_ISA_LIST(LE4_DECLARE_VARIANTS)

#endif
