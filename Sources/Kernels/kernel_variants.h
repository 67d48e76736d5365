// The per-instruction-set variants of the ops in le4_kernels (internal to the Kernels target):
// le4_<op>_<isa>, each declared with its table field's own type, so that a variant whose
// signature drifts from the table does not compile.
#ifndef LE4NN_KERNEL_VARIANTS_H
#define LE4NN_KERNEL_VARIANTS_H

#include "kernels.h"

#define LE4_OP(op) __typeof__(*((le4_kernels *)0)->op)
#define LE4_DECLARE_KERNELS(isa)                                                                            \
    LE4_OP(sgemm) le4_sgemm_##isa;                                                                          \
    LE4_OP(sgemm_packed_b_size) le4_sgemm_packed_b_size_##isa;                                              \
    LE4_OP(sgemm_pack_b) le4_sgemm_pack_b_##isa;                                                            \
    LE4_OP(sgemm_prepacked) le4_sgemm_prepacked_##isa;                                                      \
    LE4_OP(winograd_input) le4_winograd_input_##isa;                                                        \
    LE4_OP(winograd_output) le4_winograd_output_##isa;                                                      \
    LE4_OP(winograd_output_grad) le4_winograd_output_grad_##isa;                                            \
    LE4_OP(conv3x3_forward) le4_conv3x3_forward_##isa;                                                      \
    LE4_OP(conv3x3_filter_grad) le4_conv3x3_filter_grad_##isa;                                              \
    LE4_OP(maxpool2x2) le4_maxpool2x2_##isa;                                                                \
    LE4_OP(bn_sums) le4_bn_sums_##isa;                                                                      \
    LE4_OP(bn_normalize) le4_bn_normalize_##isa;                                                            \
    LE4_OP(bn_gradient_sums) le4_bn_gradient_sums_##isa;                                                    \
    LE4_OP(bn_input_grad) le4_bn_input_grad_##isa;

LE4_DECLARE_KERNELS(portable)
LE4_DECLARE_KERNELS(avx2)
LE4_DECLARE_KERNELS(avx512)

#endif
