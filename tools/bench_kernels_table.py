"""Turns the JMH JSON written by tools/bench-kernels.sh into Markdown tables.

Kernels: for each shape, batch and sparsity, the sparse kernel's time, every dense alternative's time, the speed-up
over the best dense alternative, and the bytes-moved limit: how much less weight data the sparse kernel streams
than a dense one (4 bytes per entry dense; 6 bytes per non-zero, float + 16-bit column index, plus one 4-byte row
pointer per row, sparse). A kernel bound by memory traffic cannot beat that ratio; at batch 1 every kernel here is.
"""
import json
import sys
from collections import defaultdict


def short(benchmark):
    cls, method = benchmark.rsplit(".", 2)[-2:]
    return cls, method


def main(path):
    results = json.load(open(path))
    sparse = {}
    dense = defaultdict(dict)
    steps = defaultdict(dict)
    for r in results:
        cls, method = short(r["benchmark"])
        p = r.get("params", {})
        score = r["primaryMetric"]["score"]
        threads = int(p.get("threads", 1))
        if cls == "SparseMatVecBenchmark":
            sparse[(p["shape"], int(p["batch"]), float(p["sparsity"]), threads)] = score
        elif cls == "DenseMatVecBenchmark":
            dense[(p["shape"], int(p["batch"]), threads)][method] = score
        elif cls == "TokenStepBenchmark":
            steps[(float(p["modelSparsity"]), threads)][method] = score

    # The plain loop is single-threaded: it is the same figure in every row of its shape and batch.
    print("## Matrix x vector (µs per product; threads for the sparse kernel, the runtime's dense kernel and "
          "OpenBLAS)\n")
    print("| shape | batch | sparsity | threads | sparse | plain loop | runtime dense (SIMD) | ND4J gemv/gemm "
          "| speed-up vs best dense | bytes-moved limit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (shape, batch, sparsity, threads), t in sorted(sparse.items()):
        rows, cols = (int(v) for v in shape.split("x"))
        d = dense.get((shape, batch, threads), {})
        best = min(d.values()) if d else None
        dense_bytes = 4 * rows * cols
        sparse_bytes = 6 * (1 - sparsity) * rows * cols + 4 * (rows + 1)
        cells = [f"{d[m]:.1f}" if m in d else "–" for m in ("plainLoop", "runtimeDense", "nd4j")]
        speedup = f"{best / t:.2f}x" if best else "–"
        print(f"| {shape} | {batch} | {sparsity:.0%} | {threads} | {t:.1f} | " + " | ".join(cells)
              + f" | {speedup} | {dense_bytes / sparse_bytes:.2f}x |")

    if steps:
        print("\n## Demo LSTM token step (2x256, embedding 64; µs per token)\n")
        print("| sparsity | threads | runtime (auto kernels) | runtime (forced dense) | ND4J | auto vs forced dense "
              "| auto vs ND4J |")
        print("|---|---|---|---|---|---|---|")
        for sparsity, threads in sorted(steps):
            s = steps[(sparsity, threads)]
            auto, dense_t, nd4j = s.get("runtimeAuto"), s.get("runtimeDense"), s.get("nd4j")
            fmt = lambda v: f"{v:.1f}" if v is not None else "–"
            ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "–"
            print(f"| {sparsity:.0%} | {threads} | {fmt(auto)} | {fmt(dense_t)} | {fmt(nd4j)} | {ratio(dense_t, auto)} "
                  f"| {ratio(nd4j, auto)} |")


if __name__ == "__main__":
    main(sys.argv[1])
