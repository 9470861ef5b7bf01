package dev.lacuna.maven;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.pipeline.compress.CompressReport;
import dev.lacuna.pipeline.compress.CompressSettings;
import dev.lacuna.pipeline.compress.GateLimits;
import dev.lacuna.pipeline.compress.QualityGate;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * The quality gate: fails the build when the report of {@code compress} breaks a limit. Each failure names the pom
 * element, the measured value and the limit. A limit on a quantity the report lacks fails too.
 */
@Mojo(name = "check", defaultPhase = LifecyclePhase.VERIFY, threadSafe = true)
public class CheckMojo extends AbstractMojo {
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

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("Skipping Lacuna check (lacuna.skip)");
            return;
        }
        GateLimits limits;
        try {
            limits = new GateLimits(minSparsity, maxBpcIncrease, maxOutputDiff, maxSizeBytes);
        } catch (InvalidOptionException e) {
            throw MojoErrors.configuration(e);
        }
        if (!limits.any()) {
            throw new MojoFailureException("lacuna:check has no limit: set at least one of <minSparsity>, "
                    + "<maxBpcIncrease>, <maxOutputDiff>, <maxSizeBytes>");
        }
        Path reportFile = CompressSettings.reportFile(model.toPath(), outputDirectory.toPath());
        CompressReport report;
        try {
            report = CompressReport.read(reportFile);
        } catch (LacunaException e) {
            throw MojoErrors.runtime("check", e);
        }
        List<QualityGate.Violation> violations = QualityGate.check(report, limits);
        if (!violations.isEmpty()) {
            String lines = violations.stream().map(v -> "<" + v.limit() + ">: " + v.message())
                    .collect(Collectors.joining("\n  "));
            throw new MojoFailureException("Lacuna quality gate failed for " + reportFile + ":\n  " + lines);
        }
        getLog().info("Lacuna quality gate passed: " + QualityGate.summary(report, limits));
    }
}
