package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.onnx.ExportOptions;
import dev.lacuna.onnx.NdArray;
import dev.lacuna.onnx.Npy;
import dev.lacuna.onnx.OnnxExporter;
import dev.lacuna.onnx.OnnxVerifier;
import dev.lacuna.onnx.SparseMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path dense;
    Path scatter;
    Path initializer;

    @BeforeEach
    void setUp() {
        Architecture arch = new Architecture(CellType.GRU, 10, 0, 16, 1, true, RnnActivation.TANH, false);
        Model model = Model.initialize(arch, Vocabulary.of("0123456789"), 1);
        SplittableRandom random = new SplittableRandom(2);
        for (TensorSpec spec : model.prunable(false)) {
            boolean[] keep = new boolean[(int) spec.elementCount()];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = random.nextDouble() < 0.1;
            }
            model.setMask(spec.name(), keep);
        }
        dense = dir.resolve("dense.onnx");
        scatter = dir.resolve("scatter.onnx");
        initializer = dir.resolve("initializer.onnx");
        OnnxExporter.write(model, dense, ExportOptions.defaults().withSparse(SparseMode.NONE));
        OnnxExporter.write(model, scatter, ExportOptions.defaults().withSparse(SparseMode.SCATTER));
        OnnxExporter.write(model, initializer, ExportOptions.defaults().withSparse(SparseMode.INITIALIZER));
    }

    @Test
    void sparseExportsAgreeExactlyWithTheDenseExport() throws Exception {
        for (Path sparse : new Path[] {scatter, initializer}) {
            CliRun run = CliRun.of("verify", sparse.toString(), "--against", dense.toString(), "--json",
                    "--dim", "time=12", "--seed", "5", "--tolerance", "0");
            assertEquals(0, run.exitCode(), run::toString);
            JsonNode r = JSON.readTree(run.out());
            assertEquals(0.0, r.get("max_abs_diff").asDouble());
            assertEquals("random", r.get("inputs").get("tokens").get("source").asText());
            assertEquals(12, r.get("inputs").get("tokens").get("shape").get(0).asInt());
            assertEquals(10, r.get("outputs").get("logits").get("shape").get(2).asInt());
            assertEquals("reference", r.get("outputs").get("h_n").get("compared_with").asText());
        }
        CliRun text = CliRun.of("verify", scatter.toString(), "--against", dense.toString());
        assertEquals(0, text.exitCode(), text::toString);
        assertTrue(text.out().contains("max abs diff 0.0"), text::toString);
    }

    @Test
    void expectedArraysFromFilesAndTheTolerance() throws Exception {
        Path tokens = dir.resolve("tokens.npy");
        NdArray ids = NdArray.ofLongs(new long[] {5, 2}, new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 0});
        Npy.write(tokens, ids);
        NdArray logits = OnnxVerifier.run(dense, Map.of("tokens", ids)).get("logits");
        Path expected = dir.resolve("logits.npy");
        Npy.write(expected, logits);
        CliRun ok = CliRun.of("verify", scatter.toString(), "--input", "tokens=" + tokens, "--expect",
                "logits=" + expected, "--json");
        assertEquals(0, ok.exitCode(), ok::toString);
        JsonNode r = JSON.readTree(ok.out());
        assertEquals(0.0, r.get("outputs").get("logits").get("max_abs_diff").asDouble());
        assertTrue(r.get("outputs").get("h_n").get("max_abs_diff").isNull());
        assertEquals(tokens.toString(), r.get("inputs").get("tokens").get("source").asText());

        float[] off = logits.floats().clone();
        off[0] += 0.25f;
        Npy.write(expected, NdArray.ofFloats(logits.shape(), off));
        CliRun fails = CliRun.of("verify", scatter.toString(), "--input", "tokens=" + tokens, "--expect",
                "logits=" + expected, "--tolerance", "1e-5");
        assertEquals(1, fails.exitCode(), fails::toString);
        assertTrue(fails.out().contains("max abs diff 0.2499"), fails::toString);
        assertTrue(fails.errLines()[0].contains("exceeds the tolerance"), fails::toString);
    }

    @Test
    void badInputsAreNamed() throws Exception {
        Path garbage = Files.write(dir.resolve("garbage.onnx"), new byte[] {1, 2, 3});
        expectFailure(3, "garbage.onnx", "verify", garbage.toString());
        Path notNpy = Files.write(dir.resolve("tokens.npy"), new byte[] {1, 2, 3});
        expectFailure(3, "tokens.npy", "verify", scatter.toString(), "--input", "tokens=" + notNpy);
        expectFailure(2, "--dim", "verify", scatter.toString(), "--dim", "time=0");
        expectFailure(2, "--expect", "verify", scatter.toString(), "--expect", "probs=" + notNpy.resolveSibling(
                writeFloats()));
        expectFailure(3, "missing.onnx", "verify", scatter.toString(), "--against",
                dir.resolve("missing.onnx").toString());
    }

    private String writeFloats() {
        Path f = dir.resolve("one.npy");
        Npy.write(f, NdArray.ofFloats(new long[] {1}, new float[] {1}));
        return f.getFileName().toString();
    }

    private static void expectFailure(int code, String named, String... args) {
        CliRun run = CliRun.of(args);
        assertEquals(code, run.exitCode(), run::toString);
        assertEquals(1, run.errLines().length, run::toString);
        assertTrue(run.errLines()[0].contains(named), run::toString);
    }
}
