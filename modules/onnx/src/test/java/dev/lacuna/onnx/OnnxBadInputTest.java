package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Model;
import dev.lacuna.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input named in issue #3 ends in a {@link BadFileException} naming the file and the culprit. */
class OnnxBadInputTest {
    private static final String CASE = "lstm_o14_folded";

    @TempDir
    Path temp;

    @Test
    void missingEmptyAndGarbageFiles() throws IOException {
        expectBad(temp.resolve("absent.onnx"), "no such file");
        Path empty = Files.write(temp.resolve("empty.onnx"), new byte[0]);
        expectBad(empty, "empty");
        byte[] garbage = new byte[4096];
        new SplittableRandom(7).nextBytes(garbage);
        expectBad(Files.write(temp.resolve("garbage.onnx"), garbage), "not an ONNX model");
        // a different format: the safetensors twin of the case
        expectBad(OnnxCases.directory().resolve(CASE + ".safetensors"), "not an ONNX model");
    }

    @Test
    void truncationAtAnyPositionNeverCrashes() throws IOException {
        byte[] whole = Files.readAllBytes(OnnxCases.onnx(CASE));
        Path file = temp.resolve("cut.onnx");
        int failures = 0;
        int cuts = 0;
        for (int length = 0; length < whole.length; length += Math.max(1, whole.length / 300)) {
            cuts++;
            Files.write(file, Arrays.copyOf(whole, length));
            try {
                Model model = OnnxImporter.read(file);
                // a cut at a field boundary can leave a complete model only when nothing needed was lost
                assertEquals(OnnxImporter.read(OnnxCases.onnx(CASE)).architecture(), model.architecture());
            } catch (BadFileException e) {
                assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
                failures++;
            }
        }
        assertTrue(failures > cuts * 9 / 10, failures + " of " + cuts + " truncations failed");
    }

    @Test
    void randomByteFlipsGiveModelsOrTypedErrors() throws IOException {
        byte[] whole = Files.readAllBytes(OnnxCases.onnx(CASE));
        SplittableRandom random = new SplittableRandom(11);
        Path file = temp.resolve("flipped.onnx");
        for (int trial = 0; trial < 200; trial++) {
            byte[] bytes = whole.clone();
            for (int k = 0; k < 4; k++) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            Files.write(file, bytes);
            try {
                OnnxImporter.read(file);
            } catch (BadFileException expected) {
                // the only acceptable failure
            }
        }
    }

    @Test
    void declaredShapeLargerThanTheBytesPresent() {
        Path file = write(m -> initializer(m, "onnx::LSTM_117").setDims(2, 1L << 28));
        expectBad(file, "onnx::LSTM_117");
    }

    @Test
    void unsupportedDataType() {
        Path file = write(m -> initializer(m, "onnx::LSTM_117").setDataType(Onnx.TensorProto.DataType.INT8_VALUE));
        expectBad(file, "onnx::LSTM_117");
    }

    @Test
    void hiddenSizeDisagreeingWithR() {
        Path file = write(m -> setAttribute(m, Onnx.AttributeProto.newBuilder().setName("hidden_size").setI(9)
                .setType(Onnx.AttributeProto.AttributeType.INT)));
        expectBad(file, "hidden_size is 9");
    }

    @Test
    void wShapeDisagreeingWithR() {
        Path file = write(m -> {
            Onnx.TensorProto.Builder w = initializer(m, "onnx::LSTM_117");
            // same bytes, read as [1, 24, 8]: the gate rows no longer match hidden size 8
            w.setDims(1, 24).setDims(2, 8);
        });
        expectBad(file, "W has shape [1, 24, 8]");
    }

    @Test
    void unsupportedRecurrentFeaturesNameTheNode() {
        String node = lstm(read()).getName();
        expectBad(write(m -> setAttribute(m, Onnx.AttributeProto.newBuilder().setName("clip").setF(3f)
                .setType(Onnx.AttributeProto.AttributeType.FLOAT))), node, "clip");
        expectBad(write(m -> setAttribute(m, Onnx.AttributeProto.newBuilder().setName("layout").setI(1)
                .setType(Onnx.AttributeProto.AttributeType.INT))), node, "layout=1");
        expectBad(write(m -> setAttribute(m, Onnx.AttributeProto.newBuilder().setName("input_forget").setI(1)
                .setType(Onnx.AttributeProto.AttributeType.INT))), node, "input_forget");
        expectBad(write(m -> setAttribute(m, Onnx.AttributeProto.newBuilder().setName("direction")
                .setS(ByteString.copyFromUtf8("reverse")).setType(Onnx.AttributeProto.AttributeType.STRING))),
                node, "direction 'reverse'");
        Onnx.AttributeProto.Builder activations = Onnx.AttributeProto.newBuilder().setName("activations")
                .setType(Onnx.AttributeProto.AttributeType.STRINGS);
        for (String a : new String[] {"Sigmoid", "Relu", "Tanh"}) {
            activations.addStrings(ByteString.copyFromUtf8(a));
        }
        expectBad(write(m -> setAttribute(m, activations)), node, "activations");
        expectBad(write(m -> {
            Onnx.NodeProto.Builder lstm = lstmBuilder(m);
            while (lstm.getInputCount() < 7) {
                lstm.addInput("");
            }
            lstm.addInput("onnx::LSTM_119");
        }), node, "peephole");
    }

