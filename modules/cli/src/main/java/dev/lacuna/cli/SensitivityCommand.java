package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.pipeline.CompareSettings;
import dev.lacuna.pipeline.Json;
import dev.lacuna.pipeline.ReportFiles;
import dev.lacuna.pipeline.RunListener;
import dev.lacuna.pipeline.SensitivityAnalysis;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainingListener;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lacuna sensitivity}: prunes each tensor alone at each level and measures held-out bpc (H15's sensitivity
 * analysis, Distiller-style), with Han's per-tensor s derived from it.
 */
@Command(name = "sensitivity", sortOptions = false, usageHelpAutoWidth = true,
        description = "Prune each tensor alone at each level and measure held-out bpc; derive Han's per-tensor s.")
final class SensitivityCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "Trained checkpoint.")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 text; its held-out last"
            + " 10%% is used.")
    Path data;

    @Option(names = "--levels", split = ",", paramLabel = "L,...", description = "Sparsity levels (default"
            + " 0.5,0.7,0.8,0.9,0.95).")
    List<Double> levels;

    @Option(names = "--tolerance", paramLabel = "T", defaultValue = "0.02", description = "Relative bpc increase"
            + " that still counts as safe (default ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--max-chars", paramLabel = "N", description = "Evaluate on at most N held-out characters.")
    Integer maxChars;

    @Option(names = "--prune-embedding", description = "Analyse the embedding too.")
    boolean pruneEmbedding;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write sensitivity.json, .md and .html (with a"
            + " plot) into DIR.")
    Path out;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<Double> sorted = SensitivityAnalysis.checkLevels(levels != null ? levels : CompareSettings.DEFAULT_LEVELS);
        if (!(tolerance >= 0) || Double.isInfinite(tolerance)) {
            throw new InvalidOptionException("--tolerance", "must be a finite number of 0 or more, found " + tolerance);
        }
        if (maxChars != null && maxChars < 2) {
            throw new InvalidOptionException("--max-chars", "must be at least 2, found " + maxChars);
        }
        if (out != null && Files.exists(out) && !Files.isDirectory(out)) {
            throw new InvalidOptionException("--out", out + " is a file; give a folder for the reports");
        }
        Model m = ModelFiles.read(model);
        int[] ids = CharCorpus.load(data, m.vocabulary()).validation();
        if (maxChars != null && ids.length > maxChars) {
            ids = java.util.Arrays.copyOf(ids, maxChars);
        }
        PrintWriter err = spec.commandLine().getErr();
        SensitivityAnalysis.Result result = SensitivityAnalysis.run(m, ids, sorted, pruneEmbedding, new RunListener() {
            @Override
            public TrainingListener onRun(String label, int index, int count) {
                err.printf(Locale.ROOT, "[%d/%d] %s%n", index, count, label);
                err.flush();
                return TrainingListener.NONE;
            }
        });
        if (out != null) {
            ReportFiles.writeSensitivity(out, result, tolerance);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            stdout.println(Json.pretty(result.toMap(tolerance)));
        } else {
            stdout.print(text(result));
        }
        stdout.flush();
        return 0;
    }

    private String text(SensitivityAnalysis.Result result) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "dense held-out bpc %.4f%n%-24s",
                result.denseBpc(), "tensor"));
        for (double level : result.levels()) {
            s.append(String.format(Locale.ROOT, " %9s", String.format(Locale.ROOT, "@%.0f%%", 100 * level)));
        }
        s.append(String.format(Locale.ROOT, " %8s %8s%n", "safe", "han s"));
        Map<String, Double> han = result.hanQuality(tolerance);
        for (SensitivityAnalysis.Row row : result.rows()) {
            s.append(String.format(Locale.ROOT, "%-24s", row.tensor()));
            for (double bpc : row.bpc()) {
                s.append(String.format(Locale.ROOT, " %9.4f", bpc));
            }
            s.append(String.format(Locale.ROOT, " %7.0f%% %8.3f%n", 100 * result.safeLevel(row, tolerance),
                    han.get(row.tensor())));
        }
        return s.toString();
    }
}
