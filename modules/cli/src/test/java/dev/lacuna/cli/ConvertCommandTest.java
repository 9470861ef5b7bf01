package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path dense;
    Path pruned;
    Model prunedModel;

    @BeforeEach
    void setUp() {
        Architecture arch = new Architecture(CellType.LSTM, 20, 8, 32, 2, false, RnnActivation.TANH, true);
        Model model = Model.initialize(arch, Vocabulary.of("abcdefghijklmnopqrst"), 1);
        model.metadata().put("lacuna.method", "test");
        dense = dir.resolve("dense.safetensors");
        ModelCheckpoint.save(model, dense);
        SplittableRandom random = new SplittableRandom(2);
        for (TensorSpec spec : model.prunable(false)) {
            boolean[] keep = new boolean[(int) spec.elementCount()];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = random.nextDouble() < 0.1;
            }
            model.setMask(spec.name(), keep);
        }
        model.applyMasks();
        prunedModel = model;
        pruned = dir.resolve("pruned.safetensors");
        ModelCheckpoint.save(model, pruned);
    }

    @Test
    void prunedCheckpointsBecomeSmallScatterExportsByDefault() throws Exception {
        Path denseOnnx = dir.resolve("dense.onnx");
        CliRun d = CliRun.of("convert", dense.toString(), denseOnnx.toString());
        assertEquals(0, d.exitCode(), d::toString);
        assertTrue(d.out().contains("none storage: 0 of"), d::toString);

        Path sparseOnnx = dir.resolve("pruned.onnx");
        CliRun run = CliRun.of("convert", pruned.toString(), sparseOnnx.toString(), "--json");
        assertEquals(0, run.exitCode(), run::toString);
        JsonNode result = JSON.readTree(run.out());
        assertEquals("scatter", result.get("sparse").asText());
        assertEquals(Files.size(sparseOnnx), result.get("bytes").asLong());
        assertTrue(Files.size(sparseOnnx) < 0.3 * Files.size(denseOnnx),
                Files.size(sparseOnnx) + " vs dense " + Files.size(denseOnnx));
        int sparse = 0;
        for (JsonNode t : result.get("tensors")) {
            sparse += t.get("storage").asText().equals("scatter") ? 1 : 0;
        }
        assertTrue(sparse >= 4, "the recurrent matrices and the head are stored sparse: " + run.out());
    }

    @Test
    void onnxConvertsBackToTheSameCheckpoint() {
        Path onnx = dir.resolve("model.onnx");
        assertEquals(0, CliRun.of("convert", pruned.toString(), onnx.toString(), "--sparse", "none").exitCode());
        Path back = dir.resolve("back.safetensors");
        CliRun run = CliRun.of("convert", onnx.toString(), back.toString());
        assertEquals(0, run.exitCode(), run::toString);
        Model read = ModelCheckpoint.load(back);
        assertEquals(prunedModel.architecture(), read.architecture());
        assertEquals(prunedModel.vocabulary(), read.vocabulary());
        for (String name : prunedModel.tensors().keySet()) {
            assertArrayEquals(prunedModel.tensor(name).data(), read.tensor(name).data(), name);
        }
    }

    @Test
    void badOptionsAndFilesAreNamedAndWriteNothing() throws Exception {
        Path out = dir.resolve("out.onnx");
        expectFailure(2, "--sparse", "convert", pruned.toString(), out.toString(), "--sparse", "zip");
        expectFailure(2, "--opset", "convert", pruned.toString(), out.toString(), "--opset", "30");
        expectFailure(2, "--sparse", "convert", pruned.toString(), dir.resolve("o.safetensors").toString(),
                "--sparse", "scatter");
        expectFailure(2, "out.bin", "convert", pruned.toString(), dir.resolve("out.bin").toString());
        expectFailure(3, "missing.safetensors", "convert", dir.resolve("missing.safetensors").toString(),
                out.toString());
        Path garbage = Files.write(dir.resolve("garbage.onnx"), new byte[] {9, 9, 9, 9});
        expectFailure(3, "garbage.onnx", "convert", garbage.toString(), dir.resolve("g.safetensors").toString());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("g.safetensors")));
    }

    private static void expectFailure(int code, String named, String... args) {
        CliRun run = CliRun.of(args);
        assertEquals(code, run.exitCode(), run::toString);
        assertEquals(1, run.errLines().length, run::toString);
        assertTrue(run.errLines()[0].contains(named), run::toString);
    }
}
