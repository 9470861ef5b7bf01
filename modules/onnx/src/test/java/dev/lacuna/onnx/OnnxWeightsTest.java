package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxWeightsTest {
    @TempDir
    Path temp;

    @Test
    void listsTheFoldedExportsWeightsButNotItsBiases() {
        List<OnnxWeight> weights = OnnxWeights.list(OnnxCases.onnx("lstm_o14_folded"));
        Map<String, OnnxWeight> byName = byName(weights);
        assertEquals(4, weights.size(), weights.toString());
        assertTrue(byName.get("embedding.weight").embedding());
        assertEquals("initializer", byName.get("onnx::LSTM_117").location());
        assertEquals(List.of(1, 32, 6), java.util.Arrays.stream(byName.get("onnx::LSTM_117").shape()).boxed().toList());
        assertEquals(32 * 6, byName.get("onnx::LSTM_117").size());
        assertEquals("FLOAT", byName.get("onnx::MatMul_122").dataType());
        // biases, including the LSTM's rank-2 B, and the zero initial state are not weights
        assertFalse(byName.containsKey("head.bias"));
        assertFalse(byName.containsKey("onnx::LSTM_119"));
    }

    @Test
    void perTensorPruningHitsTheTargetInEveryTensorAndLeavesTheRestAlone() throws Exception {
        Path out = temp.resolve("pruned.onnx");
        // zeros in place: the dense layout this test compares tensor by tensor (sparse storage has its own test)
        OnnxPruneReport report = OnnxWeights.prune(OnnxCases.onnx("lstm_o14_folded"), out,
                OnnxPruning.perTensor(0.8).withStorage(SparseMode.NONE));
        for (OnnxPruneReport.Entry e : report.tensors()) {
            if (e.before().embedding()) {
                assertFalse(e.pruned());
                assertEquals(e.before().zeros(), e.zerosAfter());
            } else {
                assertTrue(e.pruned());
                assertEquals(Math.round(0.8 * e.before().size()), e.zerosAfter(), e.before().name());
            }
        }
        Map<String, OnnxWeight> after = byName(OnnxWeights.list(out));
        for (OnnxPruneReport.Entry e : report.tensors()) {
            assertEquals(e.zerosAfter(), after.get(e.before().name()).zeros(), e.before().name());
        }
        // biases and the graph are untouched; surviving weights keep their exact values
        Onnx.ModelProto before = OnnxFiles.read(OnnxCases.onnx("lstm_o14_folded"));
        Onnx.ModelProto pruned = OnnxFiles.read(out);
        assertEquals(before.getGraph().getNodeList(), pruned.getGraph().getNodeList());
        Map<String, Onnx.TensorProto> prunedInits = new HashMap<>();
        pruned.getGraph().getInitializerList().forEach(t -> prunedInits.put(t.getName(), t));
        for (Onnx.TensorProto t : before.getGraph().getInitializerList()) {
            float[] a = OnnxTensors.toFloats(t, out);
            float[] b = OnnxTensors.toFloats(prunedInits.get(t.getName()), out);
            for (int i = 0; i < a.length; i++) {
                assertTrue(b[i] == 0 || b[i] == a[i], t.getName() + "[" + i + "]");
            }
            if (t.getDimsCount() < 2 || t.getName().equals("embedding.weight")) {
                assertEquals(t, prunedInits.get(t.getName()), t.getName());
            }
        }
        assertEquals(OnnxWeights.METHOD, metadata(pruned).get(OnnxWeights.METHOD_KEY));
        JsonNode sparsity = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                metadata(pruned).get(OnnxWeights.SPARSITY_KEY));
        assertEquals(report.sparsity(), sparsity.get("sparsity").asDouble(), 1e-12);
        assertEquals(Math.round(0.8 * 32 * 8), 32 * 8 - sparsity.get("tensors").get("onnx::LSTM_118").get("nonzero")
                .asLong());
    }

    @Test
    void prunedExportRunsInOnnxRuntimeLikeTheImportedPrunedModel() throws Exception {
        String name = "gru_2layer_batchfirst_o14_folded";
        Path out = temp.resolve("pruned.onnx");
        OnnxWeights.prune(OnnxCases.onnx(name), out, OnnxPruning.global(0.5));
        Model model = OnnxImporter.read(out);
        long zeros = 0;
        long total = 0;
        for (TensorSpec s : model.prunable(false)) {
            zeros += s.elementCount() - model.tensor(s.name()).countNonZero();
            total += s.elementCount();
        }
        assertEquals(0.5, (double) zeros / total, 0.01);
        JsonNode root = OnnxCases.json(name);
        // batch-first graph: its input is [B, T]; swap the case's [T][B] tokens
        JsonNode swapped = transposeTokens(root);
        float[][][] ort = OrtRunner.logits(out, swapped);
        float[][][] lacuna = OnnxCases.lacunaLogits(model, root);
        for (int t = 0; t < lacuna.length; t++) {
            for (int b = 0; b < lacuna[t].length; b++) {
                for (int v = 0; v < lacuna[t][b].length; v++) {
                    assertEquals(ort[b][t][v], lacuna[t][b][v], 1e-5);
                }
            }
        }
        // and pruning changed the outputs
        assertTrue(OnnxCases.maxLogitDifference(model, root) > 1e-3);
    }

    @Test
    void globalPruningPoolsAllTensors() {
        Onnx.ModelProto model = OnnxFiles.read(OnnxCases.onnx("lstm_2layer_o17_folded"));
        OnnxPruneReport report = OnnxWeights.prune(model, OnnxCases.onnx("lstm_2layer_o17_folded"),
                OnnxPruning.global(0.7)).report();
        assertEquals(Math.round(0.7 * report.prunedTensorParameters()), report.prunedTensorZeros());
        double[] sparsities = report.tensors().stream().filter(OnnxPruneReport.Entry::pruned)
                .mapToDouble(OnnxPruneReport.Entry::sparsityAfter).toArray();
        assertNotEquals(sparsities[0], sparsities[1], 1e-9, "one threshold gives tensors different sparsities");
        double threshold = report.tensors().get(1).threshold();
        for (OnnxPruneReport.Entry e : report.tensors()) {
            if (e.pruned()) {
                assertEquals(threshold, e.threshold());
            }
        }
    }

    @Test
    void stdRuleprunesBelowQualityTimesSigma() {
        Path in = OnnxCases.onnx("rnn_tanh_o14_folded");
        OnnxWeights.Pruned pruned = OnnxWeights.prune(OnnxFiles.read(in), in, OnnxPruning.stdThreshold(0.5));
        Onnx.ModelProto source = OnnxFiles.read(in);
        assertEquals(3, pruned.report().tensors().stream().filter(OnnxPruneReport.Entry::pruned).count());
        for (Onnx.TensorProto t : source.getGraph().getInitializerList()) {
            boolean isWeight = pruned.report().tensors().stream()
                    .anyMatch(e -> e.pruned() && e.before().name().equals(t.getName()));
            if (!isWeight) {
                continue;
            }
            float[] w = OnnxTensors.toFloats(t, in);
            double mean = 0;
            for (float v : w) {
                mean += v;
            }
            mean /= w.length;
            double ss = 0;
            for (float v : w) {
                ss += (v - mean) * (v - mean);
            }
            double limit = 0.5 * Math.sqrt(ss / (w.length - 1));
            long expected = 0;
            for (float v : w) {
                if (Math.abs(v) <= limit) {
                    expected++;
                }
            }
            OnnxPruneReport.Entry e = pruned.report().tensors().stream()
                    .filter(x -> x.before().name().equals(t.getName())).findFirst().orElseThrow();
            assertEquals(limit, e.threshold(), 1e-6);
            assertEquals(expected, e.zerosAfter(), t.getName());
            assertTrue(expected > 0 && expected < w.length);
        }
    }

    @Test
    void weightsInsideIfBranchesAreFoundAndPruned() throws Exception {
        String name = "lstm_if_head_o14_folded";
        List<OnnxWeight> weights = OnnxWeights.list(OnnxCases.onnx(name));
        List<OnnxWeight> inBranches = weights.stream().filter(w -> w.location().startsWith("If node")).toList();
        assertEquals(2, inBranches.size(), weights.toString());
        assertTrue(inBranches.stream().anyMatch(w -> w.location().contains("/then_branch/Constant node")),
                inBranches.toString());
        assertTrue(inBranches.stream().anyMatch(w -> w.location().contains("/else_branch/initializer")),
                inBranches.toString());
        Path out = temp.resolve("if.onnx");
        OnnxWeights.prune(OnnxCases.onnx(name), out, OnnxPruning.perTensor(0.75));
        for (OnnxWeight w : OnnxWeights.list(out)) {
            if (!w.embedding()) {
                assertEquals(Math.round(0.75 * w.size()), w.zeros(), w.location());
            }
        }
        Model model = OnnxImporter.read(out);
        assertEquals(0, OrtRunner.maxDifference(OrtRunner.logits(out, OnnxCases.json(name)),
                OnnxCases.lacunaLogits(model, OnnxCases.json(name))), 1e-5);
    }

    @Test
    void externalDataIsReadAndTheOutputIsSelfContained() throws Exception {
        String name = "lstm_external_o14_folded";
        List<OnnxWeight> weights = OnnxWeights.list(OnnxCases.onnx(name));
        assertTrue(weights.stream().allMatch(w -> w.location().endsWith("(external)")), weights.toString());
        Path out = temp.resolve("sub").resolve("external-pruned.onnx");
        OnnxWeights.prune(OnnxCases.onnx(name), out, OnnxPruning.perTensor(0.6));
        try (var files = Files.list(out.getParent())) {
            assertEquals(List.of(out.getFileName()), files.map(Path::getFileName).toList());
        }
        Onnx.ModelProto pruned = OnnxFiles.read(out);
        pruned.getGraph().getInitializerList().forEach(t -> assertFalse(
                t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL, t.getName()));
        Model model = OnnxImporter.read(out);
        assertEquals(0, OrtRunner.maxDifference(OrtRunner.logits(out, OnnxCases.json(name)),
                OnnxCases.lacunaLogits(model, OnnxCases.json(name))), 1e-5);
    }

    @Test
    void halfPrecisionTypedStorageIsZeroedInPlace() {
        Onnx.TensorProto.Builder w = Onnx.TensorProto.newBuilder().setName("w").setDataType(OnnxTensors.FLOAT16)
                .addDims(2).addDims(2);
        // 1.0, -0.5, 2.0, 0.25 as binary16
        for (int bits : new int[] {0x3C00, 0xB800, 0x4000, 0x3400}) {
            w.addInt32Data(bits);
        }
        Onnx.NodeProto matMul = Onnx.NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("w")
                .addOutput("y").build();
        Onnx.ModelProto model = Onnx.ModelProto.newBuilder().setIrVersion(8)
                .setGraph(Onnx.GraphProto.newBuilder().setName("g").addInitializer(w).addNode(matMul)).build();
        Onnx.ModelProto pruned = OnnxWeights.prune(model, Path.of("half.onnx"), OnnxPruning.perTensor(0.5)).model();
        Onnx.TensorProto t = pruned.getGraph().getInitializer(0);
        assertEquals(OnnxTensors.FLOAT16, t.getDataType());
        assertFalse(t.hasRawData());
        assertEquals(List.of(0x3C00, 0, 0x4000, 0), t.getInt32DataList());
    }

    @Test
    void unfoldedBidirectionalExportListsEachTorchMatrixOnce() {
        // the Slice/Concat chains that reorder gates lead to the LSTM's W and R; the zero padding of the cloze shift
        // is concatenated with run-time data on its way to the head and is no weight
        List<String> names = OnnxWeights.list(OnnxCases.onnx("lstm_bidir_o14_unfolded")).stream()
                .map(OnnxWeight::name).sorted().toList();
        assertEquals(List.of("embedding.weight", "head.weight", "rnn.weight_hh_l0", "rnn.weight_hh_l0_reverse",
                "rnn.weight_ih_l0", "rnn.weight_ih_l0_reverse"), names);
    }

    @Test
    void weightsInsideALoopBodyAreFound() {
        Onnx.GraphProto body = Onnx.GraphProto.newBuilder().setName("body")
                .addInitializer(OnnxTensors.toProto("inner", new long[] {2, 2}, new float[] {4, -1, 2, 0.5f}))
                .addNode(Onnx.NodeProto.newBuilder().setOpType("MatMul").setName("step").addInput("state")
                        .addInput("inner").addOutput("next"))
                .addInput(Onnx.ValueInfoProto.newBuilder().setName("i"))
                .addInput(Onnx.ValueInfoProto.newBuilder().setName("cond_in"))
                .addInput(Onnx.ValueInfoProto.newBuilder().setName("state"))
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("cond_in"))
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("next")).build();
        Onnx.NodeProto loop = Onnx.NodeProto.newBuilder().setOpType("Loop").setName("repeat").addInput("n")
                .addInput("").addInput("x").addOutput("y")
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("body").setG(body)).build();
        Onnx.ModelProto model = Onnx.ModelProto.newBuilder().setIrVersion(8)
                .setGraph(Onnx.GraphProto.newBuilder().setName("g").addNode(loop)).build();
        OnnxWeights.Pruned pruned = OnnxWeights.prune(model, Path.of("loop.onnx"), OnnxPruning.perTensor(0.5));
        OnnxPruneReport.Entry e = pruned.report().tensors().get(0);
        assertEquals("Loop node 'repeat'/body/initializer", e.before().location());
        assertEquals(2, e.zerosAfter());
        float[] values = OnnxTensors.toFloats(pruned.model().getGraph().getNode(0).getAttribute(0).getG()
                .getInitializer(0), Path.of("loop.onnx"));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {4, 0, 2, 0}, values);
    }

    @Test
    void optionsAreValidated() {
        assertThrows(InvalidOptionException.class, () -> OnnxPruning.perTensor(1.0));
        assertThrows(InvalidOptionException.class, () -> OnnxPruning.global(-0.1));
        assertThrows(InvalidOptionException.class, () -> OnnxPruning.stdThreshold(Double.NaN));
    }

    private static Map<String, OnnxWeight> byName(List<OnnxWeight> weights) {
        Map<String, OnnxWeight> out = new HashMap<>();
        weights.forEach(w -> out.put(w.name(), w));
        return out;
    }

    private static Map<String, String> metadata(Onnx.ModelProto model) {
        Map<String, String> out = new HashMap<>();
        model.getMetadataPropsList().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    private static JsonNode transposeTokens(JsonNode root) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = root.deepCopy();
        JsonNode tokens = root.get("tokens");
        com.fasterxml.jackson.databind.node.ArrayNode rows = copy.putArray("tokens");
        for (int b = 0; b < tokens.get(0).size(); b++) {
            com.fasterxml.jackson.databind.node.ArrayNode row = rows.addArray();
            for (int t = 0; t < tokens.size(); t++) {
                row.add(tokens.get(t).get(b).asLong());
            }
        }
        return copy;
    }
}
