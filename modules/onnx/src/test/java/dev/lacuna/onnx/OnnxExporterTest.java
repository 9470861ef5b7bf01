package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxExporterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static Architecture lstm(int hidden, int layers, boolean bidirectional) {
        return TestModels.arch(CellType.LSTM, 12, 5, hidden, layers, bidirectional, RnnActivation.TANH, true);
    }

    private static Map<String, NdArray> tokens(int time, int batch, int vocab) {
        return Map.of(OnnxExporter.TOKENS, NdArray.ofLongs(new long[] {time, batch},
                TestModels.tokens(time, batch, vocab, 5)));
    }

    @Test
    void stampsProducerVersionsAndProvenance() throws IOException {
        Model model = TestModels.pruned(TestModels.model(lstm(6, 1, false), 1), 0.9, 2);
        model.metadata().put("lacuna.version", "0.1.0-test");
        model.metadata().put("lacuna.hyperparameters", "{\"q\":0.1}");
        Onnx.ModelProto proto = OnnxExporter.export(model, ExportOptions.defaults().withProducerVersion("9.9"));

        assertEquals("lacuna", proto.getProducerName());
        assertEquals("9.9", proto.getProducerVersion());
        assertEquals(8, proto.getIrVersion());
        assertEquals(17, proto.getOpsetImport(0).getVersion());
        Map<String, String> meta = OnnxExporter.metadataOf(proto);
        assertEquals("0.1.0-test", meta.get("lacuna.version"));
        assertEquals("test", meta.get("lacuna.method"));
        assertEquals("{\"q\":0.1}", meta.get("lacuna.hyperparameters"));
        JsonNode arch = JSON.readTree(meta.get(OnnxExporter.ARCHITECTURE_KEY));
        assertEquals("lstm", arch.get("cell").asText());
        assertEquals(6, arch.get("hidden_size").asInt());
        assertEquals(5, arch.get("embed_dim").asInt());
        JsonNode vocabulary = JSON.readTree(meta.get(OnnxExporter.VOCABULARY_KEY));
        assertEquals(12, vocabulary.size());
        assertEquals('a', vocabulary.get(0).asInt());
        JsonNode sparsity = JSON.readTree(meta.get(OnnxExporter.SPARSITY_KEY));
        JsonNode w = sparsity.get("tensors").get("rnn.weight_hh_l0");
        long nonzero = model.tensor("rnn.weight_hh_l0").countNonZero();
        assertEquals(nonzero, w.get("nonzero").asLong());
        assertEquals(1.0 - nonzero / 144.0, w.get("sparsity").asDouble(), 1e-12);
        assertEquals(model.sparsity(true).sparsity(), sparsity.get("sparsity").asDouble(), 1e-12);
    }

    @Test
    void defaultStorageIsScatterForPrunedModelsAndDenseOtherwise() {
        Model dense = TestModels.model(lstm(6, 1, false), 1);
        assertEquals(SparseMode.NONE, OnnxExporter.report(dense, ExportOptions.defaults()).mode());
        Model pruned = TestModels.pruned(dense, 0.9, 2);
        assertEquals(SparseMode.SCATTER, OnnxExporter.report(pruned, ExportOptions.defaults()).mode());
    }

    @Test
    void aDenseModelIsStoredDenseWhateverTheMode() {
        Model dense = TestModels.model(lstm(6, 2, true), 1);
        Onnx.ModelProto plain = OnnxExporter.export(dense, ExportOptions.defaults().withSparse(SparseMode.NONE));
        for (SparseMode mode : SparseMode.values()) {
            Onnx.ModelProto other = OnnxExporter.export(dense, ExportOptions.defaults().withSparse(mode));
            assertArrayEquals(plain.getGraph().toByteArray(), other.getGraph().toByteArray(), mode.id());
        }
    }

    @Test
    void prunedMatricesAreSparseAndBiasesStayDense() {
        Model pruned = TestModels.pruned(TestModels.model(lstm(16, 1, false), 1), 0.9, 2);
        for (SparseMode mode : new SparseMode[] {SparseMode.INITIALIZER, SparseMode.SCATTER}) {
            ExportReport report = OnnxExporter.report(pruned, ExportOptions.defaults().withSparse(mode));
            for (ExportReport.StoredTensor t : report.tensors()) {
                boolean bias = t.name().endsWith(".B") || t.name().equals("head.bias");
                if (bias) {
                    assertEquals(SparseMode.NONE, t.storage(), mode.id() + " " + t.name());
                } else if (t.size() >= 1000) {
                    // small tensors may stay dense: a scatter rebuild costs a few hundred bytes of nodes
                    assertEquals(mode, t.storage(), mode.id() + " " + t.name());
                }
                // a tensor kept dense is one whose sparse form would not have been smaller
                assertTrue(t.storage() != SparseMode.NONE || t.bytes() >= 4 * t.size(), t.name());
            }
        }
    }

    /** Issue #3 target: at 90% sparsity both sparse exports are at most a quarter of the dense file. */
    @Test
    void sparseExportsOfANinetyPercentModelAreAtMostAQuarterOfTheDenseFile() {
        Architecture arch = TestModels.arch(CellType.LSTM, 60, 16, 64, 2, false, RnnActivation.TANH, true);
        Model pruned = TestModels.pruned(TestModels.model(arch, 3), 0.9, 4);
        long dense = OnnxExporter.report(pruned, ExportOptions.defaults().withSparse(SparseMode.NONE)).bytes();
        long initializer = OnnxExporter.report(pruned, ExportOptions.defaults().withSparse(SparseMode.INITIALIZER))
                .bytes();
        long scatter = OnnxExporter.report(pruned, ExportOptions.defaults().withSparse(SparseMode.SCATTER)).bytes();
        assertTrue(dense > 4 * arch.parameterCount(), "dense holds every float: " + dense);
        assertTrue(initializer <= 0.25 * dense, "initializer " + initializer + " vs dense " + dense);
        assertTrue(scatter <= 0.25 * dense, "scatter " + scatter + " vs dense " + dense);
    }

    @Test
    void bidirectionalClozeHeadHandlesASingleTimeStep() {
        Model model = TestModels.pruned(TestModels.model(lstm(6, 1, true), 1), 0.5, 2);
        long[] ids = TestModels.tokens(1, 2, 12, 3);
        Map<String, NdArray> out = OnnxVerifier.run(OnnxExporter.export(model, ExportOptions.defaults()),
                Map.of(OnnxExporter.TOKENS, NdArray.ofLongs(new long[] {1, 2}, ids)));
        NdArray want = TestModels.forward(model, ids, 1, 2).logits();
        assertTrue(out.get(OnnxExporter.LOGITS).maxAbsDiff(want) <= 1e-5);
    }

    @Test
    void fullyPrunedTensorsAreRebuiltAsZeros() {
        Model model = TestModels.model(TestModels.arch(CellType.GRU, 12, 5, 6, 1, false, RnnActivation.TANH,
                false), 1);
        boolean[] none = new boolean[model.tensor("rnn.weight_hh_l0").size()];
        model.setMask("rnn.weight_hh_l0", none);
        model.applyMasks();
        Map<String, NdArray> inputs = tokens(5, 2, 12);
        NdArray want = TestModels.forward(model, inputs.get(OnnxExporter.TOKENS).longs(), 5, 2).logits();
        for (SparseMode mode : SparseMode.values()) {
            Map<String, NdArray> out = OnnxVerifier.run(OnnxExporter.export(model,
                    ExportOptions.defaults().withSparse(mode)), inputs);
            assertTrue(out.get(OnnxExporter.LOGITS).maxAbsDiff(want) <= 1e-5, mode.id());
        }
    }

    @Test
    void everySupportedOpsetRunsInOnnxRuntimeWithTheSameOutputs() {
        Model model = TestModels.pruned(TestModels.model(lstm(6, 2, true), 1), 0.9, 2);
        Map<String, NdArray> inputs = tokens(4, 2, 12);
        NdArray want = OnnxVerifier.run(OnnxExporter.export(model, ExportOptions.defaults()), inputs)
                .get(OnnxExporter.LOGITS);
        for (int opset : new int[] {ExportOptions.MIN_OPSET, 18, 21, ExportOptions.MAX_OPSET}) {
            Onnx.ModelProto proto = OnnxExporter.export(model, ExportOptions.defaults().withOpset(opset));
            NdArray got = OnnxVerifier.run(proto, inputs).get(OnnxExporter.LOGITS);
            assertEquals(0.0, got.maxAbsDiff(want), "opset " + opset);
        }
        assertEquals(11, ExportOptions.defaults().withOpset(23).irVersion());
        assertThrows(InvalidOptionException.class, () -> ExportOptions.defaults().withOpset(24));
        assertThrows(InvalidOptionException.class, () -> ExportOptions.defaults().withOpset(13));
    }

    @Test
    void masksAreAppliedToTheExportNotToTheCallersModel() {
        Model model = TestModels.model(lstm(6, 1, false), 1);
        float[] before = model.tensor("rnn.weight_ih_l0").data().clone();
        boolean[] keep = new boolean[before.length];
        keep[0] = true;
        model.setMask("rnn.weight_ih_l0", keep);
        ExportReport report = OnnxExporter.report(model, ExportOptions.defaults());
        assertArrayEquals(before, model.tensor("rnn.weight_ih_l0").data());
        ExportReport.StoredTensor w = report.tensors().stream().filter(t -> t.name().equals("layer0.W"))
                .findFirst().orElseThrow();
        assertEquals(1, w.nonzero());
    }

    @Test
    void writesTheFileAtomicallyAndReportsItsSize() throws IOException {
        Model model = TestModels.pruned(TestModels.model(lstm(6, 1, false), 1), 0.9, 2);
        Path target = dir.resolve("out/model.onnx");
        ExportReport report = OnnxExporter.write(model, target, ExportOptions.defaults());
        assertEquals(Files.size(target), report.bytes());
        assertEquals(target, report.file());
        Onnx.ModelProto back = OnnxFiles.read(target);
        assertEquals(OnnxExporter.export(model, ExportOptions.defaults()), back);
        try (var files = Files.list(target.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
        Path folder = Files.createDirectory(dir.resolve("taken.onnx"));
        BadFileException e = assertThrows(BadFileException.class,
                () -> OnnxExporter.write(model, folder, ExportOptions.defaults()));
        assertTrue(e.getMessage().contains("taken.onnx"), e.getMessage());
    }

    @Test
    void negativeZeroWeightsSurviveBitForBit() {
        Model model = TestModels.pruned(TestModels.model(lstm(16, 1, false), 1), 0.9, 2);
        float[] recurrent = model.tensor("rnn.weight_hh_l0").data();
        boolean[] keep = model.mask("rnn.weight_hh_l0");
        int kept = 0;
        while (!keep[kept]) {
            kept++;
        }
        recurrent[kept] = -0.0f; // a kept weight that trained to exactly -0.0
        Onnx.ModelProto proto = OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.SCATTER));
        Onnx.TensorProto values = proto.getGraph().getInitializerList().stream()
                .filter(t -> t.getName().equals("layer0.R.values")).findFirst().orElseThrow();
        long stored = values.getDims(0);
        long nonzeroBits = 0;
        for (float v : recurrent) {
            if (Float.floatToRawIntBits(v) != 0) {
                nonzeroBits++;
            }
        }
        assertEquals(nonzeroBits, stored);
        NdArray logits = OnnxVerifier.run(proto, tokens(3, 1, 12)).get(OnnxExporter.LOGITS);
        NdArray want = TestModels.forward(model, tokens(3, 1, 12).get(OnnxExporter.TOKENS).longs(), 3, 1).logits();
        assertTrue(logits.maxAbsDiff(want) <= 1e-5);
    }

    /** Every index width is exercised: int8 (≤ 128 elements), int16 (≤ 32768) and int32, in both sparse forms. */
    @Test
    void indexWidthsFollowTensorSizesAndAllRunInOnnxRuntime() {
        Architecture arch = TestModels.arch(CellType.RNN, 8, 4, 192, 1, false, RnnActivation.TANH, true);
        Model model = TestModels.pruned(TestModels.model(arch, 1), 0.95, 2);
        Map<String, NdArray> inputs = tokens(4, 2, 8);
        NdArray want = TestModels.forward(model, inputs.get(OnnxExporter.TOKENS).longs(), 4, 2).logits();
        for (SparseMode mode : new SparseMode[] {SparseMode.INITIALIZER, SparseMode.SCATTER}) {
            Onnx.ModelProto proto = OnnxExporter.export(model, ExportOptions.defaults().withSparse(mode));
            Map<String, Integer> indexTypes = new java.util.HashMap<>();
            proto.getGraph().getInitializerList().stream().filter(t -> t.getName().endsWith(".indices"))
                    .forEach(t -> indexTypes.put(t.getName(), t.getDataType()));
            proto.getGraph().getSparseInitializerList()
                    .forEach(t -> indexTypes.put(t.getIndices().getName(), t.getIndices().getDataType()));
            // embedding 8x4 = 32 values, W 192x4 = 768, R 192x192 = 36864
            assertEquals(Onnx.TensorProto.DataType.INT16_VALUE, indexTypes.get("layer0.W.indices"), mode.id());
            if (mode == SparseMode.INITIALIZER) {
                assertEquals(Onnx.TensorProto.DataType.INT32_VALUE, indexTypes.get("layer0.R.indices"), mode.id());
            } else {
                // too large for int16 indices: scatter stores int8 position gaps instead of int32 indices
                assertEquals(null, indexTypes.get("layer0.R.indices"));
                assertTrue(proto.getGraph().getInitializerList().stream().anyMatch(t -> t.getName()
                        .equals("layer0.R.gaps") && t.getDataType() == Onnx.TensorProto.DataType.INT8_VALUE));
            }
            assertEquals(1, SparseStorage.indexBytes(128));
            assertEquals(2, SparseStorage.indexBytes(129));
            assertEquals(2, SparseStorage.indexBytes(32768));
            assertEquals(4, SparseStorage.indexBytes(32769));
            double diff = OnnxVerifier.run(proto, inputs).get(OnnxExporter.LOGITS).maxAbsDiff(want);
            assertTrue(diff <= 1e-5, mode.id() + " diff " + diff);
        }
    }

    @Test
    void narrowScatterIndicesAreCastToInt32() {
        // one-hot input: W is [1, 16, 8], 128 values, addressed by int8 indices
        Architecture arch = TestModels.arch(CellType.RNN, 8, 0, 16, 1, false, RnnActivation.RELU, true);
        Model model = TestModels.model(arch, 1);
        boolean[] keep = new boolean[128];
        keep[5] = true;
        keep[127] = true;
        model.setMask("rnn.weight_ih_l0", keep);
        model.applyMasks();
        Map<String, NdArray> inputs = tokens(4, 2, 8);
        NdArray want = TestModels.forward(model, inputs.get(OnnxExporter.TOKENS).longs(), 4, 2).logits();
        Onnx.ModelProto proto = OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.SCATTER));
        Onnx.TensorProto indices = proto.getGraph().getInitializerList().stream()
                .filter(t -> t.getName().equals("layer0.W.indices")).findFirst().orElseThrow();
        assertEquals(Onnx.TensorProto.DataType.INT8_VALUE, indices.getDataType());
        assertTrue(proto.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Cast")
                && n.getInput(0).equals("layer0.W.indices")));
        double diff = OnnxVerifier.run(proto, inputs).get(OnnxExporter.LOGITS).maxAbsDiff(want);
        assertTrue(diff <= 1e-5, "diff " + diff);
    }
}
