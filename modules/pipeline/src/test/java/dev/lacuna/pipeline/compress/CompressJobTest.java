package dev.lacuna.pipeline.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.io.Sha256;
import dev.lacuna.io.format.LacunaFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompressJobTest {
    private static final Path TESTDATA = Path.of("../../testdata/onnx");

    @TempDir
    Path temp;

    private Path copy(String name) throws IOException {
        Path in = temp.resolve("in");
        Files.createDirectories(in);
        return Files.copy(TESTDATA.resolve(name), in.resolve(name));
    }

    private static CompressSettings oneshot(Path model, Path out, Set<OutputFormat> formats) {
        return new CompressSettings(model, PruningMethod.ONESHOT, 0.6, null, 0, 7, 0, false, formats, out);
    }

    @Test
    void prunesAnOnnxGraphWritesBothFormatsAndMeasuresTheOutputDifference() throws IOException {
        Path model = copy("lstm_2layer_o17_folded.onnx");
        Path out = temp.resolve("out");
        List<String> lines = new ArrayList<>();
        CompressResult result = new CompressJob(oneshot(model, out, Set.of(OutputFormat.ONNX, OutputFormat.LACUNA)),
                lines::add).run();

        assertFalse(result.upToDate());
        CompressReport report = result.report();
        assertEquals(0.6, report.sparsity(), 0.01, "per-tensor pruning hits the target up to rounding");
        assertTrue(report.nonzero() < report.params());
        assertNotNull(report.maxOutputDiff());
        assertTrue(report.maxOutputDiff() > 0, "pruning 60% of the weights must change the outputs");
        assertEquals(List.of("onnx", "lacuna"), report.outputs().stream().map(CompressReport.Output::format).toList());
        for (CompressReport.Output o : report.outputs()) {
            Path file = out.resolve(o.file());
            assertEquals(Files.size(file), o.sizeBytes());
            assertEquals(Sha256.ofFile(file), o.sha256());
        }
        Model decoded = LacunaFormat.read(out.resolve("lstm_2layer_o17_folded.lacuna"));
        assertEquals(0.6, decoded.sparsity(false).sparsity(), 0.01, "the .lacuna file keeps the zeros as masks");
        assertTrue(Files.size(out.resolve("lstm_2layer_o17_folded.lacuna")) < Files.size(model));
        assertEquals(report, CompressReport.read(result.reportFile()), "the report reads back equal");
        assertTrue(lines.stream().anyMatch(l -> l.contains("ONNX Runtime")), lines.toString());
        assertEquals(Set.of("lstm_2layer_o17_folded.onnx", "lstm_2layer_o17_folded.lacuna",
                "lstm_2layer_o17_folded.compress.json"), names(out));
        assertEquals(Set.of("in", "out"), names(temp), "the staging folder is gone");
    }

    @Test
    void theReportPageShowsTheMeasurementsTheGateAndTheLacunaTensors() throws IOException {
        Path model = copy("gru_o14_folded.onnx");
        Path out = temp.resolve("out");
        CompressResult result = new CompressJob(oneshot(model, out, Set.of(OutputFormat.ONNX, OutputFormat.LACUNA)),
                l -> { }).run();
        Path page = ReportPage.write(result.report(), out, new GateLimits(0.9, null, null, null),
                temp.resolve("site"));
        String text = Files.readString(page);
        assertTrue(text.contains("## Quality gate: FAILED"), text);
        assertTrue(text.matches("(?s).*\\n- sparsity 0\\.\\d+ is below the limit minSparsity = 0\\.9\\n.*"), text);
        assertTrue(text.contains("rnn.weight_hh_l0"), "the .lacuna file by tensor: " + text);
        assertEquals(result.report(), CompressReport.read(temp.resolve("site/gru_o14_folded.compress.json")));
    }

    @Test
    void aSecondRunIsUpToDateUntilAnInputOrSettingChanges() throws IOException {
        Path model = copy("gru_o14_folded.onnx");
        Path out = temp.resolve("out");
        CompressSettings settings = oneshot(model, out, Set.of(OutputFormat.ONNX));
        new CompressJob(settings, l -> { }).run();
        List<String> lines = new ArrayList<>();
        CompressResult second = new CompressJob(settings, lines::add).run();
        assertTrue(second.upToDate());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("up to date")), lines.toString());

        CompressSettings otherSeed = new CompressSettings(model, PruningMethod.ONESHOT, 0.6, null, 0, 8, 0, false,
                Set.of(OutputFormat.ONNX), out);
        assertFalse(new CompressJob(otherSeed, l -> { }).run().upToDate(), "settings are part of the key");

        Files.writeString(out.resolve("gru_o14_folded.onnx"), "tampered");
        assertFalse(new CompressJob(otherSeed, l -> { }).run().upToDate(), "a changed output is rebuilt");
        assertTrue(new CompressJob(otherSeed, l -> { }).run().upToDate());
    }

    @Test
    void theSameInputsGiveTheSameBytes() throws IOException {
        Path model = copy("lstm_o14_folded.onnx");
        Set<OutputFormat> both = Set.of(OutputFormat.ONNX, OutputFormat.LACUNA);
        new CompressJob(oneshot(model, temp.resolve("a"), both), l -> { }).run();
        new CompressJob(oneshot(model, temp.resolve("b"), both), l -> { }).run();
        for (String name : names(temp.resolve("a"))) {
            assertArrayEquals(Files.readAllBytes(temp.resolve("a").resolve(name)),
                    Files.readAllBytes(temp.resolve("b").resolve(name)), name);
        }
    }

    @Test
    void anImportedModelIsExportedAndComparedWithItsDenseExport() throws IOException {
        Path model = copy("lstm_o14_folded.safetensors");
        CompressResult result = new CompressJob(new CompressSettings(model, PruningMethod.ONESHOT, 0.5, null, 0, 1, 4,
                true, Set.of(OutputFormat.ONNX, OutputFormat.LACUNA), temp.resolve("out")), l -> { }).run();
        assertEquals(0.5, result.report().sparsity(), 0.01);
        assertNotNull(result.report().maxOutputDiff());
        assertTrue(result.report().maxOutputDiff() > 0);
        assertEquals(Set.of("lstm_o14_folded.onnx", "lstm_o14_folded.lacuna", "lstm_o14_folded.compress.json"),
                names(temp.resolve("out")));
    }

    @Test
    void badSettingsNameTheSettingAndLeaveNothingBehind() throws IOException {
        Path model = copy("gru_o14_folded.onnx");
        Path out = temp.resolve("out");
        assertEquals("model", assertThrows(InvalidOptionException.class, () -> oneshot(temp.resolve("missing.onnx"),
                out, Set.of(OutputFormat.ONNX))).option());
        assertEquals("targetSparsity", assertThrows(InvalidOptionException.class, () -> new CompressSettings(model,
                PruningMethod.ONESHOT, 1.0, null, 0, 1, 0, false, Set.of(OutputFormat.ONNX), out)).option());
        assertEquals("trainingData", assertThrows(InvalidOptionException.class, () -> new CompressSettings(model,
                PruningMethod.GRADUAL, 0.5, null, 100, 1, 0, false, Set.of(OutputFormat.ONNX), out)).option());
        assertEquals("bits", assertThrows(InvalidOptionException.class, () -> new CompressSettings(model,
                PruningMethod.ONESHOT, 0.5, null, 0, 1, 1, false, Set.of(OutputFormat.ONNX), out)).option());
        assertEquals("formats", assertThrows(InvalidOptionException.class, () -> new CompressSettings(model,
                PruningMethod.ONESHOT, 0.5, null, 0, 1, 0, false, Set.of(), out)).option());
        assertEquals("outputDirectory", assertThrows(InvalidOptionException.class, () -> oneshot(model,
                model.getParent(), Set.of(OutputFormat.ONNX))).option());
        InvalidOptionException method = assertThrows(InvalidOptionException.class,
                () -> CompressSettings.parseMethod("fancy"));
        assertTrue(method.getMessage().contains("oneshot, gradual, agp, han"), method.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aFailingJobLeavesNoFilesInTheOutputDirectory() throws IOException {
        Path in = temp.resolve("in");
        Files.createDirectories(in);
        Path broken = Files.writeString(in.resolve("broken.onnx"), "not a protobuf");
        Path out = temp.resolve("out");
        assertThrows(RuntimeException.class, () -> new CompressJob(oneshot(broken, out, Set.of(OutputFormat.ONNX,
                OutputFormat.LACUNA)), l -> { }).run());
        assertFalse(Files.exists(out) && !names(out).isEmpty());
        assertEquals(Set.of("in"), names(temp), "the staging folder is gone");
    }

    private static Set<String> names(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return Set.copyOf(files.map(p -> p.getFileName().toString()).toList());
        }
    }
}
