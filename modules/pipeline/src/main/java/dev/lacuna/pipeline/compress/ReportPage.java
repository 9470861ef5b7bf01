package dev.lacuna.pipeline.compress;

import dev.lacuna.io.AtomicFiles;
import dev.lacuna.io.format.LacunaFileReport;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.io.format.TensorReport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A readable page of a compress run (the Maven {@code report} goal): settings, measurements, the quality gate's
 * verdict and, for a .lacuna output, how each tensor was encoded. Markdown, so it renders in CI and on GitHub.
 */
public final class ReportPage {
    private ReportPage() {
    }

    /**
     * Writes {@code <stem>.md} and a copy of the JSON report into {@code targetDirectory}, atomically.
     *
     * @param report          the compress report
     * @param outputDirectory the folder holding the report's outputs (to inspect the .lacuna file)
     * @param limits          the gate limits to evaluate on the page, or null to leave the gate out
     * @return the Markdown file
     */
    public static Path write(CompressReport report, Path outputDirectory, GateLimits limits, Path targetDirectory) {
        String stem = stemOf(report);
        Path page = targetDirectory.resolve(stem + ".md");
        byte[] markdown = markdown(report, outputDirectory, limits).getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(page, out -> out.write(markdown));
        byte[] json = report.toJson();
        AtomicFiles.write(targetDirectory.resolve(stem + CompressJob.REPORT_SUFFIX), out -> out.write(json));
        return page;
    }

    static String markdown(CompressReport report, Path outputDirectory, GateLimits limits) {
        StringBuilder b = new StringBuilder();
        CompressReport.Settings s = report.settings();
        b.append("# Lacuna compress report: ").append(report.model().path()).append("\n\n");
        b.append(String.format(Locale.ROOT, "Method %s, target sparsity %s, steps %d, seed %d, bits %d, Huffman %s%s."
                + "%n%n", s.method(), s.targetSparsity(), s.steps(), s.seed(), s.bits(), s.huffman(),
                s.quantizationSteps() == 0 ? "" : ", trained quantization " + s.quantizationSteps() + " steps"));
        b.append("| measure | value |\n|---|---|\n");
        row(b, "sparsity (prunable weights)", QualityGate.number(report.sparsity()));
        row(b, "prunable parameters", String.format(Locale.ROOT, "%,d", report.params()));
        row(b, "non-zero after pruning", String.format(Locale.ROOT, "%,d", report.nonzero()));
        row(b, "all parameters", String.format(Locale.ROOT, "%,d", report.paramsTotal()));
        row(b, "input size", String.format(Locale.ROOT, "%,d bytes", report.model().sizeBytes()));
        row(b, "bpc before → after", report.bpcBefore() == null ? "not measured (no training data)"
                : QualityGate.number(report.bpcBefore()) + " → " + QualityGate.number(report.bpcAfter()));
        row(b, "max output diff (ONNX Runtime)", report.maxOutputDiff() == null ? "not measured"
                : QualityGate.number(report.maxOutputDiff()));
        b.append("\n| output | format | bytes | ratio to input | sha256 |\n|---|---|---|---|---|\n");
        for (CompressReport.Output o : report.outputs()) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.2fx | `%s` |%n", o.file(), o.format(),
                    o.sizeBytes(), (double) report.model().sizeBytes() / o.sizeBytes(), o.sha256()));
        }
        if (limits != null && limits.any()) {
            List<QualityGate.Violation> violations = QualityGate.check(report, limits);
            b.append("\n## Quality gate: ").append(violations.isEmpty() ? "passed" : "FAILED").append("\n\n");
            if (violations.isEmpty()) {
                b.append(QualityGate.summary(report, limits)).append('\n');
            }
            for (QualityGate.Violation v : violations) {
                b.append("- ").append(v.message()).append('\n');
            }
        }
        CompressReport.Output lacuna = report.output(OutputFormat.LACUNA);
        if (lacuna != null && Files.isRegularFile(outputDirectory.resolve(lacuna.file()))) {
            LacunaFileReport inspected = LacunaFormat.inspect(outputDirectory.resolve(lacuna.file()));
            b.append("\n## ").append(lacuna.file()).append(" by tensor\n\n")
                    .append("| tensor | shape | encoding | stored | bytes | bits/weight | ratio |\n")
                    .append("|---|---|---|---|---|---|---|\n");
            for (TensorReport t : inspected.tensors()) {
                b.append(String.format(Locale.ROOT, "| %s | %s | %s | %,d | %,d | %.2f | %.1fx |%n", t.name(),
                        Arrays.toString(t.shape()), t.encoding(), t.stored(), t.payloadBytes(), t.bitsPerWeight(),
                        t.ratio()));
            }
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String name, String value) {
        b.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }

    private static String stemOf(CompressReport report) {
        String name = Path.of(report.model().path()).getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
