package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two jars {@code package} builds, run as users run them ({@code java -jar}), after packaging (failsafe). Issue
 * #3 item 8: ONNX Runtime's natives for linux-x64 only, and a runnable jar of at most 30 MB; lacuna-lite.jar is that
 * jar, with every command that needs no training.
 */
class RunnableJarsIT {
    private static final Path TARGET = Path.of("target");
    private static final Path FULL = TARGET.resolve("lacuna.jar");
    private static final Path LITE = TARGET.resolve("lacuna-lite.jar");
    private static final long LITE_LIMIT_BYTES = 30_000_000;
    private static final Path ONNX_CASE = Path.of("..", "..", "testdata", "onnx", "lstm_2layer_o17_folded.onnx");
    private static final Path DEMO = Path.of("..", "..", "testdata", "demo", "lstm-dense.safetensors");

    @TempDir
    Path dir;

    @Test
    void bothJarsCarryOnlyTheLinuxX64NativesOfOnnxRuntime() throws IOException {
        for (Path jar : List.of(FULL, LITE)) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                List<String> natives = zip.stream().map(e -> e.getName())
                        .filter(n -> n.startsWith("ai/onnxruntime/native/") && !n.endsWith("/")).toList();
                assertTrue(natives.stream().anyMatch(n -> n.startsWith("ai/onnxruntime/native/linux-x64/")),
                        jar + ": " + natives);
                assertTrue(natives.stream().allMatch(n -> n.startsWith("ai/onnxruntime/native/linux-x64/")),
                        jar + ": " + natives);
            }
        }
    }

    @Test
    void liteJarIsSmallAndLeavesOutTheTrainingEngine() throws IOException {
        long size = Files.size(LITE);
        assertTrue(size <= LITE_LIMIT_BYTES, LITE + " is " + size + " bytes");
        try (ZipFile zip = new ZipFile(LITE.toFile())) {
            assertFalse(zip.stream().anyMatch(e -> e.getName().startsWith("org/nd4j/")
                    || e.getName().startsWith("org/bytedeco/")), "ND4J classes or natives in " + LITE);
        }
    }

    @Test
    void liteJarImportsPrunesExportsVerifiesAndRuns() throws Exception {
        Path pruned = dir.resolve("pruned.onnx");
        Path npz = dir.resolve("pruned.npz");
        Path scatter = dir.resolve("scatter.onnx");
        Path dense = dir.resolve("dense.onnx");
        run(0, "prune", "--model", ONNX_CASE.toString(), "--method", "oneshot", "--target-sparsity", "0.8", "--out",
                pruned.toString());
        run(0, "convert", pruned.toString(), npz.toString());
        run(0, "convert", npz.toString(), scatter.toString(), "--sparse", "scatter");
        run(0, "convert", npz.toString(), dense.toString(), "--sparse", "none");
        // ONNX Runtime, loaded from the lite jar, gives the same outputs for both storages of the pruned weights
        Printed verified = run(0, "verify", scatter.toString(), "--against", dense.toString(), "--json");
        double diff = new ObjectMapper().readTree(verified.out()).get("max_abs_diff").asDouble(Double.NaN);
        assertTrue(diff <= 1e-5, verified.toString());
        Printed scored = run(0, "run", DEMO.toString(), "--text", "Call me Ishmael");
        assertTrue(scored.out().contains("bits per character"), scored.toString());
    }

    @Test
    void liteJarRefusesTrainingInOneLine() throws Exception {
        Path corpus = Files.writeString(dir.resolve("text.txt"), "call me ishmael. ".repeat(200));
        Printed refused = run(1, "train", "--cell", "rnn", "--layers", "1", "--hidden", "8", "--steps", "2", "--data",
                corpus.toString(), "--out", dir.resolve("t.safetensors").toString());
        assertEquals("lacuna: lacuna train needs the training engine (ND4J), which lacuna-lite.jar leaves out; run it"
                + " with lacuna.jar", refused.err().strip(), refused.toString());
    }

    /** Runs {@code java -jar lacuna-lite.jar args}, checks the exit code, returns what it printed. */
    private Printed run(int expectedExit, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx1g", "-jar", LITE.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "lite", ".out");
        Path err = Files.createTempFile(dir, "lite", ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "lite jar did not finish: " + command);
        Printed printed = new Printed(Files.readString(out), Files.readString(err));
        assertEquals(expectedExit, p.exitValue(), String.join(" ", args) + "\n" + printed);
        return printed;
    }

    private record Printed(String out, String err) {
    }
}
