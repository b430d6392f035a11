#!/usr/bin/env bash
# Clean-build time of a small crate using grad against the same crate using candle-core:
# each built from an empty target directory (dependencies already downloaded), in the
# dev and the release profile, with all cores. Prints one line per build.
#
#   benches/build-time/measure.sh            # REPEAT=3 for the median of three
set -euo pipefail
cd "$(dirname "$0")"
repeat=${REPEAT:-1}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(rustc --version)"
for crate in grad-user candle-user; do
    (cd "$crate" && cargo fetch -q)
    for profile in dev release; do
        times=()
        for _ in $(seq "$repeat"); do
            target=$(mktemp -d)
            start=$(date +%s.%N)
            (cd "$crate" && CARGO_TARGET_DIR="$target" cargo build -q --profile "$profile")
            end=$(date +%s.%N)
            rm -rf "$target"
            times+=("$(echo "$end - $start" | bc)")
        done
        median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((repeat + 1) / 2))p")
        printf '%-12s %-8s %6.1f s   (runs: %s)\n' "$crate" "$profile" "$median" "${times[*]}"
    done
done
