package dev.lacuna.core;

import java.util.Arrays;

/** A named, row-major float32 tensor. The data array is owned by the tensor and may be updated in place. */
public final class Tensor {
    private final String name;
    private final int[] shape;
    private final float[] data;

    public Tensor(String name, int[] shape, float[] data) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
            }
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but " + data.length + " were given");
        }
        this.name = name;
        this.shape = shape.clone();
        this.data = data;
    }

    public static Tensor zeros(String name, int[] shape) {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        return new Tensor(name, shape, new float[Math.toIntExact(n)]);
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i];
    }

    /** The backing array (not a copy): writes change the tensor. */
    public float[] data() {
        return data;
    }

    public int size() {
        return data.length;
    }

    public long countNonZero() {
        long n = 0;
        for (float v : data) {
            if (v != 0f) {
                n++;
            }
        }
        return n;
    }

    public Tensor copy() {
        return new Tensor(name, shape, data.clone());
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
