package dev.lacuna.onnx;

import java.util.Arrays;

/**
 * A row-major array fed to or returned by ONNX Runtime: float32 values or int64 values, with a shape. Exactly one of
 * {@link #floats()} and {@link #longs()} is non-null.
 */
public final class NdArray {
    private final long[] shape;
    private final float[] floats;
    private final long[] longs;

    private NdArray(long[] shape, float[] floats, long[] longs) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        int length = floats != null ? floats.length : longs.length;
        if (n != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, "
                    + length + " given");
        }
        this.shape = shape.clone();
        this.floats = floats;
        this.longs = longs;
    }

    public static NdArray ofFloats(long[] shape, float[] values) {
        return new NdArray(shape, values, null);
    }

    public static NdArray ofLongs(long[] shape, long[] values) {
        return new NdArray(shape, null, values);
    }

    public long[] shape() {
        return shape.clone();
    }

    public boolean isFloat() {
        return floats != null;
    }

    /** The float32 values (live), or null for an int64 array. */
    public float[] floats() {
        return floats;
    }

    /** The int64 values (live), or null for a float32 array. */
    public long[] longs() {
        return longs;
    }

    public int size() {
        return floats != null ? floats.length : longs.length;
    }

    /** Element {@code i} of the row-major values as a double. */
    public double get(int i) {
        return floats != null ? floats[i] : longs[i];
    }

    /**
     * The largest absolute element-wise difference. A NaN on one side only counts as an infinite difference; NaN
     * on both sides, or equal infinities, as none.
     *
     * @throws IllegalArgumentException when the shapes differ
     */
    public double maxAbsDiff(NdArray other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " differs from "
                    + Arrays.toString(other.shape));
        }
        double max = 0;
        for (int i = 0; i < size(); i++) {
            double a = get(i);
            double b = other.get(i);
            if (Double.isNaN(a) || Double.isNaN(b)) {
                if (Double.isNaN(a) != Double.isNaN(b)) {
                    return Double.POSITIVE_INFINITY;
                }
            } else if (a != b) {
                max = Math.max(max, Math.abs(a - b));
            }
        }
        return max;
    }

    @Override
    public String toString() {
        return (floats != null ? "float32" : "int64") + Arrays.toString(shape);
    }
}
