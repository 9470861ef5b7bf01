package dev.lacuna.io.npz;

import dev.lacuna.core.Float16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A numpy scalar type read from an NPY {@code descr} string such as {@code '<f4'}: byte order, kind and item size.
 * Only plain numeric kinds are known: floats ({@code f2 f4 f8}), signed and unsigned integers and booleans.
 */
record NpyDType(ByteOrder order, char kind, int itemSize) {
    /** Longest unicode string type read ({@code <U...}): Lacuna only stores metadata text in one. */
    static final int MAX_STRING_CHARS = 1 << 24;

    /** Parses a descr, or returns null when it is not a plain numeric type Lacuna knows. */
    static NpyDType parse(String descr) {
        if (descr.length() < 3) {
            return null;
        }
        ByteOrder order = switch (descr.charAt(0)) {
            case '<' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            // '|' marks one-byte types, for which order does not apply
            case '|' -> ByteOrder.LITTLE_ENDIAN;
            default -> null;
        };
        if (order == null) {
            return null;
        }
        char kind = descr.charAt(1);
        int size;
        try {
            size = Integer.parseInt(descr.substring(2));
        } catch (NumberFormatException e) {
            return null;
        }
        if (kind == 'U') {
            // unicode strings: the number counts UCS-4 characters, 4 bytes each
            return size >= 0 && size <= MAX_STRING_CHARS && descr.charAt(0) != '|'
                    ? new NpyDType(order, kind, size * 4) : null;
        }
        boolean known = switch (kind) {
            case 'f' -> size == 2 || size == 4 || size == 8;
            case 'i', 'u' -> size == 1 || size == 2 || size == 4 || size == 8;
            case 'b' -> size == 1;
            default -> false;
        };
        // '|' (no byte order) only makes sense for one-byte types
        if (!known || (descr.charAt(0) == '|' && size != 1)) {
            return null;
        }
        return new NpyDType(order, kind, size);
    }

    boolean isFloating() {
        return kind == 'f';
    }

    /** The descr as numpy writes it. */
    String descr() {
        char orderChar = itemSize == 1 ? '|' : order == ByteOrder.BIG_ENDIAN ? '>' : '<';
        return orderChar + String.valueOf(kind) + (kind == 'U' ? itemSize / 4 : itemSize);
    }

    boolean isString() {
        return kind == 'U';
    }

    /** Converts {@code count} elements to float32 (booleans to 0 and 1; wide integers may round). */
    float[] toFloats(byte[] data, int count) {
        if (isString()) {
            throw new IllegalStateException("a string array has no numeric values");
        }
        ByteBuffer in = ByteBuffer.wrap(data).order(order);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            int at = i * itemSize;
            out[i] = switch (kind) {
                case 'f' -> switch (itemSize) {
                    case 2 -> Float16.toFloat(in.getShort(at));
                    case 4 -> in.getFloat(at);
                    default -> (float) in.getDouble(at);
                };
                case 'b' -> in.get(at) != 0 ? 1f : 0f;
                case 'u' -> switch (itemSize) {
                    case 1 -> in.get(at) & 0xFF;
                    case 2 -> in.getShort(at) & 0xFFFF;
                    case 4 -> in.getInt(at) & 0xFFFF_FFFFL;
                    default -> unsignedLongToFloat(in.getLong(at));
                };
                default -> switch (itemSize) {
                    case 1 -> in.get(at);
                    case 2 -> in.getShort(at);
                    case 4 -> in.getInt(at);
                    default -> in.getLong(at);
                };
            };
        }
        return out;
    }

    /** Converts {@code count} integer or boolean elements to int64, exactly. */
    long[] toLongs(byte[] data, int count) {
        ByteBuffer in = ByteBuffer.wrap(data).order(order);
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            int at = i * itemSize;
            out[i] = switch (itemSize) {
                case 1 -> kind == 'i' ? in.get(at) : in.get(at) & 0xFF;
                case 2 -> kind == 'i' ? in.getShort(at) : in.getShort(at) & 0xFFFF;
                case 4 -> kind == 'i' ? in.getInt(at) : in.getInt(at) & 0xFFFF_FFFFL;
                default -> in.getLong(at);
            };
            if (kind == 'u' && itemSize == 8 && out[i] < 0) {
                throw new IllegalStateException("element " + i + " = " + Long.toUnsignedString(out[i])
                        + " does not fit a signed 64-bit integer");
            }
        }
        return out;
    }

    private static float unsignedLongToFloat(long v) {
        return v >= 0 ? v : (float) ((v >>> 1) * 2.0);
    }
}
