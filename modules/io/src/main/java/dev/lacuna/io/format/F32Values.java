package dev.lacuna.io.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Plain float32, bit-exact: NaN payloads, infinities and −0.0 survive. */
final class F32Values implements ValueCoding {
    static final int ID = 0;
    static final F32Values INSTANCE = new F32Values();

    private F32Values() {
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String label() {
        return "f32";
    }

    @Override
    public Encoded encode(float[] values, int[] positions, int elementCount) {
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(values.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        // Raw bits, not floatToIntBits: a canonicalised NaN would lose its payload.
        out.asIntBuffer().put(rawBits(values));
        return new Encoded(out.array(), values, null);
    }

    @Override
    public Decoded decode(Cursor in, int[] positions, int storedCount, int elementCount) {
        float[] values = new float[storedCount];
        in.view(4L * storedCount, storedCount + " f32 values").asFloatBuffer().get(values);
        return new Decoded(values, null, label());
    }

    private static int[] rawBits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
