package dev.lacuna.cli;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.pipeline.Json;
import dev.lacuna.runtime.CompiledModel;
import dev.lacuna.runtime.KernelChoice;
import dev.lacuna.runtime.LatencyBenchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lacuna bench}: per-token latency of one model in the Java runtime (sparse kernels where they pay, and
 * forced dense), in ND4J, and optionally in ONNX Runtime, measured round-robin in one run.
 */
@Command(name = "bench", sortOptions = false, usageHelpAutoWidth = true,
        description = "Measure per-token latency and tokens/s: Java runtime (sparse and forced dense), ND4J, and"
                + " ONNX Runtime with --onnx; side by side in one run.")
final class BenchCommand implements Callable<Integer> {
    static final String SPARSE = "runtime_sparse";
    static final String DENSE = "runtime_dense";
    static final String ORT = "ort_dense";
    static final String ND4J = "nd4j_dense";

    @Parameters(index = "0", paramLabel = "MODEL", description = "Checkpoint to benchmark.")
    Path model;

    @Option(names = "--onnx", paramLabel = "MODEL.onnx",
            description = "The model's dense ONNX export, to time ONNX Runtime as well.")
    Path onnx;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "200",
            description = "Tokens per round (default 200).")
    int tokens;

    @Option(names = "--rounds", paramLabel = "R", defaultValue = "15",
            description = "Recorded rounds per contender (default 15); the median is reported.")
    int rounds;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "5",
            description = "Warm-up rounds per contender, not recorded (default 5).")
    int warmup;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "1", description = "Seed of the token sequence.")
    long seed;

    @Mixin
    RuntimeThreadsOption threads;

    @Option(names = "--json", description = "Print the result as JSON on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (tokens < 1) {
            throw new InvalidOptionException("--tokens", "must be positive, found " + tokens);
        }
        if (rounds < 1) {
            throw new InvalidOptionException("--rounds", "must be positive, found " + rounds);
        }
        if (warmup < 0) {
            throw new InvalidOptionException("--warmup", "must not be negative, found " + warmup);
        }
        int n = threads.threads();
        Model m = ModelFiles.read(model);
        Architecture arch = m.architecture();
        if (arch.bidirectional()) {
            throw new LacunaException(model + " is bidirectional: a cloze model has no next-token step to time");
        }
        CompiledModel sparse = CompiledModel.of(m, KernelChoice.AUTO, n);
        CompiledModel dense = CompiledModel.of(m, KernelChoice.DENSE, n);
        List<LatencyBenchmark.Contender> contenders = new ArrayList<>();
        contenders.add(new LatencyBenchmark.Contender(SPARSE, LatencyBenchmark.stepper(sparse)));
        contenders.add(new LatencyBenchmark.Contender(DENSE, LatencyBenchmark.stepper(dense)));
        if (TrainingEngine.present()) {
            TrainingOptions.useBlasThreads(n); // ND4J's products get the same threads; ONNX Runtime: see OrtStepper
            contenders.add(new LatencyBenchmark.Contender(ND4J, new Nd4jStepper(m)));
        }
        OrtStepper ort = onnx != null ? new OrtStepper(onnx) : null;
        try {
            if (ort != null) {
                contenders.add(new LatencyBenchmark.Contender(ORT, ort));
            }
            int[] ids = new SplittableRandom(seed).ints(tokens, 0, arch.vocabSize()).toArray();
            List<LatencyBenchmark.Result> results = LatencyBenchmark.run(contenders, ids, warmup, rounds);
            Map<String, Object> report = report(m, sparse, dense, results);
            print(report);
        } finally {
            if (ort != null) {
                ort.close();
            }
        }
        return 0;
    }

    private Map<String, Object> report(Model m, CompiledModel sparse, CompiledModel dense,
                                       List<LatencyBenchmark.Result> results) {
        Map<String, Double> ms = new LinkedHashMap<>();
        for (String name : List.of(SPARSE, DENSE, ORT, ND4J)) {
            ms.put(name, null);
        }
        for (LatencyBenchmark.Result r : results) {
            ms.put(r.name(), r.medianMsPerToken());
        }
        Architecture a = m.architecture();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.toString());
        r.put("onnx", onnx == null ? null : onnx.toString());
        r.put("architecture", a.cell().id() + " " + a.layers() + "x" + a.hiddenSize()
                + (a.embedDim() > 0 ? " embed " + a.embedDim() : " one-hot") + ", vocab " + a.vocabSize());
        r.put("sparsity", m.sparsity(m.mask(Architecture.EMBEDDING) != null).sparsity());
        r.put("tokens_per_round", tokens);
        r.put("rounds", rounds);
        r.put("warmup_rounds", warmup);
        r.put("threads", threads.threads());
        r.put("ort_threads", onnx == null ? null : 1);
        ms.forEach((name, value) -> r.put(name + "_ms", value));
        ms.forEach((name, value) -> r.put(name + "_tokens_per_s", value == null ? null : 1000.0 / value));
        Double s = ms.get(SPARSE);
        r.put("speedup_sparse_vs_runtime_dense", ratio(ms.get(DENSE), s));
        r.put("speedup_sparse_vs_ort_dense", ratio(ms.get(ORT), s));
        r.put("speedup_sparse_vs_nd4j_dense", ratio(ms.get(ND4J), s));
        r.put("sparse_matrices", sparse.sparseMatrices());
        r.put("non_zero_weights", sparse.nonZeroWeights());
        r.put("runtime_sparse_weight_bytes", sparse.weightBytes());
        r.put("runtime_dense_weight_bytes", dense.weightBytes());
        return r;
    }

    private static Double ratio(Double numerator, Double denominator) {
        return numerator == null || denominator == null || denominator == 0 ? null : numerator / denominator;
    }

    private void print(Map<String, Object> report) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(report));
        } else {
            out.printf(Locale.ROOT, "%s: %s, sparsity %.1f%%, %d tokens x %d rounds (+%d warm-up), %d thread%s,"
                    + " medians%n", model, report.get("architecture"), 100 * (double) report.get("sparsity"), tokens,
                    rounds, warmup, threads.threads(), threads.threads() == 1 ? "" : "s");
            for (String name : List.of(SPARSE, DENSE, ORT, ND4J)) {
                Double ms = (Double) report.get(name + "_ms");
                if (ms == null) {
                    String why = name.equals(ORT) ? " (give --onnx)"
                            : name.equals(ND4J) ? " (no ND4J in this jar)" : "";
                    out.printf(Locale.ROOT, "  %-15s  not measured%s%n", name, why);
                } else {
                    out.printf(Locale.ROOT, "  %-15s  %9.4f ms/token  %10.0f tokens/s%s%n", name, ms, 1000.0 / ms,
                            name.equals(SPARSE) ? "" : String.format(Locale.ROOT, "  (sparse is %.2fx faster)",
                                    ms / (Double) report.get(SPARSE + "_ms")));
                }
            }
            out.printf(Locale.ROOT, "  runtime weights: %,d bytes sparse (%,d non-zeros), %,d bytes dense%n",
                    (long) report.get("runtime_sparse_weight_bytes"), (long) report.get("non_zero_weights"),
                    (long) report.get("runtime_dense_weight_bytes"));
        }
        out.flush();
    }
}
