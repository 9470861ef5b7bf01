package dev.lacuna.maven;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.pipeline.compress.CompressReport;
import dev.lacuna.pipeline.compress.CompressSettings;
import dev.lacuna.pipeline.compress.GateLimits;
import dev.lacuna.pipeline.compress.ReportPage;
import java.io.File;
import java.nio.file.Path;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * Writes a readable page of the last compress run (settings, measurements, the gate's verdict, the .lacuna file by
 * tensor) and a copy of its JSON report into {@code reportDirectory}. Never fails the build on the gate; that is
 * {@code check}'s job. Bound to {@code package}, before {@code check} in {@code verify}, so a failing gate still leaves
 * the page that explains it.
 */
@Mojo(name = "report", defaultPhase = LifecyclePhase.PACKAGE, threadSafe = true)
public class ReportMojo extends AbstractMojo {
    /** The model given to compress (only its file name is used, to find the report). */
    @Parameter(property = "lacuna.model", required = true)
    private File model;

    /** The folder compress wrote to. */
    @Parameter(property = "lacuna.outputDirectory", defaultValue = "${project.build.outputDirectory}/models")
    private File outputDirectory;

    /** Where the page goes. */
    @Parameter(property = "lacuna.reportDirectory", defaultValue = "${project.build.directory}/lacuna")
    private File reportDirectory;

    /** Gate limits shown on the page (same meaning as in check). */
    @Parameter(property = "lacuna.minSparsity")
    private Double minSparsity;

    /** See check. */
    @Parameter(property = "lacuna.maxBpcIncrease")
    private Double maxBpcIncrease;

    /** See check. */
    @Parameter(property = "lacuna.maxOutputDiff")
    private Double maxOutputDiff;

    /** See check. */
    @Parameter(property = "lacuna.maxSizeBytes")
    private Long maxSizeBytes;

    /** Skip every Lacuna goal. */
    @Parameter(property = "lacuna.skip", defaultValue = "false")
    private boolean skip;

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("Skipping Lacuna report (lacuna.skip)");
            return;
        }
        try {
            GateLimits limits = new GateLimits(minSparsity, maxBpcIncrease, maxOutputDiff, maxSizeBytes);
            Path reportFile = CompressSettings.reportFile(model.toPath(), outputDirectory.toPath());
            Path page = ReportPage.write(CompressReport.read(reportFile), outputDirectory.toPath(), limits,
                    reportDirectory.toPath());
            getLog().info("Lacuna report written to " + page);
        } catch (InvalidOptionException e) {
            throw MojoErrors.configuration(e);
        } catch (LacunaException e) {
            throw MojoErrors.runtime("report", e);
        }
    }
}
