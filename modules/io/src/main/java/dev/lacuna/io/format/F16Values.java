package dev.lacuna.io.format;

import dev.lacuna.core.Float16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/** IEEE binary16, rounded to nearest even: half the bytes of f32 at about three significant digits. */
final class F16Values implements ValueCoding {
    static final int ID = 1;
    static final F16Values INSTANCE = new F16Values();

    private F16Values() {
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String label() {
        return "f16";
    }

    @Override
    public Encoded encode(float[] values, int[] positions, int elementCount) {
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(values.length, 2)).order(ByteOrder.LITTLE_ENDIAN);
        ShortBuffer halves = out.asShortBuffer();
        float[] decoded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            short h = Float16.fromFloat(values[i]);
            halves.put(h);
            decoded[i] = Float16.toFloat(h);
        }
        return new Encoded(out.array(), decoded, null);
    }

    @Override
    public Decoded decode(Cursor in, int[] positions, int storedCount, int elementCount) {
        ShortBuffer halves = in.view(2L * storedCount, storedCount + " f16 values").asShortBuffer();
        float[] values = new float[storedCount];
        for (int i = 0; i < storedCount; i++) {
            values[i] = Float16.toFloat(halves.get(i));
        }
        return new Decoded(values, null, label());
    }
}
