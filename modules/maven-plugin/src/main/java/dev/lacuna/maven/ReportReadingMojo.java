package dev.lacuna.maven;

import dev.lacuna.pipeline.compress.CompressSettings;
import dev.lacuna.pipeline.compress.GateLimits;
import java.io.File;
import java.nio.file.Path;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * What the goals that read compress's report share: where the report is, the gate's limits (check enforces them,
 * report shows them) and the common skip switch, so the two goals cannot drift apart in names or defaults.
 */
abstract class ReportReadingMojo extends AbstractMojo {
    /** The model given to compress (only its file name is used, to find the report). */
    @Parameter(property = "lacuna.model", required = true)
    private File model;

    /** The folder compress wrote to. */
    @Parameter(property = "lacuna.outputDirectory", defaultValue = "${project.build.outputDirectory}/models")
    private File outputDirectory;

    /** Least sparsity of the prunable weights, in [0, 1]. */
    @Parameter(property = "lacuna.minSparsity")
    private Double minSparsity;

    /** Largest held-out bits-per-character increase (needs trainingData in compress). */
    @Parameter(property = "lacuna.maxBpcIncrease")
    private Double maxBpcIncrease;

    /** Largest max-abs output difference of the compressed ONNX model in ONNX Runtime (needs the onnx format). */
    @Parameter(property = "lacuna.maxOutputDiff")
    private Double maxOutputDiff;

    /** Largest size in bytes of each compressed file. */
    @Parameter(property = "lacuna.maxSizeBytes")
    private Long maxSizeBytes;

    /** Skip every Lacuna goal. */
    @Parameter(property = "lacuna.skip", defaultValue = "false")
    private boolean skip;

    boolean skip() {
        return skip;
    }

    Path outputDirectory() {
        return outputDirectory.toPath();
    }

    Path reportFile() {
        return CompressSettings.reportFile(model.toPath(), outputDirectory.toPath());
    }

    /** @throws dev.lacuna.core.InvalidOptionException naming the pom element of a limit outside its range */
    GateLimits limits() {
        return new GateLimits(minSparsity, maxBpcIncrease, maxOutputDiff, maxSizeBytes);
    }
}
