#!/usr/bin/env bash
# Rewrites PublicAPI.Unshipped.txt of a library project (default: both libraries) to list its whole current public surface,
# from the RS0016 diagnostics of PublicApiAnalyzers. Use it after a deliberate public change, then review the diff:
#   bash tools/update-public-api.sh [src/GenerativePaths ...]
# PublicAPI.Shipped.txt stays as it is (nothing has been released yet; it is "#nullable enable" only).
set -euo pipefail
cd "$(dirname "$0")/.."
projects=("$@")
[ ${#projects[@]} -gt 0 ] || projects=(src/GenerativePaths src/GenerativePaths.OnnxRuntime)
for dir in "${projects[@]}"; do
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  symbols=$(dotnet build "$dir" -c Release -p:TreatWarningsAsErrors=false --no-incremental 2>&1 \
    | grep -oP "warning RS0016: Symbol '\K.*(?=' is not part of the declared public API)" | sort -u || true)
  { printf '#nullable enable\n'; [ -n "$symbols" ] && printf '%s\n' "$symbols"; } > "$dir/PublicAPI.Unshipped.txt"
  echo "$dir: $(($(wc -l < "$dir/PublicAPI.Unshipped.txt") - 1)) entries"
done
