package dev.lacuna.cli;

import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.pipeline.CompareExperiment;
import dev.lacuna.pipeline.CompareReport;
import dev.lacuna.pipeline.CompareSettings;
import dev.lacuna.pipeline.CompressedSizeHook;
import dev.lacuna.pipeline.Json;
import dev.lacuna.pipeline.RunListener;
import dev.lacuna.pipeline.RunRecord;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainingListener;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lacuna compare}: runs gradual, agp, han, oneshot and oneshot+finetune from the same dense model on the same
 * data with a comparable budget, optionally a width sweep, and writes report.json, report.md and report.html.
 */
@Command(name = "compare", sortOptions = false, usageHelpAutoWidth = true,
        description = "Compare pruning methods (and optionally model widths) on one dense model and text; writes"
                + " report.json, report.md and report.html into --out.")
final class CompareCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DENSE", description = "Trained dense checkpoint.")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 text (90%% train, 10%%"
            + " held out).")
    Path data;

    @Option(names = "--target-sparsity", required = true, paramLabel = "S", description = "Sparsity every method"
            + " aims at, in (0,1).")
    double targetSparsity;

    @Option(names = "--methods", split = ",", paramLabel = "M,...", description = "Methods to run (default all:"
            + " gradual, agp, han, oneshot, oneshot+finetune).")
    List<String> methods;

    @Option(names = "--steps", required = true, paramLabel = "S", description = "Budget: fine-tuning steps of"
            + " gradual, agp and oneshot+finetune (han: --han-rounds rounds of --han-round-steps).")
    long steps;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the reports.")
    Path out;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Random seed (default"
            + " ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--widths", split = ",", paramLabel = "H,...", description = "Width sweep: train a dense model at"
            + " each hidden size, prune all but the narrowest, pair wide sparse with narrow dense.")
    List<Integer> widths;

    @Option(names = "--cells", split = ",", paramLabel = "CELL,...", description = "Cells of the width sweep"
            + " (default: the model's cell).")
    List<String> cells;

    @Option(names = "--width-steps", paramLabel = "W", description = "Dense pre-training steps of each sweep model"
            + " (default --steps); every sweep model then trains --steps more, pruned or not.")
    Long widthSteps;

    @Option(names = "--han-rounds", paramLabel = "K", defaultValue = "3", description = "Han's prune-retrain rounds"
            + " (default ${DEFAULT-VALUE}).")
    int hanRounds;

    @Option(names = "--han-round-steps", paramLabel = "S", description = "Retraining steps per Han round (default"
            + " --steps).")
    Long hanRoundSteps;

    @Option(names = "--han-lr", paramLabel = "RATE", description = "Han's retraining rate (default --lr / 5).")
    Double hanLr;

    @Option(names = "--han-uniform-s", description = "One s for every tensor instead of per-tensor s from a"
            + " sensitivity analysis.")
    boolean hanUniform;

    @Option(names = "--levels", split = ",", paramLabel = "L,...", description = "Sensitivity levels for Han's s"
            + " (default 0.5,0.7,0.8,0.9,0.95).")
    List<Double> levels;

    @Option(names = "--sensitivity-tolerance", paramLabel = "T", defaultValue = "0.02", description = "Relative"
            + " bpc increase a tensor may cause alone at its safe level (default ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--pooled", description = "agp and oneshot reach the target over all tensors together.")
    boolean pooled;

    @Option(names = "--prune-embedding", description = "Also prune the embedding.")
    boolean pruneEmbedding;

    @Option(names = "--bits", paramLabel = "B", defaultValue = "5",
            description = "Codebook bits for the quantized and Huffman size columns (2-8; default ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--json", description = "Print report.json on stdout instead of the summary table.")
    boolean json;

    @Option(names = "--save-models", description = "Also write each run's final model as DIR/<run>.safetensors"
            + " (<run>: the method, or dense-CELL-H and gradual-CELL-H for the width sweep).")
    boolean saveModels;

    @Mixin
    TrainingOptions training;

    @Mixin
    ResumeOptions resumption;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new InvalidOptionException("--out", out + " is a file; give a folder for the reports");
        }
        CompareSettings settings = settings();
        resumption.validate();
        Model dense = ModelFiles.read(model);
        CharCorpus corpus = CharCorpus.load(data, dense.vocabulary());
        training.applyThreads();
        PrintWriter err = spec.commandLine().getErr();
        CompareReport report = CompareExperiment.run(dense, data, corpus, settings, out, progress(err),
                CompressedSizeHook.lacunaFormat(bits), resumption.toCheckpoints(), saveModels);
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            stdout.println(Json.pretty(report.toMap()));
        } else {
            stdout.print(summary(report));
        }
        stdout.flush();
        if (!report.complete()) {
            long failed = report.methods().stream().filter(r -> !r.finished()).count()
                    + report.widthRuns().stream().filter(r -> !r.finished()).count();
            throw new LacunaException(failed + " run(s) failed; the reports in " + out
                    + " show the finished ones, marked incomplete");
        }
        return 0;
    }

    /** Validated settings; every error names its option before anything is loaded or trained. */
    CompareSettings settings() {
        List<PruningMethod> parsed = new ArrayList<>();
        for (String name : methods != null ? methods : CompareSettings.ALL_METHODS.stream().map(PruningMethod::id)
                .toList()) {
            parsed.add(PruningMethod.parse("--methods", name));
        }
        long evalEvery = Math.max(1, steps / 10);
        TrainConfig config = training.toConfig(steps, seed, PruneCommand.DEFAULT_LR);
        if (training.evalEvery == null) {
            // Ten held-out points per run give the bpc-vs-step plot its curve.
            config = config.toBuilder().evalEvery(evalEvery).build();
        }
        List<CellType> widthCells = new ArrayList<>();
        if (cells != null) {
            for (String c : cells) {
                widthCells.add(CellType.parse("--cells", c));
            }
        }
        return CompareSettings.builder(targetSparsity, config).methods(parsed).hanRounds(hanRounds)
                .hanRoundSteps(hanRoundSteps).hanLr(hanLr).hanSensitivity(!hanUniform)
                .sensitivityLevels(levels != null ? levels : CompareSettings.DEFAULT_LEVELS)
                .sensitivityTolerance(tolerance).widths(widths != null ? widths : List.of()).widthCells(widthCells)
                .widthSteps(widthSteps).pooled(pooled).includeEmbedding(pruneEmbedding).build();
    }

    private static RunListener progress(PrintWriter err) {
        return new RunListener() {
            @Override
            public TrainingListener onRun(String label, int index, int count) {
                return ProgressListener.create("[" + index + "/" + count + "] " + label, err);
            }

            @Override
            public void onResume(String label, Path checkpoint) {
                err.println("resuming " + label + " from " + checkpoint);
                err.flush();
            }

            @Override
            public void onFailure(String label, String message) {
                err.println("lacuna: " + label + " failed: " + message);
                err.flush();
            }
        };
    }

    private String summary(CompareReport report) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "dense %s hidden %s: held-out bpc %.4f%n", report.dense().get("cell"),
                report.dense().get("hidden"), (Double) report.dense().get("bpc_val")));
        s.append(String.format(Locale.ROOT, "%-18s %9s %9s %9s %8s %9s%n", "method", "sparsity", "predicted", "bpc",
                "steps", "seconds"));
        for (RunRecord r : report.methods()) {
            if (!r.finished()) {
                s.append(String.format(Locale.ROOT, "%-18s failed: %s%n", r.method(), r.error()));
                continue;
            }
            s.append(String.format(Locale.ROOT, "%-18s %8.2f%% %8s %9.4f %8d %9.1f%n", r.method(),
                    100 * r.sparsity(), r.sparsityPredicted() == null ? "" : String.format(Locale.ROOT, "%.2f%%",
                            100 * r.sparsityPredicted()), r.bpcVal(), r.trainSteps(), r.trainSeconds()));
        }
        for (CompareReport.Pair p : report.widthPairs()) {
            s.append(String.format(Locale.ROOT, "%s: wide %d sparse (%,d non-zeros) bpc %.4f vs narrow %d dense (%,d)"
                    + " bpc %.4f%n", p.wideSparse().cell(), p.wideSparse().hidden(), p.wideSparse().paramsNonzero(),
                    p.wideSparse().bpcVal(), p.narrowDense().hidden(), p.narrowDense().paramsNonzero(),
                    p.narrowDense().bpcVal()));
        }
        s.append("reports in ").append(out).append(System.lineSeparator());
        return s.toString();
    }
}
