package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.pipeline.Json;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where a training command's results go: {@code --report-json FILE} and {@code --json} (a picocli mixin). */
final class ResultOptions {
    @Option(names = "--report-json", paramLabel = "FILE", description = "Also write the full report as JSON to FILE.")
    Path reportJson;

    @Option(names = "--json", description = "Print the report as JSON on stdout, and nothing else.")
    boolean json;

    /** Fails before any training when an output path cannot be a file. */
    void checkTargets() {
        checkTarget("--report-json", reportJson);
    }

    static void checkTarget(String option, Path target) {
        if (target != null && Files.isDirectory(target)) {
            throw new InvalidOptionException(option, target + " is a directory; give a file name");
        }
    }

    /** Saves the model, then the report, then prints: each file appears whole or not at all. */
    void publish(TrainingJob.Outcome outcome, Path modelOut, PrintWriter out) {
        ModelFiles.write(outcome.model(), modelOut);
        Map<String, Object> report = outcome.report();
        if (reportJson != null) {
            Json.write(reportJson, report);
        }
        if (json) {
            out.println(Json.pretty(report));
        } else {
            out.println(summary(outcome, modelOut));
        }
        out.flush();
    }

    /** Publishes a report of a job that wrote its own output: JSON where asked, else the given summary. */
    void publish(Map<String, Object> report, String summary, PrintWriter out) {
        if (reportJson != null) {
            Json.write(reportJson, report);
        }
        out.print(json ? Json.pretty(report) + System.lineSeparator() : summary);
        out.flush();
    }

    private String summary(TrainingJob.Outcome outcome, Path modelOut) {
        var sparsity = outcome.sparsity();
        var result = outcome.result();
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "wrote %s%n", modelOut));
        s.append(String.format(Locale.ROOT, "params %,d, non-zeros %,d, sparsity %.2f%% of prunable weights",
                sparsity.paramsTotal(), sparsity.paramsNonzero(), 100 * sparsity.sparsity()));
        if (outcome.predictedSparsity() != null) {
            s.append(String.format(Locale.ROOT, " (predicted %.2f%%)", 100 * outcome.predictedSparsity()));
        }
        s.append(System.lineSeparator());
        if (outcome.bpcValInput() != null) {
            s.append(String.format(Locale.ROOT, "held-out bpc %.4f (input model %.4f)%n", result.bpcVal(),
                    outcome.bpcValInput()));
        } else {
            s.append(String.format(Locale.ROOT, "held-out bpc %.4f%n", result.bpcVal()));
        }
        s.append(String.format(Locale.ROOT, "%d steps in %.1f s (%.2f steps/s, pruning %.2f s)", result.steps(),
                result.trainSeconds(), result.stepsPerSecond(), result.pruningSeconds()));
        if (reportJson != null) {
            s.append(System.lineSeparator()).append("report ").append(reportJson);
        }
        return s.toString();
    }
}
