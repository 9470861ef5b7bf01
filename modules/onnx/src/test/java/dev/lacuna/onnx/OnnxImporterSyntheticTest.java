package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graphs built here for what the PyTorch cases do not cover: a GRU with {@code linear_before_reset=0} (PyTorch always
 * exports 1), a Gemm head over a flattened [T·B, H] sequence and a float one-hot graph input, checked against ONNX
 * Runtime's own outputs.
 */
class OnnxImporterSyntheticTest {
    private static final int VOCAB = 7;
    private static final int EMBED = 4;
    private static final int HIDDEN = 5;
    private static final int TIME = 6;
    private static final int BATCH = 3;

    @TempDir
    Path temp;

    @Test
    void gruWithoutLinearBeforeResetAndAGemmHeadMatchOnnxRuntime() throws OrtException {
        Path file = temp.resolve("gru-lbr0.onnx");
        OnnxFiles.write(gruModel(0, null), file);
        Model model = OnnxImporter.read(file);
        assertEquals(CellType.GRU, model.architecture().cell());
        assertFalse(model.architecture().linearBeforeReset());
        assertEquals(EMBED, model.architecture().embedDim());
        JsonNode root = tokens();
        double diff = OrtRunner.maxDifference(OrtRunner.logits(file, root),
                OnnxCases.lacunaLogits(model, root));
        assertTrue(diff <= 1e-5, "max |ORT − Lacuna| = " + diff);
    }

    @Test
    void gruWithLinearBeforeResetMatchesOnnxRuntimeToo() throws OrtException {
        Path file = temp.resolve("gru-lbr1.onnx");
        OnnxFiles.write(gruModel(1, null), file);
        Model model = OnnxImporter.read(file);
        assertTrue(model.architecture().linearBeforeReset());
        JsonNode root = tokens();
        assertTrue(OrtRunner.maxDifference(OrtRunner.logits(file, root),
                OnnxCases.lacunaLogits(model, root)) <= 1e-5);
    }

    @Test
    void vocabularyAndArchitectureComeFromMetadataWhenPresent() {
        Path file = temp.resolve("meta.onnx");
        OnnxFiles.write(gruModel(1, "[10,32,97,98,99,100,101]"), file);
        Model model = OnnxImporter.read(file);
        assertEquals(Vocabulary.fromString("\n abcde"), model.vocabulary());
        assertFalse(model.metadata().containsKey(OnnxImporter.PLACEHOLDER_KEY));
        assertEquals("onnx", model.metadata().get(OnnxImporter.SOURCE_KEY));

        Onnx.ModelProto wrongHint = gruModel(1, null).toBuilder().addMetadataProps(Onnx.StringStringEntryProto
                .newBuilder().setKey(OnnxImporter.ARCHITECTURE_KEY).setValue("{\"cell\":\"lstm\",\"layers\":1}"))
                .build();
        OnnxFiles.write(wrongHint, file);
        BadFileException e = assertThrows(BadFileException.class, () -> OnnxImporter.read(file));
        assertTrue(e.getMessage().contains("cell = lstm"), e.getMessage());

        // a re-exported import stores the placeholder list and its flag: the flag survives
        OnnxFiles.write(gruModel(1, "[0,1,2,3,4,5,6]").toBuilder().addMetadataProps(Onnx.StringStringEntryProto
                .newBuilder().setKey(OnnxImporter.PLACEHOLDER_KEY).setValue("true")).build(), file);
        assertEquals("true", OnnxImporter.read(file).metadata().get(OnnxImporter.PLACEHOLDER_KEY));

        OnnxFiles.write(gruModel(1, "[1,2]"), file);
        assertThrows(BadFileException.class, () -> OnnxImporter.read(file));
    }

    @Test
    void aFloatOneHotGraphInputImportsAsEmbedDimZero() throws OrtException {
        SplittableRandom random = new SplittableRandom(9);
        int g = 4 * HIDDEN;
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("onehot")
                .addInitializer(randomTensor("W", random, 1, g, VOCAB))
                .addInitializer(randomTensor("R", random, 1, g, HIDDEN))
                .addInitializer(randomTensor("kernel", random, HIDDEN, VOCAB))
                .addInitializer(randomTensor("bias", random, VOCAB))
                .addInitializer(longs("axis1", 1))
                .addInput(valueInfo("x", Onnx.TensorProto.DataType.FLOAT_VALUE, TIME, BATCH, VOCAB))
                .addOutput(valueInfo("logits", Onnx.TensorProto.DataType.FLOAT_VALUE, TIME, BATCH, VOCAB));
        graph.addNode(node("LSTM", "y", "x", "W", "R").addAttribute(intAttribute("hidden_size", HIDDEN)));
        graph.addNode(node("Squeeze", "h", "y", "axis1"));
        graph.addNode(node("MatMul", "z", "h", "kernel"));
        graph.addNode(node("Add", "logits", "z", "bias"));
        Path file = temp.resolve("onehot-input.onnx");
        OnnxFiles.write(Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(graph)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(14)).build(), file);
        Model model = OnnxImporter.read(file);
        assertEquals(0, model.architecture().embedDim());
        assertEquals(CellType.LSTM, model.architecture().cell());

