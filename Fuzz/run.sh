#!/usr/bin/env bash
# Fuzzes the decoders of untrusted bytes with libFuzzer and AddressSanitizer, one target at a time.
#   Fuzz/run.sh [target|all] [runs|SECONDSs]     e.g. Fuzz/run.sh npz 1000000, Fuzz/run.sh pickle 300s
# Targets: pickle, idx, npy, npz, gzip (see Fuzz/DecodersFuzz.swift); default: all, 1,000,000 inputs each.
# Each target keeps its own corpus in .build-fuzz/corpus/<target>, seeded with the small committed
# fixtures and the tiny numpy-written inputs of Fuzz/make_seeds.py; crashes land in Fuzz/findings/
# (neither is committed). Inputs are at most 4 KiB; an allocation above 64 MiB or an input taking
# over 2 s counts as a finding: no decoder may allocate for a size it was told rather than shown,
# nor spend seconds on a few KiB.
# 2026-11-26, AMD EPYC (2 cores shared with other jobs), 1,000,000 inputs each: pickle 39 s
# (25,641/s), idx 6 s (166,666/s), npy 29 s (34,482/s), npz 12 s (83,333/s), gzip 10 s (100,000/s).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
budget="${2:-1000000}"
case "$budget" in
    *s) limit=(-max_total_time="${budget%s}") ;;
    *) limit=(-runs="$budget") ;;
esac
targets=(pickle idx npy npz gzip)
[ "$which" = all ] || targets=("$which")

build=.build-fuzz
binary="$build/fuzz-decoders"
mkdir -p "$build" Fuzz/findings
if [ ! -x "$binary" ] || [ -n "$(find Sources/Data Fuzz -name '*.swift' -newer "$binary")" ]; then
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name LE4DataFuzz \
        -I Sources/CZlib -I Sources/CPNG $(pkg-config --cflags-only-I libpng | sed 's/-I/-Xcc -I/g') \
        Sources/Data/*.swift Fuzz/DecodersFuzz.swift -lz -lpng16 -o "$binary"
fi

corpus="$build/corpus"
mkdir -p "$corpus"/{pickle,idx,npy,npz,gzip}
find Tests/Fixtures/pickle -size -4k -type f -exec cp {} "$corpus/pickle/" \;
cp Tests/Fixtures/idx/*-ubyte "$corpus/idx/"
cp Tests/Fixtures/idx/*.gz "$corpus/gzip/"
python3 Fuzz/make_seeds.py "$corpus"

for t in "${targets[@]}"; do
    echo "== $t"
    LE4NN_FUZZ_TARGET="$t" "$binary" "${limit[@]}" -max_len=4096 -malloc_limit_mb=64 -timeout=2 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="Fuzz/findings/$t-" "$corpus/$t"
done
