#!/usr/bin/env bash
# The closing-note table of the ONNX issue, over every PyTorch-exported model in testdata/onnx: does it import, how
# close each of Lacuna's export variants runs to PyTorch's own file in ONNX Runtime, and how large a 90% one-shot
# prune is stored dense, as sparse_initializer and as scatter.
#
#   tools/onnx-table.sh [OUT]        # OUT defaults to .cache/onnx-table; prints a Markdown table
# PyTorch's files have fixed [7, 2] token inputs; cases with run-time state or length inputs (h0/c0, sequence_lens)
# or batch-first inputs are listed but not compared (n/a): Lacuna's exports take [time, batch] tokens only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.cache/onnx-table}
mkdir -p "$out"
"$root/lacuna" --version >/dev/null
cp "$root/modules/cli/target/lacuna.jar" "$out/lacuna.jar"
lacuna() { OMP_NUM_THREADS=1 java -Xmx2g -jar "$out/lacuna.jar" "$@"; }
diff_of() {   # model reference -> max abs diff over outputs
    lacuna verify "$1" --against "$2" --dim time=7 --dim batch=2 --json | /usr/bin/python3 -c 'import json,sys; print("%.1e" % json.load(sys.stdin)["max_abs_diff"])'
}
size() { stat -c %s "$1"; }

echo "| case | import | none vs PyTorch | initializer vs PyTorch | scatter vs PyTorch | original bytes | 90% none | 90% initializer | 90% scatter |"
echo "|---|---|---|---|---|---|---|---|---|"
for model in "$root"/testdata/onnx/*.onnx; do
    name=$(basename "$model" .onnx)
    work="$out/$name"; mkdir -p "$work"
    if ! lacuna convert "$model" "$work/imported.safetensors" >/dev/null 2>"$work/import.err"; then
        echo "| $name | FAILED: $(head -c 120 "$work/import.err") | | | | | | | |"; continue
    fi
    compare=yes
    case "$name" in *h0*|*seqlens*|*batchfirst*) compare=no ;; esac
    row="| $name | ok"
    for mode in none initializer scatter; do
        lacuna convert "$work/imported.safetensors" "$work/dense-$mode.onnx" --sparse "$mode" >/dev/null
        if [[ $compare == yes ]]; then row+=" | $(diff_of "$work/dense-$mode.onnx" "$model")"; else row+=" | n/a"; fi
    done
    # Any-model one-shot pruning of PyTorch's file (no data needed), then Lacuna's export of the pruned model.
    lacuna prune --model "$model" --method oneshot --target-sparsity 0.9 --out "$work/p90.onnx" >/dev/null
    row+=" | $(size "$model")"
    for mode in none initializer scatter; do
        lacuna convert "$work/p90.onnx" "$work/p90-$mode.onnx" --sparse "$mode" >/dev/null
        row+=" | $(size "$work/p90-$mode.onnx")"
    done
    echo "$row |"
done
