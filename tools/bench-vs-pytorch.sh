#!/usr/bin/env bash
# Training speed of Lacuna's ND4J trainer against PyTorch on the CPU, measured side by side in one run: the same
# char-LM shape (2 layers, hidden 256, embedding 64, Moby-Dick's 83 symbols, batch 32, sequence 100, Adam, clip 5)
# and the same thread count. Runs alternate between the two frameworks so that load from elsewhere hits both alike;
# each run reports its median step time, and the table shows the median over REPS runs.
#
#   tools/bench-vs-pytorch.sh                 # CELLS="lstm gru rnn" THREADS="1" REPS=3 STEPS=25
#   BASELINE_JAR=old/lacuna.jar tools/bench-vs-pytorch.sh   # adds an older build's column, run in the same rotation
# Needs Debian's python3-torch and libopenblas0-pthread (platform-notes.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cells=${CELLS:-lstm gru rnn}
threads_list=${THREADS:-1}
reps=${REPS:-3}
steps=${STEPS:-25}
out=${OUT:-$root/.cache/bench-vs-pytorch}
baseline=${BASELINE_JAR:-}
corpus=$("$root/tools/fetch-corpus.sh")
mkdir -p "$out"
"$root/lacuna" --version >/dev/null
cp "$root/modules/cli/target/lacuna.jar" "$out/lacuna.jar"
if [[ -n "$baseline" ]]; then
    cp "$baseline" "$out/baseline.jar"
fi

lacuna_ms() {   # cell threads [jar] -> median ms per step of one run
    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE java -Xmx4g -jar "${3:-$out/lacuna.jar}" train --data "$corpus" \
        --cell "$1" --layers 2 --hidden 256 --embed 64 --steps "$steps" --seed 1 --threads "$2" \
        --out "$out/model.safetensors" --json 2>/dev/null \
        | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_per_step_median"])'
}
torch_ms() {
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$root/tools/pytorch/bench_train_step.py" --cell "$1" --hidden 256 \
        --layers 2 --embed 64 --vocab 83 --batch 32 --seq 100 --threads "$2" --steps "$steps" --warmup 3 2>/dev/null \
        | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ms_per_step_median"])'
}

if [[ -n "$baseline" ]]; then
    echo "| cell | threads | Lacuna ms/step | PyTorch ms/step | Lacuna speed vs PyTorch | baseline ms/step | baseline speed vs PyTorch |"
    echo "|---|---|---|---|---|---|---|"
else
    echo "| cell | threads | Lacuna ms/step | PyTorch ms/step | Lacuna speed vs PyTorch |"
    echo "|---|---|---|---|---|"
fi
for cell in $cells; do
    for t in $threads_list; do
        l=(); p=(); b=()
        for ((i = 0; i < reps; i++)); do
            l+=("$(lacuna_ms "$cell" "$t")")
            p+=("$(torch_ms "$cell" "$t")")
            if [[ -n "$baseline" ]]; then
                b+=("$(lacuna_ms "$cell" "$t" "$out/baseline.jar")")
            fi
        done
        /usr/bin/python3 - "$cell" "$t" "${l[*]}" "${p[*]}" "${b[*]:-}" <<'PY'
import statistics, sys
cell, t = sys.argv[1], sys.argv[2]
l, p, b = ([float(x) for x in arg.split()] for arg in sys.argv[3:6])
lm, pm = statistics.median(l), statistics.median(p)
row = f"| {cell} | {t} | {lm:.1f} | {pm:.1f} | {pm / lm:.2f}x |"
if b:
    bm = statistics.median(b)
    row += f" {bm:.1f} | {pm / bm:.2f}x |"
print(row)
PY
    done
done
