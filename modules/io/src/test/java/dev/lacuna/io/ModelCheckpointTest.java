package dev.lacuna.io;

import static dev.lacuna.io.RawSafetensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.Vocabulary;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading checkpoints that are not what {@link ModelCheckpoint#save} writes. */
class ModelCheckpointTest {
    private static final Architecture ARCH = Architecture.of(CellType.GRU, 3, 0, 2, 1);
    private static final String ARCH_JSON = ModelCheckpoint.architectureJson(ARCH);
    private static final String VOCAB_JSON = "[97,98,99]";

    @TempDir
    Path dir;

    /** A small model whose weights are multiples of 1/8, exact in every float type a checkpoint may use. */
    private static Model model() {
        Model m = Model.initialize(ARCH, Vocabulary.of("abc"), 5);
        for (Tensor t : m.tensors().values()) {
            float[] d = t.data();
            for (int i = 0; i < d.length; i++) {
                d[i] = Math.round(d[i] * 64) / 8f;
            }
        }
        return m;
    }

    /** Metadata and F32 tensors of {@link #model()}, with each tensor encoded by {@code encode}. */
    private static RawSafetensors checkpoint(String archJson, String vocabJson, String skip,
                                             Function<Tensor, Object[]> encode) {
        RawSafetensors raw = new RawSafetensors().metadata(ModelCheckpoint.FORMAT_KEY, ModelCheckpoint.FORMAT);
        if (archJson != null) {
            raw.metadata(ModelCheckpoint.ARCHITECTURE_KEY, archJson);
        }
        if (vocabJson != null) {
            raw.metadata(ModelCheckpoint.VOCABULARY_KEY, vocabJson);
        }
        for (Tensor t : model().tensors().values()) {
            if (!t.name().equals(skip)) {
                Object[] typed = encode.apply(t);
                raw.tensor(t.name(), (String) typed[0], t.shape(), (byte[]) typed[1]);
            }
        }
        return raw;
    }

    private static RawSafetensors checkpoint(String archJson, String vocabJson) {
        return checkpoint(archJson, vocabJson, null, t -> new Object[] {"F32", f32(t.data())});
    }

    private static RawSafetensors valid() {
        return checkpoint(ARCH_JSON, VOCAB_JSON);
    }

    private Path file(RawSafetensors raw) {
        return raw.writeTo(dir.resolve("model.safetensors"));
    }

    private static void assertBad(Path file, String... fragments) {
        BadFileException e = assertThrows(BadFileException.class, () -> ModelCheckpoint.load(file));
        assertEquals(file, e.file());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void handCraftedCheckpointLoads() {
        Model loaded = ModelCheckpoint.load(file(valid().metadata("lacuna.method", "n17")));
        Model expected = model();
        assertEquals(ARCH, loaded.architecture());
        assertArrayEquals(expected.tensor("rnn.weight_hh_l0").data(), loaded.tensor("rnn.weight_hh_l0").data());
        assertEquals(Map.of("lacuna.method", "n17"), loaded.metadata());
    }

    @Test
    void storedFileFollowsTheDocumentedLayout() {
        Model m = model();
        m.tensor("head.weight").data()[1] = 3f;
        m.setMask("head.weight", new boolean[] {true, false, true, true, true, true});
        m.metadata().put("lacuna.sparsity", "0.17");
        Path f = dir.resolve("saved.safetensors");
        ModelCheckpoint.save(m, f);

        SafetensorsFile content = SafetensorsFile.read(f);
        assertEquals(ModelCheckpoint.FORMAT, content.metadata().get("lacuna.format"));
        assertEquals("{\"cell\":\"gru\",\"vocab_size\":3,\"embed_dim\":0,\"hidden_size\":2,\"layers\":1,"
                + "\"bidirectional\":false,\"activation\":\"tanh\",\"linear_before_reset\":true}",
                content.metadata().get("lacuna.architecture"));
        assertEquals(VOCAB_JSON, content.metadata().get("lacuna.vocabulary"));
        assertEquals("0.17", content.metadata().get("lacuna.sparsity"));
        SafetensorsTensor mask = content.tensors().get("head.weight_mask");
        assertEquals(SafetensorsDType.U8, mask.dtype());
        assertEquals(0, mask.data().get(1));
        assertEquals(1, mask.data().get(0));
        assertEquals(SafetensorsDType.F32, content.tensors().get("head.weight").dtype());
        assertEquals(0f, content.floats("head.weight")[1], "masked weight stored as zero");
        assertEquals(3f, m.tensor("head.weight").data()[1], "the saved model itself is unchanged");
    }

    @Test
    void missingFileAndDirectory() {
        assertBad(dir.resolve("absent.safetensors"), "no such file");
        assertBad(dir, "is a directory");
    }

    @Test
    void plainStateDictIsNotACheckpoint() {
        RawSafetensors plain = new RawSafetensors().tensor("rnn.weight_hh_l0", "F32", new int[] {1}, f32(1f));
        assertBad(file(plain), "not a Lacuna checkpoint", "lacuna.architecture", "import command");
    }

    @Test
    void otherFormatVersionsAreRefused() {
        assertBad(file(valid().metadata(ModelCheckpoint.FORMAT_KEY, "lacuna-checkpoint/2")),
                "expected 'lacuna-checkpoint/1', found 'lacuna-checkpoint/2'");
    }

    @Test
    void invalidArchitectureNamesTheField() {
        assertBad(file(checkpoint("{\"cell\":", VOCAB_JSON)), "lacuna.architecture: not valid JSON");
        assertBad(file(checkpoint("[1]", VOCAB_JSON)), "lacuna.architecture: expected a JSON object");
        assertBad(file(checkpoint(ARCH_JSON.replace("\"hidden_size\":2,", ""), VOCAB_JSON)),
                "missing field 'hidden_size'");
        assertBad(file(checkpoint(ARCH_JSON.replace("\"hidden_size\":2", "\"hidden_size\":-2"), VOCAB_JSON)),
                "field 'hidden_size' must be an integer of at least 1, found -2");
        assertBad(file(checkpoint(ARCH_JSON.replace("\"gru\"", "\"tcn\""), VOCAB_JSON)),
                "field 'cell': unknown cell 'tcn'");
        assertBad(file(checkpoint(ARCH_JSON.replace("\"tanh\"", "\"gelu\""), VOCAB_JSON)),
                "field 'activation': unknown activation 'gelu'");
        assertBad(file(checkpoint(ARCH_JSON.replace("\"bidirectional\":false", "\"bidirectional\":\"no\""), VOCAB_JSON)),
                "field 'bidirectional' must be true or false");
    }

    @Test
    void invalidVocabulary() {
        assertBad(file(checkpoint(ARCH_JSON, null)), "no lacuna.vocabulary");
        assertBad(file(checkpoint(ARCH_JSON, "\"abc\"")), "expected a JSON array of code points");
        assertBad(file(checkpoint(ARCH_JSON, "[97,99,98]")), "strictly ascending", "entry 2");
        assertBad(file(checkpoint(ARCH_JSON, "[97,98,1114112]")), "entry 2 must be a Unicode code point");
        assertBad(file(checkpoint(ARCH_JSON, "[97,98]")), "vocabulary has 2 symbols but the architecture expects 3");
    }

    @Test
    void missingExtraAndMisshapenTensors() {
        assertBad(file(checkpoint(ARCH_JSON, VOCAB_JSON, "head.bias", t -> new Object[] {"F32", f32(t.data())})),
                "missing tensor 'head.bias'");
        assertBad(file(valid().tensor("rnn.weight_ih_l1", "F32", new int[] {1}, f32(0f))),
                "unexpected tensor 'rnn.weight_ih_l1'");
        assertBad(file(checkpoint(ARCH_JSON, VOCAB_JSON, "head.bias", t -> new Object[] {"F32", f32(t.data())})
                        .tensor("head.bias", "F32", new int[] {1, 3}, f32(0f, 0f, 0f))),
                "tensor 'head.bias': expected shape [3], found [1, 3]");
        assertBad(file(checkpoint(ARCH_JSON, VOCAB_JSON, "head.bias", t -> new Object[] {"F32", f32(t.data())})
                        .tensor("head.bias", "I32", new int[] {3}, new byte[12])),
                "'head.bias'", "expected a floating type", "found I32");
    }

    @Test
    void badMasks() {
        assertBad(file(valid().tensor("head.weight_mask", "U8", new int[] {6}, new byte[6])),
                "mask 'head.weight_mask'", "expected the shape of its tensor [3, 2], found [6]");
        assertBad(file(valid().tensor("head.weight_mask", "U8", new int[] {3, 2}, new byte[] {1, 1, 0, 2, 1, 1})),
                "expected only 0 (pruned) and 1 (kept), found 2 at element 3");
        assertBad(file(valid().tensor("head.weight_mask", "F32", new int[] {3, 2}, f32(1, 1, 1, 1, 1, 1))),
                "expected dtype U8 or BOOL, found F32");
        assertBad(file(valid().tensor("encoder_mask", "U8", new int[] {1}, new byte[1])),
                "unexpected tensor 'encoder_mask'");
    }

    @Test
    void loadedMasksAreAppliedAndBoolMasksAccepted() {
        Model loaded = ModelCheckpoint.load(file(valid()
                .tensor("head.weight_mask", "BOOL", new int[] {3, 2}, new byte[] {1, 0, 1, 1, 1, 0})));
        float[] expected = model().tensor("head.weight").data();
        float[] actual = loaded.tensor("head.weight").data();
        assertArrayEquals(new boolean[] {true, false, true, true, true, false}, loaded.mask("head.weight"));
        assertEquals(0f, actual[1]);
        assertEquals(0f, actual[5]);
        assertEquals(expected[0], actual[0]);
        assertEquals(expected[2], actual[2]);
    }

    @Test
    void halfBfloatAndDoubleWeightsAreConverted() {
        String[] types = {"F16", "BF16", "F64", "F32"};
        int[] next = {0};
        Model loaded = ModelCheckpoint.load(file(checkpoint(ARCH_JSON, VOCAB_JSON, null, t -> {
            String type = types[next[0]++ % types.length];
            return new Object[] {type, encode(type, t.data())};
        })));
        for (Tensor t : model().tensors().values()) {
            assertArrayEquals(t.data(), loaded.tensor(t.name()).data(), t.name());
        }
    }

    @Test
    void saveFailureNamesTheTarget() throws Exception {
        Path blocker = Files.writeString(dir.resolve("blocker"), "x");
        Path target = blocker.resolve("model.safetensors");
        BadFileException e = assertThrows(BadFileException.class, () -> ModelCheckpoint.save(model(), target));
        assertEquals(target, e.file());
    }

    /** Encodes values that are exact in every type (multiples of 1/8 below 16 in magnitude). */
    private static byte[] encode(String type, float[] values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            int bits = Float.floatToIntBits(v);
            switch (type) {
                case "F64" -> out.putDouble(v);
                case "F32" -> out.putFloat(v);
                case "BF16" -> out.putShort((short) (bits >>> 16));
                case "F16" -> {
                    int sign = (bits >>> 16) & 0x8000;
                    int exponent = ((bits >>> 23) & 0xFF) - 127 + 15;
                    out.putShort((short) (v == 0f ? sign : sign | (exponent << 10) | ((bits & 0x7FFFFF) >>> 13)));
                }
                default -> throw new IllegalArgumentException(type);
            }
        }
        byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        return bytes;
    }
}
