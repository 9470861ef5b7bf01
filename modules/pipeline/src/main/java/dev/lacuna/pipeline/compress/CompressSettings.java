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
 * @param quantizationSteps trained quantization: steps of fine-tuning the .lacuna codebooks' centroids on
 *                        {@code trainingData} after pruning (Deep Compression §3.2), 0 for none; needs {@code bits}
 *                        ({@code quantizationSteps})
 * @param checkpointEvery write a checkpoint of each fine-tuning stage (pruning with gradual or agp, trained
 *                        quantization) every this many steps, or 0 for none ({@code checkpointEvery})
 * @param resume          continue an interrupted job from its checkpoints when they exist ({@code resume})
 */
public record CompressSettings(Path model, PruningMethod method, double targetSparsity, Path trainingData, long steps,
                               long seed, int bits, boolean huffman, Set<OutputFormat> formats,
                               Path outputDirectory, long quantizationSteps, long checkpointEvery, boolean resume) {
    /** Prune-retrain rounds of the han method (H15 §3 iterates; three rounds as the CLI's default). */
    public static final int HAN_ROUNDS = 3;
    /** Suffix after the model's stem of the pruning stage's checkpoint in the output directory. */
    public static final String PRUNE_CHECKPOINT_SUFFIX = ".prune.resume";
    /** Suffix after the model's stem of the pruning stage's result, kept while trained quantization runs. */
    public static final String PRUNED_SUFFIX = ".pruned.resume";
    /** Suffix after the model's stem of the trained quantization stage's checkpoint in the output directory. */
    public static final String QUANTIZE_CHECKPOINT_SUFFIX = ".quantize.resume";

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
        if (quantizationSteps < 0) {
            throw new InvalidOptionException("quantizationSteps", "must be 0 (no trained quantization) or positive,"
                    + " found " + quantizationSteps);
        }
        if (quantizationSteps > 0) {
            if (bits == 0) {
                throw new InvalidOptionException("quantizationSteps", "fine-tunes codebook centroids: set bits too");
            }
            if (trainingData == null) {
                throw new InvalidOptionException("trainingData", "is required by quantizationSteps (the centroids"
                        + " are fine-tuned on the text)");
            }
            if (!formats.contains(OutputFormat.LACUNA)) {
                throw new InvalidOptionException("quantizationSteps", "tunes the codebooks of the .lacuna file: add"
                        + " lacuna to formats");
            }
        }
        if (checkpointEvery < 0) {
            throw new InvalidOptionException("checkpointEvery", "must be 0 (no checkpoints) or positive, found "
                    + checkpointEvery);
        }
        if (checkpointEvery > 0 || resume) {
            String option = checkpointEvery > 0 ? "checkpointEvery" : "resume";
            if (!method.trains() && quantizationSteps == 0) {
                throw new InvalidOptionException(option, "nothing to checkpoint: method " + method.id() + " does"
                        + " not train and quantizationSteps is 0");
            }
        }
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

    /** Settings without checkpoints: a job that starts from scratch and cannot be resumed. */
    public CompressSettings(Path model, PruningMethod method, double targetSparsity, Path trainingData, long steps,
                            long seed, int bits, boolean huffman, Set<OutputFormat> formats, Path outputDirectory) {
        this(model, method, targetSparsity, trainingData, steps, seed, bits, huffman, formats, outputDirectory, 0, 0,
                false);
    }

    /**
     * Where the pruning stage's checkpoint goes: {@code <stem>.prune.resume} in the output directory, a
     * {@link dev.lacuna.train.TrainingCheckpoint}. Like the other checkpoints, deleted once the outputs are published.
     */
    public Path pruneCheckpoint() {
        return outputDirectory.resolve(stem() + PRUNE_CHECKPOINT_SUFFIX);
    }

    /**
     * Where the pruned model waits while trained quantization runs, so that a resume skips the finished pruning
     * stage: {@code <stem>.pruned.resume} in the output directory.
     */
    public Path prunedCheckpoint() {
        return outputDirectory.resolve(stem() + PRUNED_SUFFIX);
    }

    /**
     * Where the trained quantization stage's checkpoint goes: {@code <stem>.quantize.resume} in the output
     * directory, a {@link dev.lacuna.train.CentroidCheckpoint}.
     */
    public Path quantizeCheckpoint() {
        return outputDirectory.resolve(stem() + QUANTIZE_CHECKPOINT_SUFFIX);
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
