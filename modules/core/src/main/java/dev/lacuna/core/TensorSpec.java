package dev.lacuna.core;

import java.util.Arrays;

/**
 * Name, shape and role of one tensor of an {@link Architecture}.
 *
 * @param layer recurrent layer index, or -1 for the embedding and the head
 */
public record TensorSpec(String name, int[] shape, TensorRole role, int layer) {
    public TensorSpec {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && t.name.equals(name) && Arrays.equals(t.shape, shape)
                && t.role == role && t.layer == layer;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
