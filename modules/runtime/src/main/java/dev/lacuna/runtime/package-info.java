/**
 * Pure-Java inference on Lacuna models, fast on pruned ones: {@link dev.lacuna.runtime.CompiledModel} (step API,
 * scoring, generation) over per-matrix sparse or dense kernels ({@link dev.lacuna.runtime.MatVec}), and
 * {@link dev.lacuna.runtime.LatencyBenchmark} for side-by-side latency measurements. Depends on lacuna-core and
 * lacuna-io only. Design and measurements: docs/runtime.md.
 */
package dev.lacuna.runtime;