    @Test
    void weightsComputedAtRunTimeAreRefused() {
        Path file = write(m -> {
            Onnx.NodeProto.Builder lstm = lstmBuilder(m);
            lstm.setInput(1, "tokens");
        });
        expectBad(file, "input W ('tokens') is not a constant");
    }

    @Test
    void aGraphCycleIsReportedNotOverflowed() {
        Path file = write(m -> {
            m.getGraphBuilder().addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput("loop_b")
                    .addOutput("loop_a"));
            m.getGraphBuilder().addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput("loop_a")
                    .addOutput("loop_b"));
            lstmBuilder(m).setInput(1, "loop_a");
        });
        expectBad(file, "cycle");
    }

    @Test
    void aLongChainOfConstantOpsIsReportedNotOverflowed() {
        Path file = write(m -> {
            String previous = "onnx::LSTM_117";
            for (int i = 0; i < 5000; i++) {
                m.getGraphBuilder().addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput(previous)
                        .addOutput("chain_" + i));
                previous = "chain_" + i;
            }
            lstmBuilder(m).setInput(1, previous);
        });
        expectBad(file, "chain of more than");
    }

    @Test
    void aRecurrentNodeWithoutItsInputsIsABadFile() {
        expectBad(write(m -> lstmBuilder(m).clearInput()), "needs inputs X, W, R");
    }

    @Test
    void deeplyNestedSubgraphsHitTheParserLimit() {
        Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("leaf").build();
        for (int depth = 0; depth < 200; depth++) {
            Onnx.NodeProto node = Onnx.NodeProto.newBuilder().setOpType("If").addInput("c").addOutput("o" + depth)
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("then_branch").setG(graph)).build();
            graph = Onnx.GraphProto.newBuilder().setName("g" + depth).addNode(node).build();
        }
        Path file = temp.resolve("deep.onnx");
        OnnxFiles.write(Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build(), file);
        expectBad(file, "not an ONNX model");
    }

    @Test
    void externalDataOutsideTheModelsFolderIsRefused() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("model"));
        Files.write(temp.resolve("secret.bin"), new byte[4096]);
        Onnx.ModelProto.Builder m = read().toBuilder();
        Onnx.TensorProto.Builder w = initializer(m, "onnx::LSTM_117");
        w.clearRawData().setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("location")
                        .setValue("../secret.bin"));
        Path file = folder.resolve("escape.onnx");
        OnnxFiles.write(m.build(), file);
        expectBad(file, "leaves the model's folder");

        w.setExternalData(0, Onnx.StringStringEntryProto.newBuilder().setKey("location")
                .setValue(temp.resolve("secret.bin").toAbsolutePath().toString()));
        OnnxFiles.write(m.build(), file);
        expectBad(file, "leaves the model's folder");

        Files.write(folder.resolve("short.bin"), new byte[10]);
        w.setExternalData(0, Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("short.bin"));
        OnnxFiles.write(m.build(), file);
        expectBad(file, "onnx::LSTM_117");
    }

    @Test
    void aModelWithoutRecurrentNodesPointsAtOneShotPruning() {
        Onnx.TensorProto w = OnnxTensors.toProto("w", new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6});
        Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("mlp").addInitializer(w)
                .addNode(Onnx.NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("w").addOutput("y"))
                .build();
        Path file = temp.resolve("mlp.onnx");
        OnnxFiles.write(Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build(), file);
        expectBad(file, "prune --method oneshot");
        // and that route works on it
        OnnxPruneReport report = OnnxWeights.prune(file, temp.resolve("mlp-pruned.onnx"), OnnxPruning.perTensor(0.5));
        assertEquals(3, report.prunedTensorZeros());
    }

    private static void expectBad(Path file, String... fragments) {
        BadFileException e = assertThrows(BadFileException.class, () -> OnnxImporter.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    private static Onnx.ModelProto read() {
        return OnnxFiles.read(OnnxCases.onnx(CASE));
    }

    private Path write(Consumer<Onnx.ModelProto.Builder> edit) {
        Onnx.ModelProto.Builder m = read().toBuilder();
        edit.accept(m);
        Path file = temp.resolve("edited-" + System.nanoTime() + ".onnx");
        OnnxFiles.write(m.build(), file);
        return file;
    }

    private static Onnx.TensorProto.Builder initializer(Onnx.ModelProto.Builder m, String name) {
        for (Onnx.TensorProto.Builder t : m.getGraphBuilder().getInitializerBuilderList()) {
            if (t.getName().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no initializer " + name);
    }

    private static Onnx.NodeProto lstm(Onnx.ModelProto m) {
        return m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("LSTM")).findFirst()
                .orElseThrow();
    }

    private static Onnx.NodeProto.Builder lstmBuilder(Onnx.ModelProto.Builder m) {
        return m.getGraphBuilder().getNodeBuilderList().stream().filter(n -> n.getOpType().equals("LSTM"))
                .findFirst().orElseThrow();
    }

    /** Replaces (or adds) one attribute of the LSTM node. */
    private static void setAttribute(Onnx.ModelProto.Builder m, Onnx.AttributeProto.Builder attribute) {
        Onnx.NodeProto.Builder lstm = lstmBuilder(m);
        for (int i = 0; i < lstm.getAttributeCount(); i++) {
            if (lstm.getAttribute(i).getName().equals(attribute.getName())) {
                lstm.setAttribute(i, attribute);
                return;
            }
        }
        lstm.addAttribute(attribute);
    }
}
