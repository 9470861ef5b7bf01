package dev.lacuna.pipeline.compress;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.prune.PruningMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a {@link CompressJob} does. The constructor validates everything before any work starts, so a mistake fails
 * at once; errors are {@link InvalidOptionException}s whose option is the setting's name as listed below (the Maven
 * plugin's pom element names), so a front end can point at its own spelling of it.
 *
 * @param model           the trained model, any format Lacuna reads ({@code model})
 * @param method          how to prune ({@code method}): oneshot (no training), gradual, agp or han (fine-tune on
 *                        {@code trainingData})
 * @param targetSparsity  fraction of the prunable weights to remove, in (0, 1) ({@code targetSparsity})
 * @param trainingData    UTF-8 text for fine-tuning and held-out bpc, or null ({@code trainingData})
 * @param steps           fine-tuning steps of the training methods (han: per round), 0 for oneshot ({@code steps})
 * @param seed            seeds every random choice: batches and ORT verification inputs ({@code seed})
 * @param bits            k-means codebook width of the .lacuna file, 2-8, or 0 to keep float32 values ({@code bits})
 * @param huffman         Huffman-code the .lacuna streams where it helps ({@code huffman})
 * @param formats         the files to write, at least one ({@code formats})
 * @param outputDirectory where the files and the report go ({@code outputDirectory})
 */
public record CompressSettings(Path model, PruningMethod method, double targetSparsity, Path trainingData, long steps,
                               long seed, int bits, boolean huffman, Set<OutputFormat> formats,
                               Path outputDirectory) {
    /** Prune-retrain rounds of the han method (H15 §3 iterates; three rounds as the CLI's default). */
    public static final int HAN_ROUNDS = 3;

    public CompressSettings {
        if (model == null) {
            throw new InvalidOptionException("model", "is required: the path of the trained model");
        }
        if (!Files.isRegularFile(model)) {
            throw new InvalidOptionException("model", "file not found: " + model);
        }
        if (method == null) {
            throw new InvalidOptionException("method", "is required (allowed: " + allowedMethods() + ")");
        }
        if (method == PruningMethod.ONESHOT_FINETUNE) {
            throw new InvalidOptionException("method", "unsupported method '" + method.id() + "' (allowed: "
                    + allowedMethods() + ")");
        }
        if (!(targetSparsity > 0 && targetSparsity < 1)) {
            throw new InvalidOptionException("targetSparsity", "must be in (0, 1), found " + targetSparsity);
        }
        if (trainingData != null && !Files.isRegularFile(trainingData)) {
            throw new InvalidOptionException("trainingData", "file not found: " + trainingData);
        }
        if (method.trains()) {
            if (trainingData == null) {
                throw new InvalidOptionException("trainingData", "is required by method " + method.id()
                        + " (it fine-tunes on the text)");
            }
            if (steps < 1) {
                throw new InvalidOptionException("steps", "method " + method.id() + " needs at least 1 step, found "
                        + steps);
            }
        } else if (steps != 0) {
            throw new InvalidOptionException("steps", "method oneshot does not train: leave steps unset or 0, found "
                    + steps);
        }
        if (bits != 0 && (bits < 2 || bits > 8)) {
            throw new InvalidOptionException("bits", "must be 0 (no quantization) or 2-8, found " + bits);
        }
        if (formats == null || formats.isEmpty()) {
            throw new InvalidOptionException("formats", "at least one is required (allowed: "
                    + OutputFormat.names() + ")");
        }
        formats = Set.copyOf(EnumSet.copyOf(formats));
        if (outputDirectory == null) {
            throw new InvalidOptionException("outputDirectory", "is required");
        }
        if (Files.exists(outputDirectory) && !Files.isDirectory(outputDirectory)) {
            throw new InvalidOptionException("outputDirectory", "is a file, not a directory: " + outputDirectory);
        }
        if (outputDirectory.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize().getParent())) {
            throw new InvalidOptionException("outputDirectory", "must differ from the model's folder, or the "
                    + "outputs could overwrite the input: " + outputDirectory);
        }
    }

    /** The methods a compress job runs, comma-separated. */
    public static String allowedMethods() {
        return "oneshot, gradual, agp, han";
    }

    /** Parses a method name for a compress job, naming {@code method} and the allowed values when unknown. */
    public static PruningMethod parseMethod(String text) {
        for (PruningMethod m : PruningMethod.values()) {
            if (m != PruningMethod.ONESHOT_FINETUNE && m.id().equals(text.strip().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new InvalidOptionException("method", "unknown method '" + text + "' (allowed: " + allowedMethods()
                + ")");
    }

    /** The formats in a fixed order (declaration order), so reports and hashes do not depend on set iteration. */
    public List<OutputFormat> orderedFormats() {
        return EnumSet.copyOf(formats).stream().toList();
    }

    /** The model's file name without its extension: the stem of every output name. */
    public String stem() {
        return stem(model);
    }

    /** The report written beside the outputs. */
    public Path reportFile() {
        return reportFile(model, outputDirectory);
    }

    /**
     * Where a compress job of {@code model} into {@code outputDirectory} writes its report, for readers such as
     * the quality gate that do not need the model itself.
     */
    public static Path reportFile(Path model, Path outputDirectory) {
        return outputDirectory.resolve(stem(model) + CompressJob.REPORT_SUFFIX);
    }

    private static String stem(Path model) {
        String name = model.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** The output file of one format. */
    public Path outputFile(OutputFormat format) {
        return outputDirectory.resolve(stem() + format.extension());
    }
}
