package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue #3's key requirement: for every storage variant, cell, stacking, direction and input kind, dense and 90%
 * pruned, ONNX Runtime's outputs equal Lacuna's own forward pass of the same model within 1e-5.
 */
class OnnxExportParityTest {
    private static final double TOLERANCE = 1e-5;
    private static final int TIME = 6;
    private static final int BATCH = 3;
    private static final int VOCAB = 9;

    static Stream<Arguments> architectures() {
        return Stream.of(
                Arguments.of("lstm", arch(CellType.LSTM, 5, 1, false, RnnActivation.TANH, true)),
                Arguments.of("gru lbr=1", arch(CellType.GRU, 5, 1, false, RnnActivation.TANH, true)),
                Arguments.of("gru lbr=0", arch(CellType.GRU, 5, 1, false, RnnActivation.TANH, false)),
                Arguments.of("rnn tanh", arch(CellType.RNN, 5, 1, false, RnnActivation.TANH, true)),
                Arguments.of("rnn relu", arch(CellType.RNN, 5, 1, false, RnnActivation.RELU, true)),
                Arguments.of("lstm 2 layers one-hot", arch(CellType.LSTM, 0, 2, false, RnnActivation.TANH, true)),
                Arguments.of("gru lbr=0 2 layers", arch(CellType.GRU, 4, 2, false, RnnActivation.TANH, false)),
                Arguments.of("rnn relu 2 layers one-hot", arch(CellType.RNN, 0, 2, false, RnnActivation.RELU, true)),
                Arguments.of("lstm bidirectional", arch(CellType.LSTM, 5, 1, true, RnnActivation.TANH, true)),
                Arguments.of("gru lbr=1 bidirectional one-hot", arch(CellType.GRU, 0, 1, true, RnnActivation.TANH,
                        true)),
                Arguments.of("gru lbr=0 bidirectional", arch(CellType.GRU, 4, 1, true, RnnActivation.TANH, false)),
                Arguments.of("rnn tanh bidirectional", arch(CellType.RNN, 4, 1, true, RnnActivation.TANH, true)),
                Arguments.of("rnn relu bidirectional", arch(CellType.RNN, 4, 1, true, RnnActivation.RELU, true)),
                Arguments.of("lstm bidirectional 2 layers", arch(CellType.LSTM, 5, 2, true, RnnActivation.TANH,
                        true)));
    }

