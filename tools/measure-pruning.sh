#!/usr/bin/env bash
# Measures issue #2's quality targets on the Moby-Dick corpus: for each cell (2 layers, hidden 256, embedding 64) it
# trains a dense model with `lacuna train`, prunes it with `lacuna prune --method gradual` (target-sparsity mode,
# and the paper's default q = 90th percentile for the prediction error), and tabulates held-out bpc and predicted
# vs achieved sparsity. Two cells run side by side (one per core, one BLAS thread each).
#
#   tools/measure-pruning.sh     # DENSE_STEPS=3000 PRUNE_STEPS=2000 Q90_STEPS=PRUNE_STEPS CELLS="lstm gru rnn"
#   OUT=DIR tools/measure-pruning.sh        # results (models, report JSONs, results.md) go to DIR
#   RUNS=target tools/measure-pruning.sh    # only the target-sparsity runs (default RUNS="target q90")
# Runs whose report already exists in OUT are skipped, so an interrupted measurement resumes; OUT keeps its own
# copy of the jar for the same reason (delete OUT to measure new code).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/.cache/measure-pruning}
dense_steps=${DENSE_STEPS:-3000}
prune_steps=${PRUNE_STEPS:-2000}
q90_steps=${Q90_STEPS:-$prune_steps}
cells=${CELLS:-lstm gru rnn}
runs=" ${RUNS:-target q90} "
target=${TARGET:-0.9}
corpus=$("$root/tools/fetch-corpus.sh")
mkdir -p "$out"
# A private copy of the jar: the launcher rebuilds its jar when sources change, which must not touch long runs.
if [[ ! -f $out/lacuna.jar ]]; then
    "$root/lacuna" --version >/dev/null
    cp "$root/modules/cli/target/lacuna.jar" "$out/lacuna.jar"
fi
lacuna() {
    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE java -Xmx4g -Dlacuna.home="$root" -jar "$out/lacuna.jar" "$@"
}

run_cell() {
    local cell=$1 dense=$out/$1-dense.safetensors
    if [[ ! -f $out/$cell-dense.json ]]; then
        lacuna train --data "$corpus" --cell "$cell" --layers 2 --hidden 256 --embed 64 \
            --steps "$dense_steps" --seed 1 --threads 1 --out "$dense" --report-json "$out/$cell-dense.json" \
            > "$out/$cell-dense.log" 2>&1
    fi
    [[ $runs != *" target "* || -f $out/$cell-target.json ]] || lacuna prune --model "$dense" --data "$corpus" \
        --method gradual \
        --target-sparsity "$target" --steps "$prune_steps" --seed 1 --threads 1 --out "$out/$cell-target.safetensors" \
        --report-json "$out/$cell-target.json" > "$out/$cell-target.log" 2>&1
    [[ $runs != *" q90 "* || -f $out/$cell-q90.json ]] || lacuna prune --model "$dense" --data "$corpus" \
        --method gradual \
        --steps "$q90_steps" --seed 1 --threads 1 --out "$out/$cell-q90.safetensors" \
        --report-json "$out/$cell-q90.json" > "$out/$cell-q90.log" 2>&1
}

pids=()
for cell in $cells; do
    run_cell "$cell" &
    pids+=($!)
    if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait

/usr/bin/env python3 - "$out" $cells <<'PY' | tee "$out/results.md"
import json, sys, os
out, cells = sys.argv[1], sys.argv[2:]
print("| cell | run | dense bpc | pruned bpc | ratio | sparsity predicted | achieved | error (points) | ms/step | pruning overhead |")
print("|---|---|---|---|---|---|---|---|---|---|")
for cell in cells:
    for run in ("target", "q90"):
        path = os.path.join(out, f"{cell}-{run}.json")
        if not os.path.exists(path):
            continue
        r = json.load(open(path))
        pred, ach = r["sparsity_predicted"], r["sparsity"]
        print(f"| {cell} | {run} | {r['bpc_val_input']:.4f} | {r['bpc_val']:.4f} | {r['bpc_val']/r['bpc_val_input']:.4f} "
              f"| {pred:.4f} | {ach:.4f} | {100*(ach-pred):+.2f} | {r['ms_per_step_median']:.0f} "
              f"| {100 * r['pruning_seconds'] / r['train_seconds']:.2f}% |")
PY
