package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.pipeline.Json;
import dev.lacuna.runtime.CompiledModel;
import dev.lacuna.runtime.KernelChoice;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lacuna run}: score a text with the pure-Java runtime, or continue it. */
@Command(name = "run", sortOptions = false, usageHelpAutoWidth = true,
        description = "Score a text (bits per character) with the pure-Java sparse runtime, or continue it with"
                + " --generate.")
final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Checkpoint to run.")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "TEXT",
            description = "Text to score, or the prefix to continue. Every character must be in the model's"
                    + " vocabulary.")
    String text;

    @Option(names = "--generate", paramLabel = "N", description = "Continue the text by N sampled characters.")
    Integer generate;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "1", description = "Sampling seed (default 1).")
    long seed;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0",
            description = "Sampling temperature; 0 always takes the most likely character (default 1.0).")
    double temperature;

    @Option(names = "--kernels", paramLabel = "auto|sparse|dense", defaultValue = "auto",
            description = "Weight storage: per matrix by density (default), all sparse, or all dense.")
    String kernels;

    @Mixin
    RuntimeThreadsOption threads;

    @Option(names = "--json", description = "Print the result as JSON on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        KernelChoice choice = kernelChoice("--kernels", kernels);
        CompiledModel runtime = CompiledModel.load(model, choice, threads.threads());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", model.toString());
        result.put("kernels", choice.name().toLowerCase(Locale.ROOT));
        result.put("characters", text.codePointCount(0, text.length()));
        String continuation = null;
        if (generate != null) {
            continuation = runtime.generate(text, generate, seed, temperature);
            result.put("seed", seed);
            result.put("temperature", temperature);
            result.put("generated", continuation);
        } else {
            result.put("bpc", runtime.score(text));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(result));
        } else if (continuation != null) {
            out.println(text + continuation);
        } else {
            out.printf(Locale.ROOT, "%.4f bits per character over %d characters%n", result.get("bpc"),
                    result.get("characters"));
        }
        out.flush();
        return 0;
    }

    static KernelChoice kernelChoice(String option, String text) {
        for (KernelChoice k : KernelChoice.values()) {
            if (k.name().equalsIgnoreCase(text.trim())) {
                return k;
            }
        }
        throw new InvalidOptionException(option, "unknown kernel choice '" + text + "' (expected auto, sparse or"
                + " dense)");
    }
}
