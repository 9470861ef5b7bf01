#!/usr/bin/env bash
# Issue #3's conversion target, measured: import + export of a ~100M-parameter ONNX model vs copying the file,
# and the peak heap of the conversion. See docs/onnx.md, "Memory and speed".
#
#   tools/onnx-100m.sh [ROUNDS]      default 5 rounds
#
# 1. Once, /usr/bin/python3 (Debian python3-torch 1.13) exports a 2-layer LSTM character model, hidden 2900, 102M
#    parameters, dense float32 initializers (408 MB), into .cache/onnx-100m/ (git-ignored; delete it to regenerate).
# 2. In one JVM, alternating, ROUNDS rounds of: Files.copy + fsync, cp, cp + sync, import + export --sparse none,
#    import + export --sparse scatter; medians and ratios (OnnxConversionBenchmark in modules/onnx's tests).
# 3. The import + export again in child JVMs with -Xmx = 1.5 x the file size and the default collector (G1), then
#    with ParallelGC: whether it fits, and the heap pools' peak usage.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-5}"
cache="$repo/.cache/onnx-100m"
model="$cache/lstm-100m.onnx"
cd "$repo"

if [[ ! -s "$model" ]]; then
    mkdir -p "$cache"
    echo "onnx-100m: exporting the 100M-parameter model with PyTorch (once, needs about 3 GB of memory) ..." >&2
    # Lacuna's architecture (nn.Embedding -> 2-layer nn.LSTM -> nn.Linear over the vocabulary) with random weights
    # from a fixed seed, exported as users do: torch.onnx.export, constant folding on, dense float32 initializers.
    OMP_NUM_THREADS=1 /usr/bin/python3 - "$model" <<'PY'
import os
import sys

import torch
import torch.nn as nn

VOCAB, EMBED, HIDDEN, LAYERS = 96, 64, 2900, 2


class CharLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.rnn = nn.LSTM(EMBED, HIDDEN, num_layers=LAYERS)
        self.head = nn.Linear(HIDDEN, VOCAB)

    def forward(self, tokens):
        y, (h, c) = self.rnn(self.embedding(tokens))
        return self.head(y), h, c


out = sys.argv[1]
torch.manual_seed(100)
model = CharLstm().eval()
partial = out + ".partial"
with torch.no_grad():
    torch.onnx.export(model, (torch.zeros((5, 1), dtype=torch.long),), partial, opset_version=14,
                      do_constant_folding=True, input_names=["tokens"], output_names=["logits", "h_n", "c_n"],
                      dynamic_axes={"tokens": {0: "time", 1: "batch"}, "logits": {0: "time", 1: "batch"},
                                    "h_n": {1: "batch"}, "c_n": {1: "batch"}})
os.replace(partial, out)
params = sum(p.numel() for p in model.parameters())
print(f"{out}: {params} parameters, {os.path.getsize(out)} bytes", file=sys.stderr)
PY
fi

echo "onnx-100m: compiling ..." >&2
./mvnw -B -o -q test-compile org.apache.maven.plugins:maven-dependency-plugin:3.7.0:build-classpath \
    -pl modules/onnx -am -Dmdep.outputFile=target/classpath.txt >&2
cp="$repo/modules/onnx/target/test-classes:$repo/modules/onnx/target/classes"
for m in core io; do cp="$cp:$repo/modules/$m/target/classes"; done
cp="$cp:$(cat modules/onnx/target/classpath.txt)"
main=dev.lacuna.onnx.OnnxConversionBenchmark

size=$(stat -c %s "$model")
xmx=$(( size * 3 / 2 / 1048576 ))m
echo "## timing (one JVM, default collector, -Xmx2g)"
java -Xmx2g -cp "$cp" "$main" measure "$model" "$rounds"

echo
echo "## heap: child JVMs with -Xmx$xmx (1.5 x $size bytes)"
for gc in "" "-XX:+UseParallelGC"; do
    for mode in none scatter; do
        label="${gc:-G1 (default)} $mode"
        if result=$(java "-Xmx$xmx" $gc -cp "$cp" "$main" once "$model" "$cache/heap-check.onnx" "$mode" 2>&1); then
            echo "$label: ok, $(tail -n 1 <<< "$result")"
        else
            echo "$label: FAILED: $(grep -m 1 -E 'Error|Exception' <<< "$result" || tail -n 1 <<< "$result")"
        fi
        rm -f "$cache/heap-check.onnx"
    done
done
