#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: one libFuzzer binary and one seed-corpus zip per target in $OUT.
#
# The service runs this with $SRC (the checkout is $SRC/crosscheck) and $OUT set, and $SANITIZER
# (address by default; `none` builds without a sanitizer on stable Rust, as the local test
# scripts/test-clusterfuzzlite.sh does). Only the targets that must never crash are built: the
# `_ok` targets check crosscheck's correct resources (a crash is a false alarm, a crosscheck bug)
# and `decode` checks the scenario decoder. The targets on the built-in buggy resources crash by
# design and would fail every pull request.
targets="counter_ok log_ok map_ok bank_ok decode"

cd "$SRC/crosscheck"
sanitizer="${SANITIZER:-address}"
case "$sanitizer" in
    address | none) flags=(-s "$sanitizer") ;;
    # coverage, memory, undefined: the image's cargo wrapper adds the flags; cargo-fuzz none.
    *) flags=(-s none) ;;
esac
# Coverage on the code under test only, and each target's build folder, as ./fuzz.sh builds them.
source fuzz/env.sh
for target in $targets; do
    fuzz_env "$target"
    cargo fuzz build -O --fuzz-dir fuzz --target-dir "$target_dir" "${flags[@]}" "$target"
    cp "$target_dir/x86_64-unknown-linux-gnu/release/$target" "$OUT/$target"
done

for target in $targets; do
    # The committed seeds, zipped flat as the service expects (<target>_seed_corpus.zip).
    rm -f "$OUT/${target}_seed_corpus.zip"
    if [ -d "corpus/$target" ] && [ -n "$(ls -A "corpus/$target")" ]; then
        (cd "corpus/$target" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
    fi
    # libFuzzer options for the service: the same caps as ./fuzz.sh.
    printf '[libfuzzer]\nlen_control = 0\nmax_len = 256\n' >"$OUT/$target.options"
done
