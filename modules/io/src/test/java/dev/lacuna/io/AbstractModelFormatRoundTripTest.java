package dev.lacuna.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The round-trip contract every model format inherits: a model written and read back is the same model (tensors
 * bit for bit, masks, architecture, vocabulary, metadata), and the same model always gives the same bytes.
 * Subclasses implement {@link #write} and {@link #read}; a lossy format overrides {@link #assertWeightsRoundTrip}.
 */
abstract class AbstractModelFormatRoundTripTest {
    /** Non-ASCII, astral and control characters: the vocabulary must survive any encoding the format uses. */
    private static final String SYMBOLS = "\n ab.éß€😀";

    @TempDir
    Path dir;

    abstract void write(Model model, Path file) throws IOException;

    abstract Model read(Path file) throws IOException;

    /** Bit-exact by default (NaN payloads and signed zeros included). */
    void assertWeightsRoundTrip(Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), expected.name());
        assertArrayEquals(bits(expected.data()), bits(actual.data()), expected.name());
    }

    static Stream<Arguments> models() {
        List<Arguments> cases = new ArrayList<>();
        record Cell(CellType type, RnnActivation activation, boolean linearBeforeReset) {
        }
        List<Cell> cells = List.of(
                new Cell(CellType.RNN, RnnActivation.TANH, true),
                new Cell(CellType.RNN, RnnActivation.RELU, true),
                new Cell(CellType.GRU, RnnActivation.TANH, true),
                new Cell(CellType.GRU, RnnActivation.TANH, false),
                new Cell(CellType.LSTM, RnnActivation.TANH, true));
        int vocabSize = SYMBOLS.codePointCount(0, SYMBOLS.length());
        for (Cell c : cells) {
            for (boolean bidirectional : new boolean[] {false, true}) {
                for (int layers = 1; layers <= 2; layers++) {
                    for (int embed : new int[] {0, 3}) {
                        for (boolean masked : new boolean[] {false, true}) {
                            Architecture arch = new Architecture(c.type(), vocabSize, embed, 4, layers, bidirectional,
                                    c.activation(), c.linearBeforeReset());
                            cases.add(Arguments.of(arch, masked));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    /** A model with awkward values, masks on every prunable tensor (when asked) and multilingual metadata. */
    static Model sample(Architecture arch, boolean masked) {
        Model model = Model.initialize(arch, Vocabulary.of(SYMBOLS), 42);
        float[] bias = model.tensor(Architecture.HEAD_BIAS).data();
        bias[0] = -0.0f;
        bias[1] = Float.MIN_VALUE;
        bias[2] = Float.intBitsToFloat(0x7FC0_1234); // NaN with a payload
        bias[3] = Float.NEGATIVE_INFINITY;
        if (masked) {
            SplittableRandom random = new SplittableRandom(7);
            for (TensorSpec spec : model.prunable(true)) {
                boolean[] keep = new boolean[(int) spec.elementCount()];
                for (int i = 0; i < keep.length; i++) {
                    keep[i] = random.nextInt(3) != 0;
                }
                model.setMask(spec.name(), keep);
            }
            // Weights under the masks stay non-zero here: writing must store zeros without touching the model.
        }
        Map<String, String> meta = model.metadata();
        meta.put("lacuna.version", "0.1.0-SNAPSHOT");
        meta.put("lacuna.method", "n17");
        meta.put("lacuna.hyperparameters", "{\"q\":0.1,\"freq\":100}");
        meta.put("note", "Zürich → 北京\nsecond line \"quoted\"");
        meta.put("empty", "");
        return model;
    }

    @ParameterizedTest(name = "{0} masked={1}")
    @MethodSource("models")
    void roundTripKeepsEverything(Architecture arch, boolean masked) throws IOException {
        Model original = sample(arch, masked);
        Model untouched = original.copy();
        Path file = dir.resolve("model");
        write(original, file);
        Model loaded = read(file);

        assertUnchanged(untouched, original);
        Model expected = original.copy();
        expected.applyMasks();
        assertEquals(expected.architecture(), loaded.architecture());
        assertEquals(expected.vocabulary(), loaded.vocabulary());
        assertArrayEquals(expected.vocabulary().codePoints(), loaded.vocabulary().codePoints());
        assertEquals(List.copyOf(expected.tensors().keySet()), List.copyOf(loaded.tensors().keySet()));
        for (Tensor t : expected.tensors().values()) {
            assertWeightsRoundTrip(t, loaded.tensor(t.name()));
            boolean[] mask = expected.mask(t.name());
            if (mask == null) {
                assertNull(loaded.mask(t.name()), t.name());
            } else {
                assertArrayEquals(mask, loaded.mask(t.name()), t.name());
            }
        }
        assertEquals(expected.masks().keySet(), loaded.masks().keySet());
        assertEquals(expected.metadata(), loaded.metadata());
    }

    @ParameterizedTest(name = "{0} masked={1}")
    @MethodSource("models")
    void sameModelGivesSameBytes(Architecture arch, boolean masked) throws IOException {
        Path first = dir.resolve("first");
        Path second = dir.resolve("second");
        write(sample(arch, masked), first);
        write(sample(arch, masked), second);
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second));
    }

    private static void assertUnchanged(Model before, Model after) {
        for (Tensor t : before.tensors().values()) {
            assertArrayEquals(bits(t.data()), bits(after.tensor(t.name()).data()), "writing changed " + t.name());
        }
        assertEquals(before.metadata(), after.metadata(), "writing changed the metadata");
    }

    static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
