#!/usr/bin/env bash
# Measures the fuzzing figures of issue #6 with ./fuzz.sh, a fresh scratch corpus per run:
#   - each buggy target (counter, log, map, bank) must crash within 60 s, on 5 different -seed values,
#     both from the committed seeds (what ./fuzz.sh run does) and from no corpus at all;
#   - each correct target (counter_ok, log_ok, map_ok, bank_ok, decode) must run FIGURES_SECONDS
#     (default 300) without a crash;
#   - executions per second, from libFuzzer's final stats (reference: ~20,000/s for shuttle on a
#     racy counter without a sanitizer, on a 2-core machine).
# In full it takes about 30-40 minutes; FIGURES_SECONDS=60 makes the correct targets' part 5 minutes.
# FIGURES_SEEDS="1 2 3 4 5" and FIGURES_CRASH_SECONDS=60 set the buggy part. Exit status 1 if any
# figure is missed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

seconds="${FIGURES_SECONDS:-300}"
crash_seconds="${FIGURES_CRASH_SECONDS:-60}"
seeds="${FIGURES_SEEDS:-1 2 3 4 5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

./fuzz.sh build >/dev/null 2>"$work/build.log" || { cat "$work/build.log"; exit 1; }

stat() { # stat <log> <name>: one of libFuzzer's final stats
    sed -n "s/^stat::$2: *//p" "$1" | tail -1
}

missed=0
mkdir -p "$work/no-seeds"
printf '%-10s %-9s %5s %-8s %14s %10s %8s\n' target corpus seed result "time to crash" executions exec/s
for target in counter log map bank; do
    for corpus in seeds none; do
    for seed in $seeds; do
        scratch="$work/$target-$corpus-$seed"
        mkdir -p "$scratch"
        committed="$root/corpus/$target"
        [ "$corpus" = none ] && committed="$work/no-seeds"
        start=$(date +%s.%N)
        FUZZ_SCRATCH="$scratch" FUZZ_SEEDS="$committed" ./fuzz.sh run "$target" -seed="$seed" \
            -max_total_time="$crash_seconds" -print_final_stats=1 -artifact_prefix="$scratch/" >"$work/log" 2>&1
        end=$(date +%s.%N)
        if grep -q "^crosscheck found a bug" "$work/log" && ls "$scratch"/crash-* >/dev/null 2>&1; then
            result=crashed
            took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f s", b - a }')
        else
            result=MISSED
            took="-"
            missed=1
        fi
        printf '%-10s %-9s %5s %-8s %14s %10s %8s\n' "$target" "$corpus" "$seed" "$result" "$took" \
            "$(stat "$work/log" number_of_executed_units)" "$(stat "$work/log" average_exec_per_sec)"
    done
    done
done

echo
printf '%-10s %8s %-8s %12s %8s\n' target seconds result executions exec/s
for target in counter_ok log_ok map_ok bank_ok decode; do
    scratch="$work/$target"
    mkdir -p "$scratch"
    FUZZ_SCRATCH="$scratch" ./fuzz.sh run "$target" -seed=1 -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$scratch/" >"$work/log" 2>&1
    status=$?
    if [ "$status" -eq 0 ] && ! ls "$scratch"/crash-* >/dev/null 2>&1; then
        result=clean
    else
        result=CRASHED
        missed=1
        grep -A30 "^crosscheck" "$work/log" | head -40
    fi
    printf '%-10s %8s %-8s %12s %8s\n' "$target" "$seconds" "$result" \
        "$(stat "$work/log" number_of_executed_units)" "$(stat "$work/log" average_exec_per_sec)"
done
exit "$missed"
