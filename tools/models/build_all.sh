#!/usr/bin/env bash
# Rebuild everything in models/ and tests/GenerativePaths.Tests/Fixtures/onnx/, then rewrite models/SHA256SUMS.
#
#   tools/models/build_all.sh [CASES_DIR]
#
# With CASES_DIR, each script also writes ONNX Runtime check cases (inputs and the outputs Python
# computed) there, one JSON file a graph, for the ONNX Runtime checker described in tools/models/README.md.
# Runs on one CPU thread; the four trainings take some 30-60 minutes together (see models/README.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${PYTHON:-/usr/bin/python3}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
cases=()
if [[ $# -ge 1 ]]; then cases=(--cases "$(realpath -m "$1")"); fi

"$py" "$here/export_data.py"
"$py" "$here/build_gmm.py" "${cases[@]}"
"$py" "$here/train_digits_judge.py" "${cases[@]}"
"$py" "$here/train_digits_flow.py" "${cases[@]}"
"$py" "$here/train_digits_ddpm.py" "${cases[@]}"
"$py" "$here/train_charlm.py" "${cases[@]}"

cd "$root/models"
find . -maxdepth 1 -type f ! -name SHA256SUMS ! -name README.md -printf '%f\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS
cat SHA256SUMS
