package dev.lacuna.io;

import dev.lacuna.core.Float16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The safetensors element types Lacuna reads. Floating types can be converted to float32; the integer and boolean
 * types are kept as raw little-endian bytes.
 */
public enum SafetensorsDType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    I64(8, false),
    I32(4, false),
    U8(1, false),
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    SafetensorsDType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether {@link SafetensorsTensor#toFloats()} can convert this type. */
    public boolean isFloating() {
        return floating;
    }

    /** The type spelled as in a safetensors header ({@code "F32"}, ...), or null when Lacuna does not know it. */
    public static SafetensorsDType fromHeader(String text) {
        for (SafetensorsDType t : values()) {
            if (t.name().equals(text)) {
                return t;
            }
        }
        return null;
    }

    /** Decodes {@code count} little-endian elements of this floating type into float32 values. */
    float[] toFloats(ByteBuffer bytes, int count) {
        ByteBuffer in = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count];
        switch (this) {
            case F32 -> in.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) in.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float16.toFloat(in.getShort(i * 2));
                }
            }
            // bfloat16 is the upper half of an IEEE float32, so widening is exact.
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((in.getShort(i * 2) & 0xFFFF) << 16);
                }
            }
            default -> throw new IllegalStateException(this + " is not a floating type");
        }
        return out;
    }
}
