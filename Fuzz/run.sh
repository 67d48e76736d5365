#!/usr/bin/env bash
# Fuzzes the pickle, IDX, .npy, .npz and gzip decoders with libFuzzer and AddressSanitizer.
#   Fuzz/run.sh [seconds]     (default 180); run from anywhere.
# The corpus starts from the committed fixtures; findings land in Fuzz/findings/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-180}"
build=.build-fuzz
mkdir -p "$build" Fuzz/findings "$build/corpus"
cp Tests/Fixtures/pickle/* Tests/Fixtures/idx/* "$build/corpus/"
python3 -c "import numpy as np; np.savez('$build/corpus/seed.npz', a=np.arange(6, dtype=np.float32)); np.savez_compressed('$build/corpus/seed-deflate.npz', a=np.arange(6, dtype=np.float32))" 2>/dev/null || true
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name LE4DataFuzz \
    -I Sources/CZlib -I Sources/CPNG $(pkg-config --cflags-only-I libpng | sed 's/-I/-Xcc -I/g') \
    Sources/Data/*.swift Fuzz/DecodersFuzz.swift -lz -lpng16 -o "$build/fuzz-decoders"
"$build/fuzz-decoders" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
    -artifact_prefix=Fuzz/findings/ "$build/corpus"
