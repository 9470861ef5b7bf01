package dev.lacuna.core;

/**
 * IEEE 754 binary16 conversions, the one copy every reader and writer of half-precision tensors uses (safetensors,
 * npz, ONNX, the {@code .lacuna} fp16 encoding). Java 17 has neither {@code Float.float16ToFloat} nor
 * {@code Float.floatToFloat16} (both arrived in Java 20). Rounding is to nearest, ties to even (format.md §6.4).
 */
public final class Float16 {
    private Float16() {
    }

    /** The binary16 bits nearest to {@code value}; NaN stays a quiet NaN keeping the top 10 significand bits. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xFF;
        int significand = bits & 0x7F_FFFF;
        if (exponent == 0xFF) {
            return (short) (significand == 0 ? sign | 0x7C00 : sign | 0x7E00 | (significand >>> 13));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 31) {
            return (short) (sign | 0x7C00);
        }
        if (halfExponent <= 0) {
            // Subnormal result: the half unit is 2^-24, so the 24-bit significand shifts right by 126 - exponent.
            // A float subnormal (exponent 0) is far below 2^-25 and rounds to zero.
            if (exponent == 0) {
                return (short) sign;
            }
            int shift = 126 - exponent;
            if (shift > 25) {
                return (short) sign;
            }
            return (short) (sign | roundShift(significand | 0x80_0000, shift));
        }
        // Normal: a carry out of the rounded significand bumps the exponent, and from 30 up to infinity, as it must.
        return (short) (sign | ((halfExponent << 10) + roundShift(significand, 13)));
    }

    /** The exact float value of binary16 {@code bits} (subnormals, infinities and NaN payloads included). */
    public static float toFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int significand = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (significand << 13));
        }
        if (exponent == 0) {
            float magnitude = significand * 0x1p-24f; // exact: at most 10 significant bits
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (significand << 13));
    }

    /** {@code value >> shift} rounded to nearest, ties to even. */
    private static int roundShift(int value, int shift) {
        int kept = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rest > half || (rest == half && (kept & 1) == 1)) {
            kept++;
        }
        return kept;
    }
}
