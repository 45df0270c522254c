#!/usr/bin/env bash
# Executions per second of the correct fuzz targets, this checkout against a baseline revision,
# measured in one run: the baseline's targets are built from a temporary git worktree with that
# revision's own ./fuzz.sh, then the two binaries of each target are alternated, SPEED_SECONDS
# (default 20) each from this checkout's committed seeds and a fresh scratch corpus, SPEED_ROUNDS
# (default 3) rounds. Prints every run and, per target, the median of each side and their ratio.
#
#   scripts/fuzz-speed.sh [<baseline revision>]
#
# The default baseline, 5412df0, is main before the fuzz runner was kept across inputs: the
# figures issue 14 asked to multiply by 4. SPEED_TARGETS="counter_ok map_ok bank_ok" picks targets.
# About 10 minutes with the defaults (a build of each side, then 18 runs of 20 s).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

baseline="${1:-5412df0}"
seconds="${SPEED_SECONDS:-20}"
rounds="${SPEED_ROUNDS:-3}"
targets="${SPEED_TARGETS:-counter_ok map_ok bank_ok}"
work="$(mktemp -d)"
tree="$work/baseline"
cleanup() {
    git worktree remove --force "$tree" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

git worktree add --detach "$tree" "$baseline" >/dev/null 2>&1 ||
    { echo "fuzz-speed.sh: cannot check out '$baseline' (a revision of this repository?)" >&2; exit 2; }
echo "building the baseline ($(git -C "$tree" log --oneline -1 | cut -c1-72)) and this checkout"
(cd "$tree" && ./fuzz.sh build) >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; exit 1; }
./fuzz.sh build >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; exit 1; }

binary() { # binary <tree> <target>: where that tree's fuzz.sh put the target (decode: whole/, if any)
    local dir="$1/fuzz/target"
    [ "$2" = decode ] && [ -d "$dir/whole" ] && dir="$dir/whole"
    [ -x "$dir/x86_64-unknown-linux-gnu/release/$2" ] || { echo "fuzz-speed.sh: no binary for $2 in $dir" >&2; exit 1; }
    echo "$dir/x86_64-unknown-linux-gnu/release/$2"
}

rate() { # rate <binary> <target>: exec/s of one run
    local scratch="$work/scratch"
    rm -rf "$scratch"
    mkdir -p "$scratch"
    "$1" "$scratch" "corpus/$2" -len_control=0 -max_len=256 -seed=1 -max_total_time="$seconds" \
        -print_final_stats=1 -artifact_prefix="$scratch/" 2>&1 | sed -n 's/^stat::average_exec_per_sec: *//p'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

printf '%-6s %-11s %10s %10s\n' round target baseline current
for round in $(seq "$rounds"); do
    for target in $targets; do
        old=$(rate "$(binary "$tree" "$target")" "$target")
        new=$(rate "$(binary "$root" "$target")" "$target")
        printf '%-6s %-11s %10s %10s\n' "$round" "$target" "$old" "$new"
        echo "$target $old $new" >>"$work/rates"
    done
done
echo
printf '%-11s %16s %15s %6s\n' target "baseline median" "current median" ratio
for target in $targets; do
    old=$(awk -v t="$target" '$1 == t { print $2 }' "$work/rates" | median)
    new=$(awk -v t="$target" '$1 == t { print $3 }' "$work/rates" | median)
    printf '%-11s %16s %15s %6s\n' "$target" "$old" "$new" "$(awk -v a="$old" -v b="$new" 'BEGIN { printf "%.2f", b / a }')"
done
