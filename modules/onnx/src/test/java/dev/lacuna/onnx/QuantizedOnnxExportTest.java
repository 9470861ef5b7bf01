package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.io.format.EncodingOptions;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue #4 item 5: a quantized model (read back from a {@code .lacuna} file) exported with scatter storage keeps
 * its weights as codebook + narrow codes + narrow position gaps, standard operators rebuild them bit-exactly, and
 * ONNX Runtime's outputs equal Lacuna's forward pass of the quantized model.
 */
class QuantizedOnnxExportTest {
    private static final double TOLERANCE = 1e-5;
    private static final int TIME = 5;
    private static final int BATCH = 2;
    private static final int VOCAB = 11;

    static Stream<Arguments> quantizedModels() {
        return Stream.of(
                Arguments.of("lstm 5-bit per gate", arch(CellType.LSTM, 6, 1, false), 5, true),
                Arguments.of("lstm 2-bit per tensor", arch(CellType.LSTM, 6, 1, false), 2, false),
                Arguments.of("gru 8-bit per gate", arch(CellType.GRU, 6, 1, false, 96), 8, true),
                Arguments.of("gru 3-bit per tensor", arch(CellType.GRU, 0, 1, false), 3, false),
                Arguments.of("rnn 4-bit per gate", arch(CellType.RNN, 6, 1, false), 4, true),
                Arguments.of("lstm 2 layers 6-bit per tensor", arch(CellType.LSTM, 6, 2, false), 6, false),
                Arguments.of("lstm bidirectional 8-bit per gate", arch(CellType.LSTM, 6, 1, true, 96), 8, true),
                Arguments.of("gru bidirectional 2 layers 5-bit per tensor", arch(CellType.GRU, 0, 2, true), 5,
                        false),
                Arguments.of("rnn bidirectional 7-bit per gate", arch(CellType.RNN, 6, 1, true), 7, true));
    }

    private static Architecture arch(CellType cell, int embed, int layers, boolean bidirectional) {
        return arch(cell, embed, layers, bidirectional, 48);
    }

    private static Architecture arch(CellType cell, int embed, int layers, boolean bidirectional, int hidden) {
        return TestModels.arch(cell, VOCAB, embed, hidden, layers, bidirectional, RnnActivation.TANH, true);
    }

