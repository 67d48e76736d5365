// le4nn's numeric kernels: the few loops where SIMD intrinsics pay, each compiled for AVX2+FMA,
// for AVX-512 and as portable C, and chosen at run time for the CPU at hand. Everything else of
// le4nn is Swift; these functions only compute, they never allocate on behalf of user data sizes
// beyond the packing buffers of gemm.c.
//
// The ops that have variants per instruction set are reached through one table per set,
// le4_kernels_for(isa): a struct of function pointers (XNNPACK's scheme), so that callers choose
// the set once. Every op's variants, the tables and the run-time choice come from one list of
// the sets, LE4_ISA_LIST: adding a set is its row there and its SGEMM micro-kernel file
// (sgemm_ukernels.h).
#ifndef LE4NN_KERNELS_H
#define LE4NN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#pragma clang assume_nonnull begin

/// The activation a batch-norm kernel applies to its output (`act`), fused so that the output
/// before it is neither written nor read again, and recomputed in backward rather than kept.
typedef enum { LE4_ACTIVATION_IDENTITY, LE4_ACTIVATION_RELU, LE4_ACTIVATION_GELU } le4_activation;

// The instruction sets kernels are compiled for, lowest first, one row each:
//   X(name, ENUM, detect, target, helpers)
// The kernels are x86-64 only (intrinsics, target attributes, __builtin_cpu_supports).
// name: the variants' suffix (le4_<op>_<name>) and the name LE4NN_ISA takes; detect: whether this
// CPU and its operating system run the set (__builtin_cpu_supports also checks XGETBV); target:
// the attribute every variant of the set is compiled with; helpers: the set whose 8-float
// transposes (transpose8x8.h) it uses, avx2 or portable.
//   portable: plain C, correct on any x86-64; avx2: AVX2 with FMA (Haswell, Zen and later);
//   avx512: AVX-512 F (Skylake-X, Zen 4 and later).
#define LE4_ISA_LIST(X)                                                                                 \
    X(portable, LE4_ISA_PORTABLE, 1, , portable)                                                      \
    X(avx2, LE4_ISA_AVX2, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"),            \
      __attribute__((target("avx2,fma"))), avx2)                                                       \
    X(avx512, LE4_ISA_AVX512, __builtin_cpu_supports("avx512f"), __attribute__((target("avx512f"))), avx2)

#define LE4_ISA_ENUMERATOR(name, ENUM, detect, target, helpers) ENUM,
/// Instruction sets a kernel can be compiled for, in increasing order (LE4_ISA_LIST), and their count.
typedef enum { LE4_ISA_LIST(LE4_ISA_ENUMERATOR) LE4_ISA_COUNT } le4_isa;

/// The best instruction set this CPU and operating system support.
le4_isa le4_best_isa(void);

/// A short name of an instruction set, its `name` in LE4_ISA_LIST: "portable", "avx2", ….
const char *le4_isa_name(le4_isa isa);

// Winograd convolution F(m×m, 3×3), m = 2 to 6 (Lavin and Gray, 2016), of 3×3 filters, stride 1,
// padding 1: each m×m block ("tile") of the output comes from an α×α patch of the input
// (α = m + 2) through α² element-wise products instead of 9m² multiplications (2.25× fewer for
// m = 2, 3.24× for m = 3, 4× for m = 4, 4.59× for m = 5, 5.06× for m = 6), so the convolution becomes α² GEMMs
//   M[ξ] (T×K) = V[ξ] (T×C) · U[ξ]ᵀ,   U[ξ]: K×C,   ξ < α²,  T = tiles of a group of images
// between a filter transform U = G·g·Gᵀ, an input transform V = Bᵀ·d·B and an output transform
// y = Aᵀ·M·A. Tile t of image b at tile row ty, column tx is t = (b·TH + ty)·TW + tx, with
// TH = ⌈H/m⌉, TW = ⌈W/m⌉. Transformed tiles keep their channels contiguous (V[ξ][t][c]), so the
// transforms are vector operations across channels.

/// α², the number of GEMMs (16, 25, 36, 49 or 64 for m = 2, 3, 4, 5 or 6).
size_t le4_winograd_points(size_t m);

/// Floats of scratch the transforms need for images of c channels, h×w.
size_t le4_winograd_scratch(size_t m, size_t c, size_t h, size_t w);

// Direct 3×3 convolution, stride 1, padding 1, of one image, for inputs of few channels (the
// first layer's 1 or 3), where im2col's GEMMs would be only 9·C deep.

/// Floats of scratch conv3x3_forward and conv3x3_filter_grad need for an image of c channels, h×w.
size_t le4_conv3x3_scratch(size_t c, size_t h, size_t w);

// Batch normalization (course formulas 28–38) of one image: x is its [C, S] (S = H·W, 1 after an
// affine layer), channel c the run of s floats at x + c·s, and each per-channel argument an array
// of C. Training reads a batch [B, C, S] image by image, in memory order: a channel's runs across
// the batch, C·S floats apart, stream at about half the bandwidth (measured on a Zen 4 EPYC: 8–11
// against 19–27 GB/s). x̂ = (x − mean)·inv_std; with relu a ReLU follows the normalization
// (fused: its mask is recomputed from x̂ in backward). Sums are added to in double.

/// The ops of one instruction set.
typedef struct le4_kernels {
    le4_isa isa;

    /// C = op(A)·op(B) + beta·C for row-major matrices on the calling thread. A is M×K (K×M when
    /// trans_a), B is K×N (N×K when trans_b), C is M×N. beta 0 overwrites C without reading it.
    void (*sgemm)(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                           size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);
    /// Floats of a prepacked op(B) (K×N) for sgemm_prepacked.
    size_t (*sgemm_packed_b_size)(size_t n, size_t k);
    /// Packs op(B) (K×N; B is N×K when trans_b) once, for several products with the same B.
    void (*sgemm_pack_b)(int trans_b, size_t n, size_t k, const float *b, size_t ldb,
                                  float *packed);
    /// sgemm with op(B) prepacked by sgemm_pack_b of the same table (same n and k).
    void (*sgemm_prepacked)(int trans_a, size_t m, size_t n, size_t k, const float *a, size_t lda,
                                     const float *packed_b, float beta, float *c, size_t ldc);

    /// u[ξ][k][c] = (G·g[k][c]·Gᵀ)[ξ] for the filters k0 ≤ k < k1 of g [K][C][3][3]; with `flip`,
    /// the 180°-rotated filters with K and C swapped, u[ξ][c][k], whose convolution is the input
    /// gradient.
    void (*winograd_filter)(size_t m, size_t k0, size_t k1, size_t k, size_t c, const float *g, int flip, float *u);
    /// The filter gradient from the gradient of the transformed filters: dg[k][c] = Gᵀ·du[·][k][c]·G
    /// for the filters k0 ≤ k < k1, du [α²][K][C], dg [K][C][3][3]. (The convolution is linear in
    /// U = G·g·Gᵀ.)
    void (*winograd_filter_grad)(size_t m, size_t k0, size_t k1, size_t k, size_t c, const float *du, float *dg);
    /// v[(ξ·T + t)·c + ch] = (Bᵀ·d·B)[ξ] for the α×α input patch d of every tile t < T = n·TH·TW
    /// of the images x [n][c][h][w] (zero outside them); m is the tile size, 2 to 6. The tiles
    /// cover the output rows < oh ≤ h and columns < ow ≤ w (TH = ⌈oh/m⌉, TW = ⌈ow/m⌉): all of it,
    /// or, before a 2×2 pool, the even part that the pool's windows take.
    void (*winograd_input)(size_t m, const float *x, size_t n, size_t c, size_t h, size_t w, size_t oh,
                                    size_t ow, float *scratch, float *v);
    /// y [n][k][h][w] from M[(ξ·T + t)·k + ch], the tiles of all of h×w (oh = h, ow = w): each
    /// tile's Aᵀ·M·A, then per channel y = scale·y + shift (scale NULL: 1; shift NULL: 0) and, if
    /// relu, max(y, 0).
    void (*winograd_output)(size_t m, const float *mm, size_t n, size_t k, size_t h, size_t w,
                                     const float *_Nullable scale, const float *_Nullable shift, int relu,
                                     float *scratch, float *y);
    /// The same output plus shift (a bias; NULL: 0), pooled 2×2 with stride 2 as maxpool2x2 pools:
    /// y [n][k][h/2][w/2] and, unless argmax is NULL, the index of each maximum in the full-size
    /// [n][k][h][w] output plus index_base. The full-size output is never written; M holds the
    /// tiles of the rows and columns that the windows take (winograd_input's oh = h − h mod 2 and
    /// ow = w − w mod 2).
    void (*winograd_output_pool)(size_t m, const float *mm, size_t n, size_t k, size_t h, size_t w,
                                          const float *_Nullable shift, float *scratch, float *y,
                                          int32_t *_Nullable argmax, int32_t index_base);
    /// w[(ξ·T + t)·k + ch] = (A·e·Aᵀ)[ξ] for the m×m block e of output gradients dy [n][k][h][w]
    /// of every tile t of the rows < oh and columns < ow (zero past them): with v of the input (the
    /// same oh and ow), du[ξ] = Σ_t w[ξ][t]ᵀ·v[ξ][t].
    void (*winograd_output_grad)(size_t m, const float *dy, size_t n, size_t k, size_t h, size_t w, size_t oh,
                                          size_t ow, float *scratch, float *out);

    /// Direct 3×3: y[k][h][w] = Σ_{c,i,j} g[k][c][i][j]·x[c][h + i − 1][w + j − 1] (zero outside
    /// x), then per filter y = scale·y + shift (scale NULL: 1; shift NULL: 0) and, if relu, max(y, 0).
    void (*conv3x3_forward)(const float *x, size_t c, size_t h, size_t w, const float *g,
                                     size_t k, const float *_Nullable scale, const float *_Nullable shift, int relu,
                                     float *scratch, float *y);
    /// dg[k][c][i][j] += Σ_{h,w} dy[k][h][w]·x[c][h + i − 1][w + j − 1]: one image's filter gradient.
    void (*conv3x3_filter_grad)(const float *x, size_t c, size_t h, size_t w,
                                         const float *dy, size_t k, float *scratch,
                                         float *dg);

    /// 2×2 max pooling, stride 2, of `planes` planes of h×w floats: y [planes][h/2][w/2] holds each
    /// window's maximum and, unless argmax is NULL (inference), argmax its index counted from x,
    /// plus index_base; on ties the first of top-left, top-right, bottom-left, bottom-right.
    void (*maxpool2x2)(const float *x, size_t planes, size_t h, size_t w, int32_t index_base,
                                float *y, int32_t *_Nullable argmax);

    /// Adds the sums of d = x − shift[c] and of d² over each channel c to sum[c] and squares[c]:
    /// the one-pass statistics, shifted by a value near the mean so that the variance keeps its digits.
    void (*bn_sums)(const float *x, size_t channels, size_t s, const float *shift,
                             double *sum, double *squares);
    /// y = act(γ·x̂ + β), act one of le4_activation; y laid out like x. (Inference: mean 0,
    /// inv_std the scale, γ 1, β the shift.)
    void (*bn_normalize)(const float *x, size_t channels, size_t s, const float *mean,
                                  const float *inv_std, const float *gamma,
                                  const float *beta, int act, float *y);
    /// Adds Σ dz and Σ dz·x̂ over each channel to sum_dz and sum_dz_xhat, where dz = dy·act′(γ·x̂ + β)
    /// is the gradient before the activation: summed over the batch, the gradients of β and γ.
    /// With GELU, dz is also written to scratch (channels·s floats, laid out like x; it may be dx's
    /// image, which bn_input_grad then overwrites); without, scratch may be NULL.
    void (*bn_gradient_sums)(const float *dy, const float *x, size_t channels, size_t s,
                                      const float *mean, const float *inv_std,
                                      const float *gamma, const float *beta, int act,
                                      float *_Nullable scratch, double *sum_dz, double *sum_dz_xhat);
    /// dx = a·dz + b·x̂ + c per channel (dz as above; act identity or ReLU: after a GELU, dy is the
    /// dz that bn_gradient_sums wrote, with identity, and dx may be the same memory), laid out like
    /// x: the input gradient, formulas 32–37 folded.
    void (*bn_input_grad)(const float *dy, const float *x, size_t channels, size_t s,
                                   const float *mean, const float *inv_std,
                                   const float *gamma, const float *beta, int act,
                                   const float *a, const float *b, const float *c,
                                   float *dx);

    /// GELU over n floats (gelu.c): y = x·Φ(x), or with dy, the input gradient y = dy·(Φ(x) + x·φ(x)).
    void (*gelu)(const float *x, const float *_Nullable dy, size_t n, float *y);
} le4_kernels;

/// The table of `isa`, which must be supported (see le4_best_isa).
const le4_kernels *le4_kernels_for(le4_isa isa);

#pragma clang assume_nonnull end

#endif
