package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Model;
import dev.lacuna.onnx.OnnxImporter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code prune --method oneshot} on an ONNX file: no training data, weights pruned in place, graph kept. */
class PruneOnnxTest {
    private static final Path CASE = Path.of("..", "..", "testdata", "onnx", "lstm_2layer_o17_folded.onnx");

    @TempDir
    Path dir;

    @Test
    void prunesAnOnnxModelWithoutData() throws Exception {
        Path out = dir.resolve("pruned.onnx");
        CliRun run = CliRun.of("prune", "--model", CASE.toString(), "--method", "oneshot", "--target-sparsity", "0.8",
                "--out", out.toString(), "--json");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode report = new ObjectMapper().readTree(run.out());
        assertEquals(0.8, report.get("sparsity").asDouble(), 0.01);
        assertTrue(report.get("per_tensor").size() >= 5, run.out());

        Model before = OnnxImporter.read(CASE);
        Model after = OnnxImporter.read(out);
        assertEquals(before.architecture(), after.architecture());
        float[] w = after.tensors().get("rnn.weight_hh_l1").data();
        long zeros = 0;
        for (float v : w) {
            zeros += v == 0f ? 1 : 0;
        }
        assertEquals(0.8, (double) zeros / w.length, 0.01);
    }

    @Test
    void sparseStorageIsChosenPerTensorAndReported() throws Exception {
        Path sparse = dir.resolve("sparse.onnx");
        Path dense = dir.resolve("dense.onnx");
        CliRun run = CliRun.of("prune", "--model", CASE.toString(), "--method", "oneshot", "--target-sparsity", "0.8",
                "--out", sparse.toString(), "--json");
        CliRun none = CliRun.of("prune", "--model", CASE.toString(), "--method", "oneshot", "--target-sparsity",
                "0.8", "--sparse", "none", "--out", dense.toString(), "--json");
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(0, none.exitCode(), none.toString());
        JsonNode report = new ObjectMapper().readTree(run.out());
        boolean anyScatter = false;
        for (JsonNode t : report.get("per_tensor")) {
            anyScatter |= t.get("storage").asText().equals("scatter");
            assertTrue(t.get("bytes").asLong() <= t.get("bytes_dense").asLong(), t.toString());
        }
        assertTrue(anyScatter, run.out());
        assertTrue(report.get("weight_bytes").asLong() < report.get("weight_bytes_dense").asLong());
        assertTrue(Files.size(sparse) < Files.size(dense));
        JsonNode dense0 = new ObjectMapper().readTree(none.out());
        dense0.get("per_tensor").forEach(t -> assertEquals("none", t.get("storage").asText()));
    }

    @Test
    void sparseStorageOptionIsValidated() {
        CliRun unknown = CliRun.of("prune", "--model", CASE.toString(), "--method", "oneshot", "--target-sparsity",
                "0.8", "--sparse", "zip", "--out", dir.resolve("x.onnx").toString());
        assertEquals(2, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.err().contains("--sparse"), unknown.err());
        CliRun training = CliRun.of("prune", "--model", CASE.toString(), "--method", "gradual", "--target-sparsity",
                "0.8", "--sparse", "scatter", "--out", dir.resolve("y.onnx").toString());
        assertEquals(2, training.exitCode(), training.toString());
        assertTrue(training.err().contains("--sparse"), training.err());
    }

    @Test
    void oneshotOnAnOnnxModelMustWriteOnnx() {
        Path out = dir.resolve("pruned.safetensors");
        CliRun run = CliRun.of("prune", "--model", CASE.toString(), "--method", "oneshot", "--target-sparsity", "0.8",
                "--out", out.toString());
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains("--out"), run.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void methodsThatTrainStillNeedData() {
        CliRun run = CliRun.of("prune", "--model", CASE.toString(), "--method", "gradual", "--target-sparsity", "0.8",
                "--steps", "10", "--out", dir.resolve("x.onnx").toString());
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains("--data"), run.err());
    }
}
