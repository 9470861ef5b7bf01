package dev.lacuna.maven;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.pipeline.compress.CompressReport;
import dev.lacuna.pipeline.compress.GateLimits;
import dev.lacuna.pipeline.compress.ReportPage;
import java.io.File;
import java.nio.file.Path;
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
public class ReportMojo extends ReportReadingMojo {
    /** Where the page goes. */
    @Parameter(property = "lacuna.reportDirectory", defaultValue = "${project.build.directory}/lacuna")
    private File reportDirectory;

    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip()) {
            getLog().info("Skipping Lacuna report (lacuna.skip)");
            return;
        }
        try {
            GateLimits limits = limits();
            Path reportFile = reportFile();
            Path page = ReportPage.write(CompressReport.read(reportFile), outputDirectory(), limits,
                    reportDirectory.toPath());
            getLog().info("Lacuna report written to " + page);
        } catch (InvalidOptionException e) {
            throw MojoErrors.configuration(e);
        } catch (LacunaException e) {
            throw MojoErrors.runtime("report", e);
        }
    }
}
