// Run-time choice of instruction set, and the table of each set's kernels, all from LE4_ISA_LIST.
// One binary runs on any x86-64 CPU: the SIMD kernels are compiled with per-function target
// attributes and only called where the CPU has them.
#include "kernels.h"
#include "kernel_variants.h"

le4_isa le4_best_isa(void) {
    __builtin_cpu_init();
    le4_isa best = LE4_ISA_PORTABLE;
#define LE4_IF_SUPPORTED(name, ENUM, detect, target, helpers) if (detect) best = ENUM;
    LE4_ISA_LIST(LE4_IF_SUPPORTED)
    return best;
}

const char *le4_isa_name(le4_isa isa) {
#define LE4_NAME(name, ENUM, detect, target, helpers) [ENUM] = #name,
    static const char *const names[] = {LE4_ISA_LIST(LE4_NAME)};
    return (size_t)isa < LE4_ISA_COUNT ? names[isa] : "unknown";
}

// One row per instruction set: its variant of every op, by field name.
#define LE4_TABLE_ENTRY(op, set) .op = le4_##op##_##set,
#define LE4_KERNELS_ROW(name, ENUM, detect, target, helpers) [ENUM] = {.isa = ENUM, LE4_KERNEL_OPS(LE4_TABLE_ENTRY, name)},

static const le4_kernels tables[] = {LE4_ISA_LIST(LE4_KERNELS_ROW)};

const le4_kernels *le4_kernels_for(le4_isa isa) {
    return &tables[(size_t)isa < LE4_ISA_COUNT ? isa : LE4_ISA_PORTABLE];
}
