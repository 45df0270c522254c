#!/usr/bin/env bash
# cargo-fuzz with crosscheck's corpus layout and the options that matter (cargo-fuzz reads no
# options file and has no setting for the corpus path). See README.md, "Fuzzing".
#
#   ./fuzz.sh run <target> [libFuzzer options]   fuzz; new inputs go to fuzz/corpus/<target> (scratch)
#   ./fuzz.sh repro <target> <crash-file>...     crosscheck's report and replay token for a crash
#   ./fuzz.sh tmin <target> <crash-file>         minimise a crash (cargo fuzz tmin)
#   ./fuzz.sh cmin <target>                      merge the scratch finds into corpus/<target>, minimised
#   ./fuzz.sh build                              build every target
#   ./fuzz.sh list                               the targets
#
# SANITIZER=address (or another cargo-fuzz sanitizer) builds with it on `cargo +nightly`; the
# default, none, works on stable and runs about 3.5x faster. Coverage goes on the code under test
# only (fuzz/rustc-sancov): the built-in resources' crate, and FUZZ_INSTRUMENT=<crate>[,<crate>].
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
cd "$root"

sanitizer="${SANITIZER:-none}"
cargo=(cargo)
if [ "$sanitizer" != none ]; then
    cargo=(cargo +nightly)
fi
# libFuzzer defaults that matter for crosscheck's inputs: a fixed length cap instead of growing it
# slowly (len_control=0 cuts the executions to a crash 5-100x); later options override these.
defaults=(-len_control=0 -max_len=256)
# Coverage on the code under test only, and each target's build folder (fuzz/env.sh).
# shellcheck source=fuzz/env.sh
source "$root/fuzz/env.sh"

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need_target() {
    [ -n "${1:-}" ] || usage
    if [ ! -f "fuzz/fuzz_targets/$1.rs" ]; then
        echo "fuzz.sh: no target '$1'; the targets are: $(targets | tr '\n' ' ')" >&2
        exit 2
    fi
}

targets() {
    ls fuzz/fuzz_targets | sed 's/\.rs$//'
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    run)
        target="${1:-}"
        need_target "$target"
        shift
        # libFuzzer writes new inputs into the FIRST folder: the git-ignored scratch one.
        # FUZZ_SCRATCH=<dir> and FUZZ_SEEDS=<dir> replace the scratch and the committed folder
        # (for measurements: a fresh scratch, or no seeds).
        scratch="${FUZZ_SCRATCH:-$root/fuzz/corpus/$target}"
        seeds="${FUZZ_SEEDS:-$root/corpus/$target}"
        mkdir -p "$scratch" "$seeds"
        fuzz_env "$target"
        exec "${cargo[@]}" fuzz run -s "$sanitizer" --fuzz-dir fuzz --target-dir "$target_dir" "$target" \
            "$scratch" "$seeds" -- "${defaults[@]}" "$@"
        ;;
    repro)
        target="${1:-}"
        need_target "$target"
        shift
        [ $# -gt 0 ] || usage
        exec cargo run --quiet --release --example fuzz_repro -- "$target" "$@"
        ;;
    tmin)
        target="${1:-}"
        need_target "$target"
        [ $# -eq 2 ] || usage
        # No -max_len here: libFuzzer's crash minimisation asserts when it is given.
        fuzz_env "$target"
        exec "${cargo[@]}" fuzz tmin -s "$sanitizer" --fuzz-dir fuzz --target-dir "$target_dir" "$target" "$2"
        ;;
    cmin)
        target="${1:-}"
        need_target "$target"
        mkdir -p "fuzz/corpus/$target" "corpus/$target"
        fuzz_env "$target"
        # -merge=1 adds to the first folder the inputs of the others that bring new coverage;
        # cmin then keeps the smallest set of the committed corpus that covers as much.
        "${cargo[@]}" fuzz run -s "$sanitizer" --fuzz-dir fuzz --target-dir "$target_dir" "$target" \
            "$root/corpus/$target" "$root/fuzz/corpus/$target" -- "${defaults[@]}" -merge=1
        exec "${cargo[@]}" fuzz cmin -s "$sanitizer" --fuzz-dir fuzz --target-dir "$target_dir" "$target" \
            "$root/corpus/$target" -- "${defaults[@]}"
        ;;
    build)
        # Every target but decode in one folder (one build of the shared crates), decode in its own.
        for target in $(targets); do
            [ "$target" = decode ] && continue
            fuzz_env "$target"
            "${cargo[@]}" fuzz build -s "$sanitizer" --fuzz-dir fuzz --target-dir "$target_dir" "$target"
        done
        fuzz_env decode
        exec "${cargo[@]}" fuzz build -s "$sanitizer" --fuzz-dir fuzz --target-dir "$target_dir" decode
        ;;
    list)
        targets
        ;;
    *)
        usage
        ;;
esac
