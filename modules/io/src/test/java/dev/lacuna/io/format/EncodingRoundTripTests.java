package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each encoding under the shared round-trip contract of {@link AbstractEncodingRoundTripTest}. */
final class EncodingRoundTripTests {
    private EncodingRoundTripTests() {
    }

    /** float32 must be bit-exact. */
    abstract static class Lossless extends AbstractEncodingRoundTripTest {
        @Override
        void assertFaithful(float original, float decoded, String where) {
            assertEquals(Float.floatToRawIntBits(original), Float.floatToRawIntBits(decoded), where);
        }

        @Override
        ValueCoding coding() {
            return F32Values.INSTANCE;
        }
    }

    /** float16 rounds to the nearest half: relative error at most 2^-11 in the normal range. */
    abstract static class Half16 extends AbstractEncodingRoundTripTest {
        @Override
        void assertFaithful(float original, float decoded, String where) {
            if (Math.abs(original) >= 0x1p-14f && Math.abs(original) <= 65504f) {
                assertTrue(Math.abs(decoded - original) <= Math.abs(original) * 0x1p-11f, where);
            } else {
                assertTrue(Math.abs(decoded - original) <= 0x1p-25f || Float.isInfinite(decoded), where);
            }
        }

        @Override
        ValueCoding coding() {
            return F16Values.INSTANCE;
        }
    }

    /**
     * A codebook value is a centroid of its block; no stored weight may decode to zero unless it was zero, and a
     * tensor of one repeated value decodes to that value exactly (the mean of identical weights).
     */
    abstract static class Quantized extends AbstractEncodingRoundTripTest {
        @Override
        void assertFaithful(float original, float decoded, String where) {
            assertTrue(decoded != 0f, where + ": a non-zero weight was quantized to zero");
            assertTrue(Float.isFinite(decoded), where);
            if (original == 0.123f) {
                assertEquals(0.123f, decoded, where);
            }
        }
    }

    static final class DenseF32Test extends Lossless {
        @Override
        PositionLayout layout() {
            return AllPositions.INSTANCE;
        }
    }

    static final class BitmapF32Test extends Lossless {
        @Override
        PositionLayout layout() {
            return BitmapPositions.INSTANCE;
        }
    }

    static final class RelativeRawF32Test extends Lossless {
        @Override
        PositionLayout layout() {
            return new RelativeIndices(4, false);
        }
    }

    static final class RelativeHuffmanF32Test extends Lossless {
        @Override
        PositionLayout layout() {
            return new RelativeIndices(3, true);
        }
    }

    static final class DenseF16Test extends Half16 {
        @Override
        PositionLayout layout() {
            return AllPositions.INSTANCE;
        }
    }

    static final class RelativeF16Test extends Half16 {
        @Override
        PositionLayout layout() {
            return new RelativeIndices(1, true);
        }
    }

    /** f16 planes decode to the f16 values, so they share f16's precision promise. */
    static final class DenseF16PlanesTest extends Half16 {
        @Override
        PositionLayout layout() {
            return AllPositions.INSTANCE;
        }

        @Override
        ValueCoding coding() {
            return F16Planes.INSTANCE;
        }
    }

    static final class BitmapF16PlanesTest extends Half16 {
        @Override
        PositionLayout layout() {
            return BitmapPositions.INSTANCE;
        }

        @Override
        ValueCoding coding() {
            return F16Planes.INSTANCE;
        }
    }

    static final class RelativeHuffmanF16PlanesTest extends Half16 {
        @Override
        PositionLayout layout() {
            return new RelativeIndices(4, true);
        }

        @Override
        ValueCoding coding() {
            return F16Planes.INSTANCE;
        }
    }

    static final class Codebook5PerGateTest extends Quantized {
        @Override
        PositionLayout layout() {
            return new RelativeIndices(5, false);
        }

        @Override
        ValueCoding coding() {
            return new CodebookValues(5, 4, false);
        }
    }

    static final class Codebook2HuffmanTest extends Quantized {
        @Override
        PositionLayout layout() {
            return new RelativeIndices(8, true);
        }

        @Override
        ValueCoding coding() {
            return new CodebookValues(2, 1, true);
        }
    }

    static final class Codebook8BitmapTest extends Quantized {
        @Override
        PositionLayout layout() {
            return BitmapPositions.INSTANCE;
        }

        @Override
        ValueCoding coding() {
            return new CodebookValues(8, 2, true);
        }
    }

    static final class Codebook3DenseTest extends Quantized {
        @Override
        PositionLayout layout() {
            return AllPositions.INSTANCE;
        }

        @Override
        ValueCoding coding() {
            return new CodebookValues(3, 8, true);
        }
    }
}
