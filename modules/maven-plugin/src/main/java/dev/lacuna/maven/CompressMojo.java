package dev.lacuna.maven;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.pipeline.compress.CompressJob;
import dev.lacuna.pipeline.compress.CompressResult;
import dev.lacuna.pipeline.compress.CompressSettings;
import dev.lacuna.pipeline.compress.OutputFormat;
import java.io.File;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * Compresses a trained model as a build step: prunes it, writes the chosen formats and a JSON report into
 * {@code outputDirectory} (by default inside the jar's classes). Skips the work when the model, training data and
 * settings are unchanged since the last run (content hashes in the report).
 */
@Mojo(name = "compress", defaultPhase = LifecyclePhase.PROCESS_RESOURCES, threadSafe = true)
public class CompressMojo extends AbstractMojo {
    /** The trained model: .onnx, .safetensors, .npz or .lacuna. */
    @Parameter(property = "lacuna.model", required = true)
    private File model;

    /** Pruning method: oneshot (no training), gradual, agp or han (these fine-tune on trainingData). */
    @Parameter(property = "lacuna.method", defaultValue = "oneshot")
    private String method;

    /** Fraction of the prunable weights to remove, in (0, 1). */
    @Parameter(property = "lacuna.targetSparsity", required = true)
    private Double targetSparsity;

    /** UTF-8 text for fine-tuning and held-out bits per character; needed by gradual, agp and han. */
    @Parameter(property = "lacuna.trainingData")
    private File trainingData;

    /** Fine-tuning steps (han: per round); 0 for oneshot. */
    @Parameter(property = "lacuna.steps", defaultValue = "0")
    private long steps;

    /** Seed of every random choice; the same inputs and seed give the same output bytes. */
    @Parameter(property = "lacuna.seed", defaultValue = "0")
    private long seed;

    /** Codebook width of the .lacuna file (2-8 bits, k-means); 0 keeps float32 values. */
    @Parameter(property = "lacuna.bits", defaultValue = "0")
    private int bits;

    /** Huffman-code the .lacuna streams where it helps. */
    @Parameter(property = "lacuna.huffman", defaultValue = "false")
    private boolean huffman;

    /** Files to write: onnx, lacuna (comma-separated as a property). */
    @Parameter(property = "lacuna.formats", defaultValue = "onnx,lacuna")
    private List<String> formats;

    /** Where the compressed files and the report go; by default they land in the jar. */
    @Parameter(property = "lacuna.outputDirectory", defaultValue = "${project.build.outputDirectory}/models")
    private File outputDirectory;

    /**
     * Trained quantization: fine-tune the .lacuna codebooks' centroids on trainingData for this many steps after
     * pruning (needs bits); 0 for none.
     */
    @Parameter(property = "lacuna.quantizationSteps", defaultValue = "0")
    private long quantizationSteps;

    /**
     * Write a checkpoint of each fine-tuning stage (pruning with gradual or agp, trained quantization) into
     * {@code outputDirectory} every this many steps, so that an interrupted build can resume; 0 for none.
     */
    @Parameter(property = "lacuna.checkpointEvery", defaultValue = "0")
    private long checkpointEvery;

    /**
     * Continue an interrupted build from its checkpoints, skipping a finished pruning stage and ending with the same
     * outputs as an uninterrupted run; starts from scratch when there are none.
     */
    @Parameter(property = "lacuna.resume", defaultValue = "false")
    private boolean resume;

    /** Skip every Lacuna goal. */
    @Parameter(property = "lacuna.skip", defaultValue = "false")
    private boolean skip;

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("Skipping Lacuna compress (lacuna.skip)");
            return;
        }
        CompressSettings settings;
        try {
            settings = settings();
        } catch (InvalidOptionException e) {
            throw MojoErrors.configuration(e);
        }
        long start = System.nanoTime();
        try {
            CompressResult result = new CompressJob(settings, getLog()::info).run();
            getLog().info(String.format(Locale.ROOT, "Lacuna compress %s in %d ms",
                    result.upToDate() ? "skipped (up to date)" : "done", (System.nanoTime() - start) / 1_000_000));
        } catch (InvalidOptionException e) {
            throw MojoErrors.configuration(e);
        } catch (LacunaException e) {
            throw MojoErrors.runtime("compress", e);
        }
    }

    private CompressSettings settings() {
        if (targetSparsity == null) {
            throw new InvalidOptionException("targetSparsity", "is required: a fraction in (0, 1)");
        }
        PruningMethod chosen = CompressSettings.parseMethod(method);
        Set<OutputFormat> chosenFormats = EnumSet.noneOf(OutputFormat.class);
        for (String f : formats == null ? List.<String>of() : formats) {
            if (!f.isBlank()) {
                chosenFormats.add(OutputFormat.parse("formats", f));
            }
        }
        return new CompressSettings(model.toPath(), chosen, targetSparsity,
                trainingData == null ? null : trainingData.toPath(), steps, seed, bits, huffman, chosenFormats,
                outputDirectory.toPath(), quantizationSteps, checkpointEvery, resume);
    }
}
