# Sourced by ../fuzz.sh and ../.clusterfuzzlite/build.sh: `fuzz_env <target>` exports what a
# cargo-fuzz build of <target> needs and sets `target_dir`, the folder its binary is built in.
#
# Coverage goes on the code under test only (fuzz/rustc-sancov says why and how): the crate of the
# built-in resources' source (resources/lib.rs) for every target, plus the user's FUZZ_INSTRUMENT.
# `decode` fuzzes crosscheck's decoder, so crosscheck and the target itself (where the decoder's
# generic code is instantiated) are instrumented for it, in a target folder of its own: cargo
# cannot hold one crate built two ways in one folder. cargo does not see what a wrapper changes,
# so the instrumented set is also written into RUSTFLAGS, where a change of it rebuilds.
fuzz_user_instrument="${FUZZ_INSTRUMENT:-}"
fuzz_user_rustflags="${RUSTFLAGS:-}"
fuzz_user_wrapper="${RUSTC_WRAPPER:-}"

fuzz_env() {
    local fuzz_dir extra=crosscheck_fuzz_resources
    fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    target_dir="$fuzz_dir/target"
    if [ "$1" = decode ]; then
        extra="$extra crosscheck decode"
        target_dir="$fuzz_dir/target/whole"
    fi
    local set
    # shellcheck disable=SC2086 # the list is split on purpose
    set="$(printf '%s\n' ${fuzz_user_instrument//,/ } $extra | sed '/^$/d' | sort -u | paste -sd, -)"
    if [ -n "$fuzz_user_wrapper" ] && [ "$fuzz_user_wrapper" != "$fuzz_dir/rustc-sancov" ]; then
        export FUZZ_RUSTC_WRAPPER="$fuzz_user_wrapper"
    fi
    export RUSTC_WRAPPER="$fuzz_dir/rustc-sancov"
    export FUZZ_INSTRUMENT="$set"
    export RUSTFLAGS="$fuzz_user_rustflags --cfg=crosscheck_fuzz_instrumented=\"$set\""
}
