package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lacuna.core.InvalidOptionException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The round-trip contract every tensor encoding inherits: what the reader decodes is bit for bit what the encoder
 * promised ({@link TensorEncoder.Result#decodedData()}), masks survive exactly, and the encoding's own precision
 * promise holds ({@link #assertFaithful}). Subclasses fix one position layout and one value coding.
 */
abstract class AbstractEncodingRoundTripTest {
    static final int ROWS = 8;
    static final int COLUMNS = 40;
    static final int N = ROWS * COLUMNS;

    abstract PositionLayout layout();

    abstract ValueCoding coding();

    /** Checks the encoding's precision promise for one stored element. */
    abstract void assertFaithful(float original, float decoded, String where);

    /** A named test tensor; a null mask means no mask. */
    record Case(String name, float[] data, boolean[] mask) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(11);
        float[] dense = new float[N];
        for (int i = 0; i < N; i++) {
            dense[i] = (float) random.nextGaussian(0, 0.3);
        }
        cases.add(new Case("random dense", dense, null));
        boolean[] keep = new boolean[N];
        for (int i = 0; i < N; i++) {
            keep[i] = random.nextInt(10) == 0;
        }
        cases.add(new Case("random 90% masked", dense.clone(), keep));
        float[] sparse = new float[N];
        for (int i = 0; i < N; i++) {
            sparse[i] = random.nextInt(5) == 0 ? (float) random.nextGaussian(0, 0.3) : 0f;
        }
        cases.add(new Case("random 80% zeros, no mask", sparse, null));
        cases.add(new Case("all zeros", new float[N], null));
        cases.add(new Case("all pruned", dense.clone(), new boolean[N]));
        float[] one = new float[N];
        one[137] = -0.75f;
        cases.add(new Case("one non-zero", one, null));
        float[] ends = new float[N];
        ends[0] = 0.5f;
        ends[N - 1] = -0.25f;
        cases.add(new Case("gaps far beyond the index width", ends, null));
        float[] repeated = new float[N];
        java.util.Arrays.fill(repeated, 0.123f);
        cases.add(new Case("a single repeated value", repeated, null));
        boolean[] keptZero = keep.clone();
        float[] withZero = dense.clone();
        keptZero[3] = true;
        withZero[3] = 0f;
        keptZero[N - 2] = true;
        withZero[N - 2] = -0f;
        cases.add(new Case("masked with kept zeros", withZero, keptZero));
        float[] extremes = dense.clone();
        extremes[1] = Float.MIN_VALUE;
        extremes[2] = -Float.MAX_VALUE;
        extremes[3] = 1e-7f;
        extremes[4] = -0f;
        cases.add(new Case("extremes and signed zero", extremes, null));
        return cases.stream();
    }

    static Stream<Case> nonFinite() {
        float[] nan = new float[N];
        nan[5] = Float.intBitsToFloat(0x7FC0_1234);
        nan[6] = 1f;
        float[] inf = new float[N];
        inf[7] = Float.POSITIVE_INFINITY;
        inf[8] = Float.NEGATIVE_INFINITY;
        return Stream.of(new Case("NaN with payload", nan, null), new Case("infinities", inf, null));
    }

    /** Whether this layout can hold the case (the dense layout stores every element, so no pruned ones). */
    boolean canHold(Case c) {
        if (!(layout() instanceof AllPositions)) {
            return true;
        }
        return TensorEncoder.storedPositions(c.data(), c.mask(), coding() instanceof CodebookValues) == null
                || (c.mask() == null && !(coding() instanceof CodebookValues));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decodesWhatTheEncoderPromised(Case c) {
        assumeTrue(canHold(c), "layout cannot hold this tensor");
        TensorEncoder.Result encoded = encode(c);
        TensorDecoder.Decoded decoded = decode(encoded);

        assertArrayEquals(bits(encoded.decodedData()), bits(decoded.data()), "decoded values differ from the promise");
        if (c.mask() == null) {
            assertNull(decoded.mask());
        } else {
            assertArrayEquals(c.mask(), decoded.mask());
        }
        for (int i = 0; i < N; i++) {
            boolean stored = c.mask() == null ? c.data()[i] != 0f || layout() instanceof AllPositions : c.mask()[i];
            if (stored && c.data()[i] != 0f) {
                assertFaithful(c.data()[i], decoded.data()[i], c.name() + " element " + i);
            } else if (!stored || !(coding() instanceof F32Values)) {
                // Pruned weights and zeros are exactly zero (f32 alone keeps the sign of a stored -0.0).
                assertEquals(0f, Math.abs(decoded.data()[i]), c.name() + " element " + i + " must stay zero");
            } else {
                assertEquals(Float.floatToRawIntBits(c.data()[i]), Float.floatToRawIntBits(decoded.data()[i]));
            }
        }
        assertEquals(encoded.payload().length, decoded.report().payloadBytes());
        assertEquals(encoded.report().stored(), decoded.report().stored());
        assertEquals(encoded.report().fillers(), decoded.report().fillers());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nonFinite")
    void nonFiniteValuesFollowTheSpec(Case c) {
        assumeTrue(canHold(c));
        if (coding() instanceof CodebookValues) {
            InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> encode(c));
            assertTrue(e.getMessage().contains("t.weight"), e.getMessage());
            return;
        }
        float[] decoded = decode(encode(c)).data();
        for (int i = 0; i < N; i++) {
            float original = c.data()[i];
            if (coding() instanceof F32Values) {
                assertEquals(Float.floatToRawIntBits(original), Float.floatToRawIntBits(decoded[i]));
            } else if (Float.isNaN(original)) {
                assertTrue(Float.isNaN(decoded[i]));
            } else if (Float.isInfinite(original)) {
                assertEquals(original, decoded[i]);
            }
        }
    }

    TensorEncoder.Result encode(Case c) {
        return TensorEncoder.encodeWith("t.weight", new int[] {ROWS, COLUMNS}, c.data(), c.mask(), layout(),
                coding());
    }

    static TensorDecoder.Decoded decode(TensorEncoder.Result encoded) {
        LacunaFile.Entry entry = new LacunaFile.Entry(encoded.name(), encoded.shape(),
                encoded.masked() ? LacunaFile.FLAG_MASKED : 0, encoded.layout().id(), encoded.values().id(), 0,
                encoded.payload().length, 0);
        Path file = Path.of("memory.lacuna");
        return TensorDecoder.decode(file, entry, new Cursor(file, "tensor t", ByteBuffer.wrap(encoded.payload()), 0));
    }

    static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
