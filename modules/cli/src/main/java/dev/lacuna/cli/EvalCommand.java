package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.pipeline.Json;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.Evaluator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lacuna eval}: bits per character of a model on a text, by default on the held-out last 10%. */
@Command(name = "eval", sortOptions = false, usageHelpAutoWidth = true,
        description = "Measure a model's bits per character on a text (the same 90/10 split as training).")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "Model to evaluate: any format Lacuna reads (see `lacuna convert`).")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 text.")
    Path data;

    @Option(names = "--split", paramLabel = "validation|all", defaultValue = "validation",
            description = "Held-out last 10%% (default) or the whole text.")
    String split;

    @Option(names = "--json", description = "Print the result as JSON on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        boolean all = switch (split.toLowerCase(Locale.ROOT)) {
            case "validation" -> false;
            case "all" -> true;
            default -> throw new InvalidOptionException("--split", "unknown split '" + split
                    + "' (expected validation or all)");
        };
        Model m = ModelFiles.read(model);
        CharCorpus corpus = CharCorpus.load(data, m.vocabulary());
        int[] ids = all ? concat(corpus.train(), corpus.validation()) : corpus.validation();
        // The evaluator's fixed batching is the one every training report uses, so this reproduces their figures.
        double bpc = Evaluator.bpc(m, ids);

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", model.toString());
        result.put("data", data.toString());
        result.put("split", all ? "all" : "validation");
        result.put("characters", ids.length);
        result.put("bpc", bpc);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(result));
        } else {
            out.printf(Locale.ROOT, "%s on %s (%s, %,d characters): %.4f bits per character%n", model, data,
                    result.get("split"), ids.length, bpc);
        }
        out.flush();
        return 0;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
