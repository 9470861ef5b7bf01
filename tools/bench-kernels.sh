#!/usr/bin/env bash
# Runs the JMH benchmarks of the sparse runtime (modules/benchmarks) and writes a Markdown table: sparse kernel vs
# the best dense alternative per shape and batch, with the bytes-moved limit beside each speed-up.
#
#   tools/bench-kernels.sh [OUT.md]        short run (default): 1760² and 2560², sparsity 0.9/0.95, batch 1,
#                                          1 fork, 2 x 1 s warm-up, 3 x 1 s measurement, plus the demo LSTM step
#   FULL=1 tools/bench-kernels.sh [OUT.md] the whole grid: 1760², 2560², 3072², 7680x2560 (GRU 3H x H),
#                                          sparsity 0.8/0.9/0.95/0.98, batch 1/4/16 (about an hour on 2 cores)
#   THREADS=1,2 tools/bench-kernels.sh     also time every kernel split over 2 threads (default 1)
#   JMH_ARGS="..." overrides the JMH run options (e.g. "-wi 5 -i 10").
#
# The machine is shared: the short run keeps to a few minutes. Each contender gets the same threads per product
# (ND4J/OpenBLAS too); the plain-loop baseline always runs on one.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/modules/benchmarks/target/bench-kernels.md}"
bench="$repo/modules/benchmarks"
json="$bench/target/jmh-result.json"

cd "$repo"
echo "bench-kernels: compiling the benchmarks ..." >&2
./mvnw -B -o -q compile org.apache.maven.plugins:maven-dependency-plugin:3.7.0:build-classpath \
    -pl modules/benchmarks -am -Dmdep.outputFile=target/classpath.txt >&2
# The reactor's own modules are not in the dependency plugin's list: add their compiled classes.
cp="$bench/target/classes"
for m in core io train runtime; do cp="$cp:$repo/modules/$m/target/classes"; done
cp="$cp:$(cat "$bench/target/classpath.txt")"

# libgomp spin-waits; one op thread and a passive wait keep ND4J honest on a shared machine (platform-notes.md).
threads="${THREADS:-1}"
max_threads="$(tr ',' '\n' <<< "$threads" | sort -n | tail -1)"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="$max_threads"

if [[ "${FULL:-0}" == "1" ]]; then
    params=(-p threads="$threads")
    run_opts=(${JMH_ARGS:-})
else
    params=(-p shape=1760x1760,2560x2560 -p sparsity=0.9,0.95 -p batch=1 -p threads="$threads")
    run_opts=(${JMH_ARGS:--f 1 -wi 2 -w 1s -i 3 -r 1s})
fi

rm -f "$json"
java -cp "$cp" org.openjdk.jmh.Main "SparseMatVecBenchmark|DenseMatVecBenchmark|TokenStepBenchmark" \
    "${params[@]}" "${run_opts[@]}" -jvmArgsAppend "-Dlacuna.demo=$repo/testdata/demo/lstm-dense.safetensors" \
    -rf json -rff "$json" 2>&1 | grep -v '^\[main\] INFO' >&2 || true
[[ -s "$json" ]] || { echo "bench-kernels: JMH wrote no results ($json)" >&2; exit 1; }

/usr/bin/python3 "$repo/tools/bench_kernels_table.py" "$json" > "$out"
echo "bench-kernels: wrote $out" >&2
cat "$out"
