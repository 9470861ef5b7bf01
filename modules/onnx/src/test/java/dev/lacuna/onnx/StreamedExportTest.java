package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.onnx.proto.Onnx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The streamed export ({@link OnnxExporter#write}: dense weights written from the model's arrays) writes exactly
 * the bytes protobuf serializes for the in-memory export, and the importer's block-wise read of raw weights gives
 * the same model as decoding them first.
 */
class StreamedExportTest {
    @TempDir
    Path dir;

    static List<String> cases() {
        return OnnxCases.names();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void theWrittenFileIsTheInMemoryExportByteForByte(String name) throws IOException {
        Model imported = OnnxImporter.read(OnnxCases.onnx(name));
        Model pruned = TestModels.pruned(imported, 0.9, 3);
        // masks that zero weights still stored non-zero: the exporter applies them to a copy
        Model masked = imported.copy();
        pruned.masks().forEach(masked::setMask);
        Map<String, Model> variants = Map.of("dense", imported, "pruned", pruned, "masked", masked);
        for (Map.Entry<String, Model> variant : variants.entrySet()) {
            for (SparseMode mode : SparseMode.values()) {
                ExportOptions options = ExportOptions.defaults().withSparse(mode);
                Path file = dir.resolve(name + "." + variant.getKey() + "." + mode.id() + ".onnx");
                ExportReport report = OnnxExporter.write(variant.getValue(), file, options);
                byte[] expected = OnnxExporter.export(variant.getValue(), options).toByteArray();
                String what = name + " " + variant.getKey() + " " + mode.id();
                assertArrayEquals(expected, Files.readAllBytes(file), what);
                assertEquals(expected.length, report.bytes(), what);
                assertEquals(expected.length, OnnxExporter.report(variant.getValue(), options).bytes(), what);
            }
        }
        assertTrue(masked.tensor("head.weight").countNonZero() > pruned.tensor("head.weight").countNonZero(),
                "the masked variant must still store the masked-out weights");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void rawWeightsReadBlockByBlockEqualDecodedTypedWeights(String name) {
        Path file = OnnxCases.onnx(name);
        Onnx.ModelProto raw = OnnxFiles.read(file);
        // the same model with every float32 raw_data initializer moved to float_data, which is decoded first
        Onnx.GraphProto.Builder graph = raw.getGraph().toBuilder();
        int moved = 0;
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            Onnx.TensorProto t = graph.getInitializer(i);
            if (t.getDataType() == OnnxTensors.FLOAT && t.hasRawData()) {
                float[] values = OnnxTensors.toFloats(t, file);
                Onnx.TensorProto.Builder typed = t.toBuilder().clearRawData();
                for (float v : values) {
                    typed.addFloatData(v);
                }
                graph.setInitializer(i, typed);
                moved++;
            }
        }
        Model fromRaw = OnnxImporter.fromProto(raw, file);
        Model fromTyped = OnnxImporter.fromProto(raw.toBuilder().setGraph(graph).build(), file);
        for (Tensor t : fromRaw.tensors().values()) {
            assertArrayEquals(fromTyped.tensor(t.name()).data(), t.data(), name + " " + t.name() + " (" + moved
                    + " initializers moved)");
        }
    }

    @Test
    void denseValuesSpanRunsAndChunks() throws IOException {
        SplittableRandom random = new SplittableRandom(4);
        float[] a = new float[70_000]; // more than one write chunk
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextInt(4) == 0 ? 0f : (float) random.nextGaussian();
        }
        float[] b = {-0f, 1.5f, 0f, 2.5f};
        DenseValues values = new DenseValues().append(a, 5, 69_990).append(b, 0, 4).append(a, 0, 3);
        float[] expected = new float[69_990 + 4 + 3];
        System.arraycopy(a, 5, expected, 0, 69_990);
        System.arraycopy(b, 0, expected, 69_990, 4);
        System.arraycopy(a, 0, expected, 69_994, 3);

        assertEquals(expected.length, values.size());
        assertArrayEquals(expected, values.toArray());
        long nonzero = 0;
        for (float v : expected) {
            nonzero += Float.floatToRawIntBits(v) != 0 ? 1 : 0;
        }
        assertEquals(nonzero, values.nonzeroCount(), "-0.0 is a stored value, +0.0 is not");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        values.writeLittleEndian(out);
        ByteBuffer le = ByteBuffer.allocate(expected.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        le.asFloatBuffer().put(expected);
        assertArrayEquals(le.array(), out.toByteArray());
        assertThrows(IndexOutOfBoundsException.class, () -> values.append(b, 2, 3));
    }

    @Test
    void distinctValuesAreCountedUpToTheLimit() {
        DenseValues fourValues = DenseValues.of(new float[] {1f, 2f, 0f, 3f, -0f, 1f, 2f, 0f});
        assertFalse(fourValues.moreDistinctThan(4), "1, 2, 3 and -0.0; +0.0 is not stored");
        assertTrue(fourValues.moreDistinctThan(3));
        assertTrue(fourValues.moreDistinctThan(0));

        // against a plain set, over runs, with many repeats and collisions of nearby bit patterns
        SplittableRandom random = new SplittableRandom(6);
        for (int trial = 0; trial < 20; trial++) {
            int levels = 1 + random.nextInt(3000);
            float[] a = new float[5000];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextInt(10) == 0 ? 0f : Float.intBitsToFloat(0x3f800000 + random.nextInt(levels));
            }
            DenseValues values = new DenseValues().append(a, 0, 2500).append(a, 2500, 2500);
            Set<Integer> distinct = new HashSet<>();
            for (float v : a) {
                if (Float.floatToRawIntBits(v) != 0) {
                    distinct.add(Float.floatToRawIntBits(v));
                }
            }
            int n = distinct.size();
            assertFalse(values.moreDistinctThan(n), "trial " + trial);
            assertTrue(n == 0 || values.moreDistinctThan(n - 1), "trial " + trial);
            assertFalse(values.moreDistinctThan(n + random.nextInt(100)), "trial " + trial);
        }
        assertThrows(IllegalArgumentException.class, () -> fourValues.moreDistinctThan(Integer.MAX_VALUE));
    }

    @Test
    void aQuantizedDenseTensorStillGetsItsCodebook() {
        // no zeros at all, so only the codebook form can beat dense: the shortcut for dense tensors must see that
        float[] levels = {-0.5f, -0.25f, 0.25f, 0.5f};
        float[] values = new float[4096];
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < values.length; i++) {
            values[i] = levels[random.nextInt(levels.length)];
        }
        OnnxGraphBuilder graph = new OnnxGraphBuilder("g");
        ExportReport.StoredTensor stored = SparseStorage.add(graph, "w", new long[] {64, 64}, values,
                SparseMode.SCATTER);
        assertEquals(SparseMode.SCATTER, stored.storage());
        assertEquals(4, stored.codebook());

        float[] real = new float[4096];
        for (int i = 0; i < real.length; i++) {
            real[i] = (float) random.nextGaussian();
        }
        OnnxGraphBuilder other = new OnnxGraphBuilder("g");
        ExportReport.StoredTensor dense = SparseStorage.add(other, "w", new long[] {64, 64}, real,
                SparseMode.SCATTER);
        assertEquals(SparseMode.NONE, dense.storage());
        assertEquals(List.of("w"), other.proto().getInitializerList().stream().map(Onnx.TensorProto::getName)
                .toList(), "a dense tensor adds its header only");
        assertFalse(other.proto().getInitializer(0).hasRawData());
        assertEquals(dense.bytes(), OnnxGraphBuilder.fieldBytes(5, OnnxTensors.toProto("w", new long[] {64, 64},
                real)), "the dense size is computed exactly, without building the tensor");
    }

    @Test
    void aModelPastProtobufsTwoGibibytesIsRefusedBeforeWriting() {
        float[] block = new float[1 << 20];
        DenseValues huge = new DenseValues();
        for (int i = 0; i < 600; i++) {
            huge.append(block, 0, block.length); // 600 Mi values = 2.4 GB, without allocating them
        }
        OnnxGraphBuilder graph = new OnnxGraphBuilder("g");
        graph.denseInitializer("w", new long[] {huge.size()}, huge);
        Onnx.ModelProto skeleton = Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(graph.proto()).build();
        StreamedModel model = new StreamedModel(skeleton, graph.deferred());
        assertTrue(model.serializedSize() > Integer.MAX_VALUE);
        LacunaException e = assertThrows(LacunaException.class, () -> model.writeTo(OutputStream.nullOutputStream()));
        assertTrue(e.getMessage().contains("2 GiB"), e.getMessage());
    }
}
