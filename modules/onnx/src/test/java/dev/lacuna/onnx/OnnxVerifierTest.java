package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxVerifierTest {
    private static final int VOCAB = 11;

    @TempDir
    Path dir;

    private Path export(Model model, SparseMode mode) {
        Path file = dir.resolve(mode.id() + "-" + model.architecture().embedDim() + ".onnx");
        OnnxExporter.write(model, file, ExportOptions.defaults().withSparse(mode));
        return file;
    }

    private static Model pruned(int embed) {
        Architecture arch = TestModels.arch(CellType.GRU, VOCAB, embed, 7, 1, false, RnnActivation.TANH, true);
        return TestModels.pruned(TestModels.model(arch, 1), 0.9, 2);
    }

    @Test
    void randomTokensStayInsideTheVocabularyWhateverTheStorage() {
        for (int embed : new int[] {0, 6}) {
            for (SparseMode mode : SparseMode.values()) {
                Path file = export(pruned(embed), mode);
                OnnxVerifier.Options options = new OnnxVerifier.Options(null, Map.of(), Map.of(),
                        Map.of("time", 50L, "batch", 3L), 7);
                OnnxVerifier.Verification v = OnnxVerifier.verify(file, options);
                NdArray tokens = v.inputs().get(OnnxExporter.TOKENS);
                assertArrayEquals(new long[] {50, 3}, tokens.shape());
                long max = 0;
                for (long id : tokens.longs()) {
                    assertTrue(id >= 0 && id < VOCAB, "token " + id);
                    max = Math.max(max, id);
                }
                assertEquals(VOCAB - 1, max, "150 draws reach the last id");
                assertEquals(Set.of(OnnxExporter.TOKENS), v.randomInputs());
                assertNull(v.maxAbsDiff(), "nothing to compare with");
                assertArrayEquals(new long[] {50, 3, VOCAB}, v.outputs().get(OnnxExporter.LOGITS).shape());
            }
        }
    }

    @Test
    void sameSeedSameInputs() {
        Path file = export(pruned(6), SparseMode.SCATTER);
        NdArray a = OnnxVerifier.verify(file, OnnxVerifier.Options.defaults()).inputs().get(OnnxExporter.TOKENS);
        NdArray b = OnnxVerifier.verify(file, OnnxVerifier.Options.defaults()).inputs().get(OnnxExporter.TOKENS);
        assertArrayEquals(a.longs(), b.longs());
        assertArrayEquals(new long[] {OnnxVerifier.DEFAULT_DIMENSION, OnnxVerifier.DEFAULT_DIMENSION}, a.shape());
    }

    @Test
    void sparseExportsMatchTheDenseExportExactly() {
        Model model = pruned(6);
        Path dense = export(model, SparseMode.NONE);
        for (SparseMode mode : new SparseMode[] {SparseMode.INITIALIZER, SparseMode.SCATTER}) {
            OnnxVerifier.Verification v = OnnxVerifier.verify(export(model, mode),
                    new OnnxVerifier.Options(dense, Map.of(), Map.of(), Map.of(), 3));
            assertEquals(0.0, v.maxAbsDiff(), mode.id());
            assertEquals("reference", v.outputs().get(OnnxExporter.HIDDEN).comparedWith());
        }
    }

    @Test
    void expectedOutputsFromNpyFilesAreCompared() {
        Model model = pruned(6);
        Path file = export(model, SparseMode.SCATTER);
        long[] ids = TestModels.tokens(5, 2, VOCAB, 4);
        Path tokens = dir.resolve("tokens.npy");
        Npy.write(tokens, NdArray.ofLongs(new long[] {5, 2}, ids));
        Path logits = dir.resolve("logits.npy");
        NdArray want = TestModels.forward(model, ids, 5, 2).logits();
        Npy.write(logits, want);
        OnnxVerifier.Verification v = OnnxVerifier.verify(file, new OnnxVerifier.Options(null,
                Map.of(OnnxExporter.TOKENS, Npy.read(tokens)), Map.of(OnnxExporter.LOGITS, Npy.read(logits)),
                Map.of(), 1));
        assertTrue(v.maxAbsDiff() <= 1e-5, "diff " + v.maxAbsDiff());
        assertNull(v.outputs().get(OnnxExporter.HIDDEN).maxAbsDiff(), "h_n had nothing to compare with");

        // a wrong expectation shows as a difference, not a pass
        float[] off = want.floats().clone();
        off[3] += 0.5f;
        OnnxVerifier.Verification wrong = OnnxVerifier.verify(file, new OnnxVerifier.Options(null,
                Map.of(OnnxExporter.TOKENS, Npy.read(tokens)),
                Map.of(OnnxExporter.LOGITS, NdArray.ofFloats(want.shape(), off)), Map.of(), 1));
        assertEquals(0.5, wrong.maxAbsDiff(), 1e-5);
    }

    @Test
    void misfitOptionsAreNamed() {
        Path file = export(pruned(6), SparseMode.NONE);
        NdArray logits = NdArray.ofFloats(new long[] {1}, new float[1]);
        InvalidOptionException noSuchOutput = assertThrows(InvalidOptionException.class, () -> OnnxVerifier.verify(
                file, new OnnxVerifier.Options(null, Map.of(), Map.of("probs", logits), Map.of(), 1)));
        assertTrue(noSuchOutput.getMessage().contains("--expect"), noSuchOutput.getMessage());
        InvalidOptionException wrongShape = assertThrows(InvalidOptionException.class, () -> OnnxVerifier.verify(
                file, new OnnxVerifier.Options(null, Map.of(), Map.of(OnnxExporter.LOGITS, logits), Map.of(), 1)));
        assertTrue(wrongShape.getMessage().contains("shape"), wrongShape.getMessage());
        InvalidOptionException noSuchInput = assertThrows(InvalidOptionException.class, () -> OnnxVerifier.verify(
                file, new OnnxVerifier.Options(null, Map.of("ids", logits), Map.of(), Map.of(), 1)));
        assertTrue(noSuchInput.getMessage().contains("ids"), noSuchInput.getMessage());
        InvalidOptionException floatTokens = assertThrows(InvalidOptionException.class, () -> OnnxVerifier.verify(
                file, new OnnxVerifier.Options(null, Map.of(OnnxExporter.TOKENS, logits), Map.of(), Map.of(), 1)));
        assertTrue(floatTokens.getMessage().contains("int64"), floatTokens.getMessage());
    }

    @Test
    void garbageModelsAreBadFiles() throws IOException {
        Path garbage = Files.write(dir.resolve("garbage.onnx"), new byte[] {1, 2, 3, 4, 5, 6, 7});
        BadFileException e = assertThrows(BadFileException.class,
                () -> OnnxVerifier.verify(garbage, OnnxVerifier.Options.defaults()));
        assertTrue(e.getMessage().contains("garbage.onnx"), e.getMessage());
        Path missing = dir.resolve("missing.onnx");
        assertThrows(BadFileException.class, () -> OnnxVerifier.verify(missing, OnnxVerifier.Options.defaults()));
        Path valid = export(pruned(6), SparseMode.SCATTER);
        byte[] bytes = Files.readAllBytes(valid);
        Path truncated = Files.write(dir.resolve("truncated.onnx"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        BadFileException t = assertThrows(BadFileException.class,
                () -> OnnxVerifier.verify(truncated, OnnxVerifier.Options.defaults()));
        assertTrue(t.getMessage().contains("truncated.onnx"), t.getMessage());
    }
}
