package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Files written by every released format version must keep loading to the same values (format.md §8). Each golden
 * {@code testdata/format/v<version>-<name>.lacuna} sits beside {@code .expected.json}: the float bits and masks the
 * file held when it was written.
 *
 * <p>Regenerate (only when adding a format version, never to make a failing test pass):
 * {@code ./mvnw -B -o -q -pl modules/io -am test -Dtest=GoldenFilesTest -Dlacuna.format.regenerate=true
 * -Dsurefire.failIfNoSpecifiedTests=false}
 */
class GoldenFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Path FOLDER = Path.of("..", "..", "testdata", "format");

    /** The golden files of every format version: a few tiny models and encodings each. */
    static List<String> goldenFiles() {
        return List.of("v1.0-lstm-lossless", "v1.0-gru-fp16", "v1.0-rnn-quantized3-huffman",
                "v1.1-lstm-fp16-planes");
    }

    @ParameterizedTest
    @MethodSource("goldenFiles")
    void goldenFilesKeepLoadingToTheirValues(String name) throws IOException {
        Model model = LacunaFormat.read(FOLDER.resolve(name + ".lacuna"));
        JsonNode expected = JSON.readTree(FOLDER.resolve(name + ".expected.json").toFile());
        assertEquals(expected.get("architecture").asText(), model.architecture().toString());
        assertEquals(expected.get("vocabulary").asText(), model.vocabulary().asString());
        JsonNode tensors = expected.get("tensors");
        assertEquals(tensors.size(), model.tensors().size());
        for (Tensor t : model.tensors().values()) {
            JsonNode e = tensors.get(t.name());
            int[] bits = AbstractEncodingRoundTripTest.bits(t.data());
            JsonNode expectedBits = e.get("bits");
            assertEquals(expectedBits.size(), bits.length, t.name());
            for (int i = 0; i < bits.length; i++) {
                assertEquals(expectedBits.get(i).asText(), Integer.toHexString(bits[i]), t.name() + " element " + i);
            }
            boolean[] mask = model.mask(t.name());
            if (e.get("mask").isNull()) {
                assertNull(mask, t.name());
            } else {
                assertEquals(e.get("mask").asText(), maskString(mask), t.name());
            }
        }
        assertEquals(JSON.convertValue(expected.get("metadata"), Map.class), model.metadata());
    }

    /** A golden file is stamped with the version in its name: a 1.1 writer still writes 1.0 when it can. */
    @ParameterizedTest
    @MethodSource("goldenFiles")
    void goldenFilesAreStampedWithTheirVersion(String name) throws IOException {
        byte[] preamble = Arrays.copyOf(Files.readAllBytes(FOLDER.resolve(name + ".lacuna")), 12);
        int major = preamble[8] & 0xFF | (preamble[9] & 0xFF) << 8;
        int minor = preamble[10] & 0xFF | (preamble[11] & 0xFF) << 8;
        assertTrue(name.startsWith("v" + major + "." + minor + "-"), name + " says " + major + "." + minor);
    }

    @Test
    void theOneOneGoldenFileUsesPlanesWithHuffmanCodedHighBytes() {
        LacunaFileReport report = LacunaFormat.inspect(FOLDER.resolve("v1.1-lstm-fp16-planes.lacuna"));
        assertTrue(report.tensors().stream().anyMatch(t -> t.encoding().endsWith("f16planes/huffman")),
                report::toString);
        assertTrue(report.tensors().stream().anyMatch(t -> t.values().equals("f16")), "and plain f16 beside them");
    }

    @Test
    void goldenFilesAreSmall() throws IOException {
        for (String name : goldenFiles()) {
            long size = Files.size(FOLDER.resolve(name + ".lacuna"));
            assertTrue(size < 4096, name + " is " + size + " bytes");
        }
    }

    /**
     * Writes the golden files that do not exist yet. Existing ones are never rewritten: a file of an older version
     * must stay as that version's writer made it (today's writer would, for instance, write the quantized Huffman
     * model's biases as 1.1 f16 planes).
     */
    @Test
    @EnabledIfSystemProperty(named = "lacuna.format.regenerate", matches = "true")
    void regenerate() throws IOException {
        Files.createDirectories(FOLDER);
        write("v1.0-lstm-lossless", model(CellType.LSTM, 3, 1, 0.5, 21), EncodingOptions.lossless());
        write("v1.0-gru-fp16", model(CellType.GRU, 4, 2, 0.7, 22), EncodingOptions.fp16());
        write("v1.0-rnn-quantized3-huffman", model(CellType.RNN, 16, 2, 0.8, 23),
                EncodingOptions.quantized(3).withHuffman(true));
        write("v1.1-lstm-fp16-planes", halfPrecisionSpecials(model(CellType.LSTM, 8, 1, 0.3, 24)),
                EncodingOptions.fp16().withHuffman(true));
    }

    /**
     * Positive recurrent weights (so that the high bytes' Huffman table of so small a matrix pays for itself, see
     * {@link F16PlanesTest#positiveWeights}) holding the values format.md §6.5 singles out: a NaN with a payload,
     * +Inf, a magnitude that rounds to +Inf, a kept −0.0, a subnormal and a tie that rounds to even.
     */
    private static Model halfPrecisionSpecials(Model model) {
        String name = Architecture.weightHh(0, false);
        F16PlanesTest.positiveWeights(model);
        float[] w = model.tensor(name).data();
        boolean[] keep = model.mask(name);
        float[] specials = {Float.intBitsToFloat(0x7FC2_4000), Float.POSITIVE_INFINITY, 65520f, -0f, 0x1p-20f,
            1f + 0x1p-11f};
        for (int i = 0, k = 0; i < w.length && k < specials.length; i++) {
            if (keep[i]) {
                w[i] = specials[k++];
            }
        }
        return model;
    }

    private static Model model(CellType cell, int hidden, int layers, double sparsity, long seed) {
        Architecture arch = new Architecture(cell, 5, 2, hidden, layers, false, RnnActivation.TANH, true);
        Model model = Model.initialize(arch, Vocabulary.of("ab\né😀"), seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (TensorSpec spec : model.prunable(false)) {
            boolean[] keep = new boolean[(int) spec.elementCount()];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = random.nextDouble() >= sparsity;
            }
            model.setMask(spec.name(), keep);
        }
        model.tensor(Architecture.HEAD_BIAS).data()[0] = -0f;
        model.metadata().put("lacuna.version", "0.1.0-golden");
        model.metadata().put("lacuna.method", "gradual");
        return model;
    }

    private static void write(String name, Model model, EncodingOptions options) throws IOException {
        if (Files.exists(FOLDER.resolve(name + ".lacuna"))) {
            return;
        }
        EncodedModel encoded = LacunaFormat.encode(model, options);
        encoded.write(FOLDER.resolve(name + ".lacuna"));
        Model decoded = encoded.decoded();
        ObjectNode root = JSON.createObjectNode();
        root.put("architecture", decoded.architecture().toString());
        root.put("vocabulary", decoded.vocabulary().asString());
        ObjectNode tensors = root.putObject("tensors");
        for (Tensor t : decoded.tensors().values()) {
            ObjectNode e = tensors.putObject(t.name());
            var bits = e.putArray("bits");
            for (int b : AbstractEncodingRoundTripTest.bits(t.data())) {
                bits.add(Integer.toHexString(b));
            }
            boolean[] mask = decoded.mask(t.name());
            if (mask == null) {
                e.putNull("mask");
            } else {
                e.put("mask", maskString(mask));
            }
        }
        root.set("metadata", JSON.valueToTree(decoded.metadata()));
        JSON.writeValue(FOLDER.resolve(name + ".expected.json").toFile(), root);
    }

    private static String maskString(boolean[] mask) {
        StringBuilder s = new StringBuilder(mask.length);
        for (boolean keep : mask) {
            s.append(keep ? '1' : '0');
        }
        return s.toString();
    }
}
