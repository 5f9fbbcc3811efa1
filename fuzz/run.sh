#!/usr/bin/env bash
# Runs every fuzz target for SECS seconds (default 600), FUZZ_JOBS at a time (default 2), each corpus
# seeded from testdata/ (and the shipped pricing tables, and the test budgets), with a
# hang limit of 1 s per input and a memory limit of 2 GB. Crashes land in
# fuzz/artifacts/TARGET/.
#
#   bash fuzz/run.sh [SECS] [TARGET...]
#
# Stable Rust only: `cargo fuzz` with `-s none` (no sanitizer, which would need
# nightly's -Z flags); libFuzzer's coverage comes from -C passes=sancov-module, which
# stable rustc accepts. cargo-fuzz itself: `cargo install cargo-fuzz --locked`.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode decode_as normalize received_body pricing_file budget_file)
seed() {
    local t=$1 dir=corpus/$1
    mkdir -p "$dir"
    case $t in
        pricing_file) find ../pricing ../testdata/pricing -type f -size -1024k -exec cp {} "$dir/" \; ;;
        # The budgets of README's examples (the tests write theirs on the fly).
        budget_file) awk -v dir="$dir" '/^```toml/ {n++; f=1; next} /^```/ {f=0}
                         f {print > (dir "/readme-" n ".toml")}' ../README.md ;;
        *) find ../testdata -type f -size -1024k ! -name '*.py' ! -name '*.md' ! -name '*.txt' \
               -exec sh -c 'cp "$1" "$2/$(echo "${1#../}" | tr / _)"' _ {} "$dir" \; ;;
    esac
}
cargo fuzz build -s none -O
run() {
    local t=$1
    seed "$t"
    mkdir -p "artifacts/$t"
    cargo fuzz run -s none -O "$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 -max_len=1048576 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"artifacts/$t.log" 2>&1 || true
    # A target that did not build or start has no statistics: that fails the run too.
    if ! grep -q 'stat::number_of_executed_units' "artifacts/$t.log"; then
        echo "$t: did not run, see fuzz/artifacts/$t.log" >&2
        touch "artifacts/$t/did-not-run"
    fi
    echo "$t: $(grep -E 'stat::number_of_executed_units|Done' "artifacts/$t.log" | tail -1)" \
         "crashes: $(find "artifacts/$t" -type f ! -name did-not-run | wc -l)"
}
i=0
for t in "${targets[@]}"; do
    run "$t" &
    i=$((i + 1))
    if [ $((i % ${FUZZ_JOBS:-2})) -eq 0 ]; then wait; fi
done
wait
# Anything libFuzzer left (crash-*, timeout-*, oom-*) fails the run.
found=$(find artifacts -mindepth 2 -type f | wc -l)
if [ "$found" -gt 0 ]; then
    find artifacts -mindepth 2 -type f
    echo "fuzz: $found input(s) crashed, hung or ran out of memory, or target(s) did not run" >&2
    exit 1
fi