        JsonNode root = tokens();
        float[] oneHot = new float[TIME * BATCH * VOCAB];
        for (int t = 0; t < TIME; t++) {
            for (int b = 0; b < BATCH; b++) {
                oneHot[(t * BATCH + b) * VOCAB + root.get("tokens").get(t).get(b).asInt()] = 1f;
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[][][] ort;
        try (OrtSession session = env.createSession(file.toString(),
                new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env,
                     FloatBuffer.wrap(oneHot), new long[] {TIME, BATCH, VOCAB});
             OrtSession.Result result = session.run(Map.of("x", input))) {
            ort = (float[][][]) result.get(0).getValue();
        }
        assertTrue(OrtRunner.maxDifference(ort, OnnxCases.lacunaLogits(model, root)) <= 1e-5);
    }

    /** tokens [T, B] int64 → Gather → GRU → Squeeze → Reshape [T·B, H] → Gemm(transB) → Reshape [T, B, V]. */
    private static Onnx.ModelProto gruModel(int linearBeforeReset, String vocabularyJson) {
        SplittableRandom random = new SplittableRandom(3);
        int g = 3 * HIDDEN;
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("gru")
                .addInitializer(randomTensor("emb", random, VOCAB, EMBED))
                .addInitializer(randomTensor("W", random, 1, g, EMBED))
                .addInitializer(randomTensor("R", random, 1, g, HIDDEN))
                .addInitializer(randomTensor("B", random, 1, 2 * g))
                .addInitializer(randomTensor("head_w", random, VOCAB, HIDDEN))
                .addInitializer(randomTensor("head_b", random, VOCAB))
                .addInitializer(longs("axis1", 1))
                .addInitializer(longs("flat", -1, HIDDEN))
                .addInitializer(longs("unflat", TIME, BATCH, VOCAB))
                .addInput(valueInfo("tokens", Onnx.TensorProto.DataType.INT64_VALUE, TIME, BATCH))
                .addOutput(valueInfo("logits", Onnx.TensorProto.DataType.FLOAT_VALUE, TIME, BATCH, VOCAB));
        graph.addNode(node("Gather", "tokens_emb", "emb", "tokens"));
        graph.addNode(node("GRU", "y", "tokens_emb", "W", "R", "B")
                .addAttribute(intAttribute("hidden_size", HIDDEN))
                .addAttribute(intAttribute("linear_before_reset", linearBeforeReset)));
        graph.addNode(node("Squeeze", "y3", "y", "axis1"));
        graph.addNode(node("Reshape", "y2", "y3", "flat"));
        graph.addNode(node("Gemm", "z", "y2", "head_w", "head_b").addAttribute(intAttribute("transB", 1)));
        graph.addNode(node("Reshape", "logits", "z", "unflat"));
        Onnx.ModelProto.Builder model = Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(graph)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(14));
        if (vocabularyJson != null) {
            model.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(OnnxImporter.VOCABULARY_KEY)
                    .setValue(vocabularyJson));
        }
        return model.build();
    }

    private static JsonNode tokens() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ArrayNode rows = root.putArray("tokens");
        SplittableRandom random = new SplittableRandom(5);
        for (int t = 0; t < TIME; t++) {
            ArrayNode row = rows.addArray();
            for (int b = 0; b < BATCH; b++) {
                row.add(random.nextInt(VOCAB));
            }
        }
        return root;
    }

    private static Onnx.TensorProto randomTensor(String name, SplittableRandom random, long... dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return OnnxTensors.toProto(name, dims, v);
    }

    private static Onnx.TensorProto longs(String name, long... values) {
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(Onnx.TensorProto.DataType.INT64_VALUE).addDims(values.length);
        for (long v : values) {
            t.addInt64Data(v);
        }
        return t.build();
    }

    private static Onnx.NodeProto.Builder node(String op, String output, String... inputs) {
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(op + "_" + output)
                .addOutput(output);
        for (String in : inputs) {
            n.addInput(in);
        }
        return n;
    }

    private static Onnx.AttributeProto intAttribute(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setI(value)
                .setType(Onnx.AttributeProto.AttributeType.INT).build();
    }

    private static Onnx.ValueInfoProto valueInfo(String name, int type, long... dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }
}