    private static Model quantized(Model model, int bits, boolean perGate) {
        return LacunaFormat.encode(model, EncodingOptions.quantized(bits).withPerGateCodebooks(perGate)).decoded();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("quantizedModels")
    void ortOutputsEqualTheJavaForwardPassOfTheQuantizedModel(String label, Architecture arch, int bits,
                                                              boolean perGate) {
        Model model = quantized(TestModels.pruned(TestModels.model(arch, 31), 0.8, 32), bits, perGate);
        long[] tokens = TestModels.tokens(TIME, BATCH, VOCAB, 33);
        Map<String, NdArray> inputs = Map.of(OnnxExporter.TOKENS, NdArray.ofLongs(new long[] {TIME, BATCH}, tokens));

        ExportOptions scatter = ExportOptions.defaults().withSparse(SparseMode.SCATTER);
        ExportReport report = OnnxExporter.report(model, scatter);
        assertTrue(report.tensors().stream().anyMatch(t -> t.codebook() > 0),
                label + ": no tensor took the codebook storage: " + report.tensors());

        Onnx.ModelProto proto = OnnxExporter.export(model, scatter);
        dumpForTheChecker(label, proto);
        Map<String, NdArray> out = OnnxVerifier.run(proto, inputs);
        TestModels.Reference reference = TestModels.forward(model, tokens, TIME, BATCH);
        double diff = out.get(OnnxExporter.LOGITS).maxAbsDiff(reference.logits());
        assertTrue(diff <= TOLERANCE, label + ": logits differ from the Java forward pass by " + diff);

        // the rebuilt weights are bit-identical, so the outputs equal the dense export's exactly
        Map<String, NdArray> dense = OnnxVerifier.run(
                OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.NONE)), inputs);
        for (String name : dense.keySet()) {
            assertEquals(0.0, out.get(name).maxAbsDiff(dense.get(name)), label + " " + name + " vs dense storage");
        }
    }

    @Test
    void theCodebookFormDensifiesBackToTheDenseExportAndReimportsExactly() {
        Architecture arch = arch(CellType.LSTM, 6, 2, true);
        Model model = quantized(TestModels.pruned(TestModels.model(arch, 91), 0.85, 92), 4, true);
        Onnx.ModelProto compact = OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.SCATTER));
        assertTrue(compact.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("CumSum")));
        Onnx.GraphProto dense = OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.NONE))
                .getGraph();
        Path file = Path.of("quantized.onnx");
        Onnx.GraphProto densified = SparseDensifier.densify(compact.getGraph(), file);
        assertEquals(dense.getNodeList().stream().map(Onnx.NodeProto::getOpType).toList(),
                densified.getNodeList().stream().map(Onnx.NodeProto::getOpType).toList());
        Map<String, Onnx.TensorProto> want = new HashMap<>();
        dense.getInitializerList().forEach(t -> want.put(t.getName(), t));
        Map<String, Onnx.TensorProto> got = new HashMap<>();
        densified.getInitializerList().forEach(t -> got.put(t.getName(), t));
        assertEquals(want.keySet(), got.keySet(), "no leftover codebooks, codes, gaps or shift tables");
        for (String name : want.keySet()) {
            assertEquals(want.get(name).getDimsList(), got.get(name).getDimsList(), name);
            if (want.get(name).getDataType() == OnnxTensors.FLOAT) {
                assertBitIdentical(name, OnnxTensors.toFloats(want.get(name), file),
                        OnnxTensors.toFloats(got.get(name), file));
            }
        }
        Model reimported = OnnxImporter.fromProto(compact, file);
        for (var spec : model.specs()) {
            assertBitIdentical(spec.name(), model.tensor(spec.name()).data(), reimported.tensor(spec.name()).data());
        }
    }

    @Test
    void aCodeOutsideTheCodebookIsABadFileNamingTheNode() {
        Model model = quantized(TestModels.pruned(TestModels.model(arch(CellType.GRU, 6, 1, false), 95), 0.8, 96),
                3, false);
        Onnx.ModelProto compact = OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.SCATTER));
        Onnx.GraphProto.Builder graph = compact.getGraph().toBuilder();
        int index = -1;
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            if (graph.getInitializer(i).getName().endsWith(".codebook")) {
                index = i;
            }
        }
        assertTrue(index >= 0, "no codebook in the export");
        Onnx.TensorProto codebook = graph.getInitializer(index);
        // a one-entry codebook: every code above 0 now points past its end
        graph.setInitializer(index, OnnxTensors.toProto(codebook.getName(), new long[] {1}, new float[] {1f}));
        Onnx.ModelProto broken = compact.toBuilder().setGraph(graph).build();
        Path file = Path.of("broken.onnx");
        BadFileException e = assertThrows(BadFileException.class, () -> OnnxImporter.fromProto(broken, file));
        assertTrue(e.getMessage().contains("broken.onnx") && e.getMessage().contains("outside a table of 1"),
                e.getMessage());
    }

    @Test
    void aModelWithManyDistinctValuesIsNotStoredAsACodebook() {
        Model pruned = TestModels.pruned(TestModels.model(arch(CellType.LSTM, 6, 1, false), 41), 0.9, 42);
        ExportReport report = OnnxExporter.report(pruned, ExportOptions.defaults().withSparse(SparseMode.SCATTER));
        assertTrue(report.tensors().stream().allMatch(t -> t.codebook() == 0), report.tensors().toString());
    }

    @Test
    void ninetyPercentSparseFiveBitModelIsAtLeastFifteenTimesSmallerThanDense() {
        Architecture arch = TestModels.arch(CellType.LSTM, 64, 32, 128, 2, false, RnnActivation.TANH, true);
        Model model = quantized(TestModels.pruned(TestModels.model(arch, 51), 0.9, 52), 5, true);
        long dense = OnnxExporter.report(model, ExportOptions.defaults().withSparse(SparseMode.NONE)).bytes();
        long plainScatter = OnnxExporter.report(TestModels.pruned(TestModels.model(arch, 51), 0.9, 52),
                ExportOptions.defaults().withSparse(SparseMode.SCATTER)).bytes();
        long compact = OnnxExporter.report(model, ExportOptions.defaults().withSparse(SparseMode.SCATTER)).bytes();
        double ratio = (double) dense / compact;
        assertTrue(ratio >= 15, "dense " + dense + " bytes, quantized scatter " + compact + " bytes: only "
                + ratio + "x " + OnnxExporter.report(model, ExportOptions.defaults().withSparse(SparseMode.SCATTER)));
        assertTrue(compact * 2 < plainScatter, "codebook storage " + compact + " vs plain scatter " + plainScatter);
    }

    // ------------------------------------------------------------------ single tensors, rebuilt by ONNX Runtime

    static Stream<Arguments> tensors() {
        return Stream.of(
                Arguments.of("one value, short gaps", random(4_000, 0.3, 1, 1)),
                Arguments.of("two values", random(4_000, 0.1, 2, 2)),
                Arguments.of("32 values (5-bit codes)", random(20_000, 0.1, 32, 3)),
                Arguments.of("256 values (8-bit codes)", random(30_000, 0.1, 256, 4)),
                Arguments.of("257 values (9-bit codes)", random(30_000, 0.1, 257, 5)),
                Arguments.of("2000 values (11-bit codes)", random(60_000, 0.5, 2_000, 6)),
                Arguments.of("dense, 16 values", random(10_000, 1.0, 16, 7)),
                Arguments.of("very sparse, 8 values", random(200_000, 0.001, 8, 8)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tensors")
    void codebookFormRebuildsTheTensorBitForBit(String label, float[] values) {
        int[] positions = SparseStorage.nonzeroPositions(values);
        SparseStorage.Fragment fragment = CodebookStorage.build("w", new long[] {values.length / 4, 4}, values,
                positions, 1);
        assertNotNull(fragment, label);
        assertTrue(fragment.codebookSize() >= distinct(values, positions), label);
        assertBitIdentical(label, values, rebuild(fragment, new long[] {values.length / 4, 4}));
    }

    @Test
    void blocksWithTheirOwnValuesGetNarrowerBlockLocalCodes() {
        // four gate blocks of 32 values each: one table needs 8-bit codes (4·32 + the filler 0), a table per block
        // 5 or 6 bits
        float[] values = new float[4 * 16_384];
        SplittableRandom random = new SplittableRandom(81);
        for (int block = 0; block < 4; block++) {
            float[] shared = new float[32];
            for (int i = 0; i < shared.length; i++) {
                shared[i] = block + 0.01f * (i + 1);
            }
            for (int i = block * 16_384; i < (block + 1) * 16_384; i++) {
                if (random.nextDouble() < 0.1) {
                    values[i] = shared[random.nextInt(shared.length)];
                }
            }
        }
        long[] dims = {1, 1024, 64};
        int[] positions = SparseStorage.nonzeroPositions(values);
        SparseStorage.Fragment single = CodebookStorage.build("w", dims, values, positions, 1);
        SparseStorage.Fragment blocked = CodebookStorage.build("w", dims, values, positions, 4);
        assertTrue(blocked.bytes() < single.bytes(), blocked.bytes() + " vs " + single.bytes());
        assertTrue(blocked.nodes().stream().anyMatch(n -> n.getOpType().equals("Div")), "block-local codes");
        assertBitIdentical("blocks", values, rebuild(blocked, dims));
        assertBitIdentical("one table", values, rebuild(single, dims));
    }

    @Test
    void allKeptWeightsZero() {
        float[] zeros = new float[1_000];
        assertNull(CodebookStorage.build("w", new long[] {1_000}, zeros, SparseStorage.nonzeroPositions(zeros), 1));
        // through the storage chooser: a scatter of nothing, still the exact zeros
        assertBitIdentical("zeros", zeros, rebuildThroughChooser(zeros, new long[] {10, 100}));
    }

    @Test
    void negativeZeroIsAKeptValueAndStaysNegative() {
        float[] values = new float[5_000];
        for (int i = 3; i < values.length; i += 7) {
            values[i] = -0.0f;
        }
        SparseStorage.Fragment fragment = CodebookStorage.build("w", new long[] {values.length}, values,
                SparseStorage.nonzeroPositions(values), 1);
        assertEquals(1, fragment.codebookSize());
        assertBitIdentical("-0.0", values, rebuild(fragment, new long[] {values.length}));
    }

    @Test
    void oneNonZeroAtTheVeryEnd() {
        float[] values = new float[300_000];
        values[values.length - 1] = 0.375f;
        SparseStorage.Fragment fragment = CodebookStorage.build("w", new long[] {values.length}, values,
                SparseStorage.nonzeroPositions(values), 1);
        assertBitIdentical("one at the end", values, rebuild(fragment, new long[] {values.length}));
    }

    @Test
    void gapsFarBeyondTheIndexWidthAreBridgedByFillersThatScatterExactZeros() {
        // dense runs make narrow gaps the cheapest layout; two huge holes then need many fillers
        float[] values = new float[400_000];
        SplittableRandom random = new SplittableRandom(61);
        float[] shared = {-0.5f, 0.25f, 1.5f};
        for (int i = 0; i < values.length; i++) {
            boolean hole = i >= 10_000 && i < 150_000 || i >= 200_000 && i < 390_000;
            if (!hole && random.nextDouble() < 0.5) {
                values[i] = shared[random.nextInt(shared.length)];
            }
        }
        int[] positions = SparseStorage.nonzeroPositions(values);
        SparseStorage.Fragment fragment = CodebookStorage.build("w", new long[] {values.length}, values, positions, 1);
        assertEquals(shared.length + 1, fragment.codebookSize(), "the fillers' +0.0 entry is in the codebook");
        assertBitIdentical("holes", values, rebuild(fragment, new long[] {values.length}));
    }

    @Test
    void nonFiniteValuesAreKeptBitExactly() {
        float[] values = new float[2_000];
        float[] odd = {Float.NaN, Float.intBitsToFloat(0x7fc01234), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE};
        for (int i = 0; i < values.length; i += 5) {
            values[i] = odd[i % odd.length];
        }
        SparseStorage.Fragment fragment = CodebookStorage.build("w", new long[] {values.length}, values,
                SparseStorage.nonzeroPositions(values), 1);
        assertBitIdentical("non-finite", values, rebuild(fragment, new long[] {values.length}));
    }

    @Test
    void tooManyDistinctValuesIsNotACodebook() {
        float[] values = new float[CodebookStorage.MAX_CODEBOOK + 10];
        for (int i = 0; i < values.length; i++) {
            values[i] = i + 1;
        }
        assertNull(CodebookStorage.build("w", new long[] {values.length}, values,
                SparseStorage.nonzeroPositions(values), 1));
    }

    @Test
    void codeWidths() {
        assertEquals(1, CodebookStorage.bitsFor(1));
        assertEquals(1, CodebookStorage.bitsFor(2));
        assertEquals(2, CodebookStorage.bitsFor(3));
        assertEquals(5, CodebookStorage.bitsFor(32));
        assertEquals(6, CodebookStorage.bitsFor(33));
        assertEquals(8, CodebookStorage.bitsFor(256));
        assertEquals(9, CodebookStorage.bitsFor(257));
        assertEquals(16, CodebookStorage.bitsFor(CodebookStorage.MAX_CODEBOOK));
    }

    @Test
    void theChooserKeepsTheCodebookFormOnlyWhenItIsSmaller() {
        float[] values = random(50_000, 0.1, 16, 71);
        OnnxGraphBuilder graph = new OnnxGraphBuilder("t");
        ExportReport.StoredTensor stored = SparseStorage.add(graph, "w", new long[] {values.length}, values,
                SparseMode.SCATTER);
        assertTrue(stored.codebook() == 16 || stored.codebook() == 17, stored.toString()); // + 0 with fillers
        // random floats: every stored value distinct, a codebook would cost more than the values themselves
        float[] distinct = new float[50_000];
        SplittableRandom random = new SplittableRandom(72);
        for (int i = 0; i < distinct.length; i += 10) {
            distinct[i] = (float) random.nextGaussian();
        }
        ExportReport.StoredTensor plain = SparseStorage.add(new OnnxGraphBuilder("t"), "w",
                new long[] {distinct.length}, distinct, SparseMode.SCATTER);
        assertEquals(0, plain.codebook());
        assertEquals(SparseMode.SCATTER, plain.storage());
    }

    // ------------------------------------------------------------------ helpers

    /**
     * With {@code -Dlacuna.onnx.dump=DIR} each quantized export is also written to DIR, for {@code
     * tools/check-onnx.sh DIR/*.onnx} (the ONNX checker is Python, not available on CI).
     */
    private static void dumpForTheChecker(String label, Onnx.ModelProto proto) {
        String dump = System.getProperty("lacuna.onnx.dump");
        if (dump != null && !dump.isBlank()) {
            OnnxFiles.write(proto, Path.of(dump, "quantized_" + label.replaceAll("[^A-Za-z0-9=]+", "_")
                    + ".onnx"));
        }
    }

    /** A tensor of {@code size} values, about {@code density} of them non-zero, drawn from {@code k} values. */
    private static float[] random(int size, double density, int k, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] shared = new float[k];
        for (int i = 0; i < k; i++) {
            shared[i] = (float) (random.nextGaussian() * 0.1) + (i == 0 ? 0.01f : 0f);
            if (Float.floatToRawIntBits(shared[i]) == 0) {
                shared[i] = 1e-3f;
            }
        }
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            if (random.nextDouble() < density) {
                values[i] = shared[random.nextInt(k)];
            }
        }
        return values;
    }

    private static int distinct(float[] values, int[] positions) {
        Set<Integer> bits = new HashSet<>();
        for (int p : positions) {
            bits.add(Float.floatToRawIntBits(values[p]));
        }
        return bits.size();
    }

    /** Runs the fragment alone in ONNX Runtime with the rebuilt tensor as the graph's output. */
    private static float[] rebuild(SparseStorage.Fragment fragment, long[] dims) {
        OnnxGraphBuilder graph = new OnnxGraphBuilder("rebuild");
        fragment.addTo(graph);
        return run(graph, dims);
    }

    private static float[] rebuildThroughChooser(float[] values, long[] dims) {
        OnnxGraphBuilder graph = new OnnxGraphBuilder("rebuild");
        SparseStorage.add(graph, "w", dims, values, SparseMode.SCATTER);
        return run(graph, dims);
    }

    private static float[] run(OnnxGraphBuilder graph, long[] dims) {
        Object[] shape = Arrays.stream(dims).boxed().toArray();
        graph.proto().addOutput(OnnxGraphBuilder.valueInfo("w", Onnx.TensorProto.DataType.FLOAT_VALUE, shape));
        Onnx.ModelProto model = Onnx.ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph.proto()).build();
        NdArray out = OnnxVerifier.run(model, Map.of()).get("w");
        assertArrayEquals(dims, out.shape());
        return out.floats();
    }

    private static void assertBitIdentical(String label, float[] want, float[] got) {
        assertEquals(want.length, got.length, label);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(label + ": element " + i + " is " + got[i] + " (bits "
                        + Integer.toHexString(Float.floatToRawIntBits(got[i])) + "), expected " + want[i] + " (bits "
                        + Integer.toHexString(Float.floatToRawIntBits(want[i])) + ")");
            }
        }
    }
}