    private static Architecture arch(CellType cell, int embed, int layers, boolean bidirectional,
                                     RnnActivation activation, boolean linearBeforeReset) {
        return TestModels.arch(cell, VOCAB, embed, 6, layers, bidirectional, activation, linearBeforeReset);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("architectures")
    void everyStorageMatchesTheJavaForwardPass(String label, Architecture arch) {
        Model dense = TestModels.model(arch, 11);
        Model pruned = TestModels.pruned(dense, 0.9, 12);
        long[] tokens = TestModels.tokens(TIME, BATCH, VOCAB, 13);
        Map<String, NdArray> inputs = Map.of(OnnxExporter.TOKENS, NdArray.ofLongs(new long[] {TIME, BATCH}, tokens));

        for (Model model : List.of(dense, pruned)) {
            TestModels.Reference reference = TestModels.forward(model, tokens, TIME, BATCH);
            Map<SparseMode, Map<String, NdArray>> outputs = new LinkedHashMap<>();
            for (SparseMode mode : SparseMode.values()) {
                Onnx.ModelProto proto = OnnxExporter.export(model, ExportOptions.defaults().withSparse(mode));
                Map<String, NdArray> out = OnnxVerifier.run(proto, inputs);
                outputs.put(mode, out);
                String what = label + (model == dense ? " dense " : " pruned ") + mode.id();
                dumpForTheChecker(what, proto);
                double diff = out.get(OnnxExporter.LOGITS).maxAbsDiff(reference.logits());
                assertTrue(diff <= TOLERANCE, what + ": logits differ from the Java forward pass by " + diff);
                assertStates(what, arch, reference.hidden(), out.get(OnnxExporter.HIDDEN));
                if (arch.cell() == CellType.LSTM) {
                    assertStates(what + " c_n", arch, reference.cell(), out.get(OnnxExporter.CELL));
                }
            }
            // sparse storage rebuilds the exact float32 weights: outputs equal the dense export's bit for bit
            for (SparseMode mode : List.of(SparseMode.INITIALIZER, SparseMode.SCATTER)) {
                for (String name : outputs.get(SparseMode.NONE).keySet()) {
                    assertEquals(0.0, outputs.get(mode).get(name).maxAbsDiff(outputs.get(SparseMode.NONE).get(name)),
                            label + " " + mode.id() + " " + name + " vs dense storage");
                }
            }
        }
    }

    /**
     * With {@code -Dlacuna.onnx.dump=DIR}, every export is also written to DIR, so that {@code tools/check-onnx.sh}
     * can run the ONNX checker (Python, not available on CI) over all variants.
     */
    private static void dumpForTheChecker(String what, Onnx.ModelProto proto) {
        String dump = System.getProperty("lacuna.onnx.dump");
        if (dump != null && !dump.isBlank()) {
            OnnxFiles.write(proto, Path.of(dump, what.replaceAll("[^A-Za-z0-9=]+", "_") + ".onnx"));
        }
    }

    /** h_n [layers·dirs, batch, hidden]: the left-to-right entries against Lacuna's carried state. */
    private static void assertStates(String what, Architecture arch, float[][][] want, NdArray got) {
        int dirs = arch.directions();
        int h = arch.hiddenSize();
        assertArrayEquals(new long[] {(long) arch.layers() * dirs, BATCH, h}, got.shape(), what + ": state shape");
        for (int l = 0; l < arch.layers(); l++) {
            for (int b = 0; b < BATCH; b++) {
                for (int j = 0; j < h; j++) {
                    double g = got.floats()[((l * dirs) * BATCH + b) * h + j];
                    assertEquals(want[l][b][j], g, TOLERANCE, what + ": state of layer " + l + " row " + b);
                }
            }
        }
    }

    /**
     * Lacuna carries no right-to-left state, so the reverse half of h_n is checked another way: a one-layer
     * right-to-left pass equals a left-to-right pass with the reverse weights over the reversed sequence.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("architectures")
    void reverseFinalStateEqualsAForwardPassOverTheReversedSequence(String label, Architecture arch) {
        if (!arch.bidirectional() || arch.layers() != 1) {
            return;
        }
        Model model = TestModels.pruned(TestModels.model(arch, 21), 0.5, 22);
        long[] tokens = TestModels.tokens(TIME, BATCH, VOCAB, 23);
        Map<String, NdArray> out = OnnxVerifier.run(OnnxExporter.export(model, ExportOptions.defaults()),
                Map.of(OnnxExporter.TOKENS, NdArray.ofLongs(new long[] {TIME, BATCH}, tokens)));

        Architecture forwardOnly = new Architecture(arch.cell(), arch.vocabSize(), arch.embedDim(),
                arch.hiddenSize(), 1, false, arch.activation(), arch.linearBeforeReset());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var spec : forwardOnly.tensors()) {
            String source = spec.name().startsWith("rnn.") ? spec.name() + "_reverse" : spec.name();
            tensors.put(spec.name(), spec.name().startsWith("head.")
                    ? Tensor.zeros(spec.name(), spec.shape())
                    : new Tensor(spec.name(), spec.shape(), model.tensor(source).data().clone()));
        }
        Model reverse = new Model(forwardOnly, model.vocabulary(), tensors);
        long[] reversed = new long[tokens.length];
        for (int t = 0; t < TIME; t++) {
            System.arraycopy(tokens, (TIME - 1 - t) * BATCH, reversed, t * BATCH, BATCH);
        }
        TestModels.Reference ref = TestModels.forward(reverse, reversed, TIME, BATCH);
        int h = arch.hiddenSize();
        NdArray hn = out.get(OnnxExporter.HIDDEN);
        for (int b = 0; b < BATCH; b++) {
            for (int j = 0; j < h; j++) {
                assertEquals(ref.hidden()[0][b][j], hn.floats()[(BATCH + b) * h + j], TOLERANCE,
                        label + ": right-to-left final state row " + b);
                if (arch.cell() == CellType.LSTM) {
                    assertEquals(ref.cell()[0][b][j], out.get(OnnxExporter.CELL).floats()[(BATCH + b) * h + j],
                            TOLERANCE, label + ": right-to-left final cell row " + b);
                }
            }
        }
    }
}
