package dev.lacuna.cli;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.Model;
import dev.lacuna.core.SparsityReport;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.io.format.LacunaFileReport;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.pipeline.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lacuna inspect}: what a checkpoint holds, tensor by tensor. */
@Command(name = "inspect", sortOptions = false, usageHelpAutoWidth = true,
        description = "Show a checkpoint's architecture, provenance and per-tensor sparsity; for a .lacuna file also"
                + " each tensor's encoding and size.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Checkpoint or .lacuna file to inspect.")
    Path model;

    @Option(names = "--json", description = "Print the result as JSON on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        LacunaFileReport encoding = null;
        Model m;
        if (LacunaFormat.hasMagic(model)) {
            LacunaFormat.Loaded loaded = LacunaFormat.load(model);
            m = loaded.model();
            encoding = loaded.report();
        } else {
            m = ModelFiles.read(model);
        }
        // A pruned embedding counts among the prunable weights; a dense one is left out, as in the reports.
        SparsityReport sparsity = m.sparsity(m.mask(Architecture.EMBEDDING) != null);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> map = asMap(m, sparsity);
            if (encoding != null) {
                map.put("encoding", CompressCommand.reportMap(encoding));
            }
            out.println(Json.pretty(map));
        } else {
            printText(out, m, sparsity);
            if (encoding != null) {
                out.println();
                CompressCommand.printTable(out, encoding);
            }
        }
        out.flush();
        return 0;
    }

    private Map<String, Object> asMap(Model m, SparsityReport sparsity) {
        Architecture a = m.architecture();
        Map<String, Object> arch = new LinkedHashMap<>();
        arch.put("cell", a.cell().id());
        arch.put("layers", a.layers());
        arch.put("hidden", a.hiddenSize());
        arch.put("embed", a.embedDim());
        arch.put("bidirectional", a.bidirectional());
        arch.put("activation", a.activation().id());
        arch.put("linear_before_reset", a.linearBeforeReset());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.toString());
        r.put("architecture", arch);
        r.put("vocab_size", a.vocabSize());
        r.put("params_total", sparsity.paramsTotal());
        r.put("params_nonzero", sparsity.paramsNonzero());
        r.put("prunable_total", sparsity.prunableTotal());
        r.put("prunable_nonzero", sparsity.prunableNonzero());
        r.put("sparsity", sparsity.sparsity());
        r.put("metadata", m.metadata());
        r.put("per_tensor", TrainingJob.perTensor(sparsity));
        return r;
    }

    private void printText(PrintWriter out, Model m, SparsityReport sparsity) {
        Architecture a = m.architecture();
        out.printf(Locale.ROOT, "model         %s%n", model);
        out.printf(Locale.ROOT, "architecture  %s, %d layer(s) x %d hidden, %s, %s%s%n", a.cell().id(), a.layers(),
                a.hiddenSize(), a.embedDim() > 0 ? "embedding " + a.embedDim() : "one-hot input",
                a.bidirectional() ? "bidirectional" : "unidirectional",
                switch (a.cell()) {
                    case RNN -> ", " + a.activation().id();
                    case GRU -> ", linear_before_reset " + a.linearBeforeReset();
                    default -> "";
                });
        out.printf(Locale.ROOT, "vocabulary    %d symbols%n", a.vocabSize());
        out.printf(Locale.ROOT, "parameters    %,d total, %,d non-zero; sparsity %.2f%% of %,d prunable weights%n",
                sparsity.paramsTotal(), sparsity.paramsNonzero(), 100 * sparsity.sparsity(),
                sparsity.prunableTotal());
        if (!m.metadata().isEmpty()) {
            out.println("metadata");
            m.metadata().forEach((k, v) -> out.printf(Locale.ROOT, "  %-24s %s%n", k, v));
        }
        int width = sparsity.perTensor().stream().mapToInt(e -> e.name().length()).max().orElse(4);
        out.printf(Locale.ROOT, "%-" + width + "s  %-12s  %12s  %9s%n", "tensor", "shape", "non-zeros", "sparsity");
        for (SparsityReport.Entry e : sparsity.perTensor()) {
            out.printf(Locale.ROOT, "%-" + width + "s  %-12s  %,12d  %8.2f%%%s%n", e.name(),
                    Arrays.toString(e.shape()).replace(" ", ""), e.nonzero(), 100 * e.sparsity(),
                    e.prunable() ? "" : "  (not pruned)");
        }
    }
}
