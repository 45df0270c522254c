#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh the way ClusterFuzzLite does (with $SRC and $OUT set, the checkout
# at $SRC/crosscheck), then checks that $OUT holds one binary and one seed-corpus zip per target and
# that each binary runs its seeds without a crash. SANITIZER defaults to none (stable Rust); the
# service builds with address on nightly. Needs cargo-fuzz and zip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SRC="$work/src" OUT="$work/out" SANITIZER="${SANITIZER:-none}"
mkdir -p "$SRC" "$OUT"
# The service copies the checkout; a link keeps the warm fuzz/target of this one.
ln -s "$root" "$SRC/crosscheck"
cp "$root/.clusterfuzzlite/build.sh" "$SRC/build.sh"
(cd "$SRC/crosscheck" && bash -eu "$SRC/build.sh")

targets=$(sed -n 's/^targets="\(.*\)"$/\1/p' "$root/.clusterfuzzlite/build.sh")
for target in $targets; do
    [ -x "$OUT/$target" ] || { echo "missing binary \$OUT/$target"; exit 1; }
    zip="$OUT/${target}_seed_corpus.zip"
    [ -s "$zip" ] || { echo "missing seed corpus $zip"; exit 1; }
    seeds="$work/seeds-$target"
    mkdir -p "$seeds"
    unzip -q "$zip" -d "$seeds"
    count=$(ls "$seeds" | wc -l)
    # Every seed once, as the service does before fuzzing; a crash exits non-zero.
    "$OUT/$target" -runs=0 -len_control=0 -max_len=256 "$seeds" >"$work/$target.log" 2>&1 ||
        { tail -n 40 "$work/$target.log"; echo "$target crashed on its seeds"; exit 1; }
    echo "$target: binary, $count seeds, seeds pass"
done
extra=$(ls "$OUT" | grep -v -E "^($(echo $targets | tr ' ' '|'))(_seed_corpus\.zip|\.options)?$" || true)
[ -z "$extra" ] || { echo "unexpected files in \$OUT: $extra"; exit 1; }
echo "ClusterFuzzLite build OK: $(echo $targets | wc -w) targets"
