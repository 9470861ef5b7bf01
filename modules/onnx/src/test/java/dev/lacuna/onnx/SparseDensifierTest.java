package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class SparseDensifierTest {
    private static final Path FILE = Path.of("model.onnx");

    private static Model pruned() {
        Architecture arch = TestModels.arch(CellType.LSTM, 12, 6, 24, 2, true, RnnActivation.TANH, true);
        return TestModels.pruned(TestModels.model(arch, 1), 0.9, 2);
    }

    private static Map<String, Onnx.TensorProto> initializers(Onnx.GraphProto g) {
        return g.getInitializerList().stream().collect(Collectors.toMap(Onnx.TensorProto::getName, t -> t));
    }

    @Test
    void sparseExportsDensifyToTheDenseExportsWeights() {
        Model model = pruned();
        Onnx.GraphProto dense = OnnxExporter.export(model, ExportOptions.defaults().withSparse(SparseMode.NONE))
                .getGraph();
        assertSame(dense, SparseDensifier.densify(dense, FILE), "a dense graph is left alone");
        for (SparseMode mode : new SparseMode[] {SparseMode.INITIALIZER, SparseMode.SCATTER}) {
            Onnx.GraphProto sparse = OnnxExporter.export(model, ExportOptions.defaults().withSparse(mode))
                    .getGraph();
            Onnx.GraphProto densified = SparseDensifier.densify(sparse, FILE);
            assertEquals(0, densified.getSparseInitializerCount());
            List<String> ops = densified.getNodeList().stream().map(Onnx.NodeProto::getOpType).toList();
            assertEquals(dense.getNodeList().stream().map(Onnx.NodeProto::getOpType).toList(), ops, mode.id());
            Map<String, Onnx.TensorProto> want = initializers(dense);
            Map<String, Onnx.TensorProto> got = initializers(densified);
            assertEquals(want.keySet(), got.keySet(), mode.id() + ": no leftover values, indices or shapes");
            for (String name : want.keySet()) {
                if (want.get(name).getDataType() == OnnxTensors.FLOAT) {
                    assertArrayEquals(OnnxTensors.toFloats(want.get(name), FILE),
                            OnnxTensors.toFloats(got.get(name), FILE), mode.id() + " " + name);
                } else {
                    assertEquals(want.get(name), got.get(name), mode.id() + " " + name);
                }
                assertEquals(want.get(name).getDimsList(), got.get(name).getDimsList(), name);
            }
        }
    }

    @Test
    void theImporterReadsSparseExportsOnceDensified() {
        Model model = pruned();
        Onnx.ModelProto scatter = OnnxExporter.export(model, ExportOptions.defaults());
        Onnx.ModelProto densified = scatter.toBuilder().setGraph(SparseDensifier.densify(scatter.getGraph(), FILE))
                .build();
        Model back = OnnxImporter.fromProto(densified, FILE);
        assertEquals(model.architecture(), back.architecture());
        assertEquals(model.vocabulary(), back.vocabulary());
        for (String name : model.tensors().keySet()) {
            assertArrayEquals(model.tensor(name).data(), back.tensor(name).data(), name);
        }
    }

    @Test
    void coordinateIndicesAndLyingSparseTensorsAreChecked() {
        Onnx.SparseTensorProto.Builder coordinates = Onnx.SparseTensorProto.newBuilder()
                .setValues(OnnxTensors.toProto("w", new long[] {2}, new float[] {5, 7}))
                .setIndices(OnnxGraphBuilder.int64Tensor("w.i", 0, 1, 1, 2).toBuilder().clearDims().addDims(2)
                        .addDims(2))
                .addDims(2).addDims(3);
        Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().addSparseInitializer(coordinates).build();
        Onnx.TensorProto w = SparseDensifier.densify(graph, FILE).getInitializer(0);
        assertArrayEquals(new float[] {0, 5, 0, 0, 0, 7}, OnnxTensors.toFloats(w, FILE));

        Onnx.GraphProto outside = Onnx.GraphProto.newBuilder().addSparseInitializer(coordinates.clone()
                .setIndices(OnnxGraphBuilder.int64Tensor("w.i", 0, 6))).build();
        BadFileException e = assertThrows(BadFileException.class, () -> SparseDensifier.densify(outside, FILE));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("6"), e.getMessage());

        // a tiny file claiming a huge tensor is refused before anything is allocated
        Onnx.GraphProto huge = Onnx.GraphProto.newBuilder()
                .addInitializer(OnnxGraphBuilder.int64Tensor("size", 2_000_000_000L))
                .addNode(OnnxGraphBuilder.node("ConstantOfShape", "zeros", List.of("size"), List.of("z"), List.of()))
                .addNode(OnnxGraphBuilder.node("Relu", "use", List.of("z"), List.of("y"), List.of()))
                .build();
        BadFileException tooBig = assertThrows(BadFileException.class, () -> SparseDensifier.densify(huge, FILE));
        assertTrue(tooBig.getMessage().contains("zeros"), tooBig.getMessage());
        assertFalse(tooBig.getMessage().isEmpty());
    }
}
