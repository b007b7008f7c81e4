#!/usr/bin/env bash
# Fuzzes the codec with libFuzzer for a bounded time: bash Scripts/fuzz.sh [SECONDS] (default 60).
#
# Builds Fuzz/ (the CodecFuzzer target) with -sanitize=fuzzer,address into .build-fuzz/, then runs it on a
# copy of the committed seed corpus Fuzz/Corpus/ (so new inputs the fuzzer finds never touch the repo).
# Exits non-zero when the fuzzer finds a crash; the input that crashed is saved in .build-fuzz/artifacts/
# and can be replayed with: SWIFT_BACKTRACE=enable=no .build-fuzz/debug/CodecFuzzer .build-fuzz/artifacts/crash-...
# Any further arguments go to libFuzzer (e.g. -jobs=2, -max_len=1000).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
scratch=.build-fuzz

echo "== building the codec fuzzer"
# ld.gold warns once per ASan helper symbol ("Cannot export local symbol"); those lines are noise.
swift build --package-path Fuzz --scratch-path "$scratch" --product CodecFuzzer \
    -Xswiftc -sanitize=fuzzer,address 2>&1 | { grep -v 'Cannot export local symbol' || true; }
fuzzer="$(swift build --package-path Fuzz --scratch-path "$scratch" --show-bin-path)/CodecFuzzer"

corpus="$scratch/corpus"
artifacts="$scratch/artifacts"
rm -rf "$corpus" "$artifacts"
mkdir -p "$corpus" "$artifacts"
cp Fuzz/Corpus/* "$corpus/"

echo "== fuzzing the codec for ${seconds}s (corpus $corpus, crashes in $artifacts/)"
# Swift's own backtracer would take over the trap and wait on it; let libFuzzer report and save the input.
status=0
SWIFT_BACKTRACE=enable=no "$fuzzer" "$corpus" -max_total_time="$seconds" -dict=Fuzz/codec.dict -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "== the fuzzer failed (exit $status); inputs that crashed:" >&2
    ls -l "$artifacts" >&2
    exit "$status"
fi
echo "== fuzzing passed"
