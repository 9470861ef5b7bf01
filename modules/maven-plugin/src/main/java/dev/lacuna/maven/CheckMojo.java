package dev.lacuna.maven;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.pipeline.compress.CompressReport;
import dev.lacuna.pipeline.compress.GateLimits;
import dev.lacuna.pipeline.compress.QualityGate;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;

/**
 * The quality gate: fails the build when the report of {@code compress} breaks a limit. Each failure names the pom
 * element, the measured value and the limit. A limit on a quantity the report lacks fails too.
 */
@Mojo(name = "check", defaultPhase = LifecyclePhase.VERIFY, threadSafe = true)
public class CheckMojo extends ReportReadingMojo {
    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip()) {
            getLog().info("Skipping Lacuna check (lacuna.skip)");
            return;
        }
        GateLimits limits;
        try {
            limits = limits();
        } catch (InvalidOptionException e) {
            throw MojoErrors.configuration(e);
        }
        if (!limits.any()) {
            throw new MojoFailureException("lacuna:check has no limit: set at least one of <minSparsity>, "
                    + "<maxBpcIncrease>, <maxOutputDiff>, <maxSizeBytes>");
        }
        Path reportFile = reportFile();
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
