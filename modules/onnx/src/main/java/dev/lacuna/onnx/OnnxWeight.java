package dev.lacuna.onnx;

import java.util.Arrays;

/**
 * One weight tensor of an ONNX model, wherever it is stored.
 *
 * @param name      the tensor's name (may be empty for an anonymous Constant value)
 * @param location  where it lives: {@code initializer}, {@code Constant node 'x'}, or a path through subgraphs such as
 *                  {@code If node 'cond'/then_branch/initializer}; {@code (external)} is appended for external data
 * @param shape     its dimensions
 * @param dataType  the ONNX element type (FLOAT, FLOAT16, BFLOAT16, DOUBLE)
 * @param embedding whether it is the data operand of a Gather (an embedding table)
 * @param zeros     how many of its values are zero
 */
public record OnnxWeight(String name, String location, int[] shape, String dataType, boolean embedding,
                         long zeros) {

    public OnnxWeight {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of values. */
    public long size() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** Fraction of values that are zero. */
    public double sparsity() {
        long n = size();
        return n == 0 ? 0 : (double) zeros / n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OnnxWeight w && w.name.equals(name) && w.location.equals(location)
                && Arrays.equals(w.shape, shape) && w.dataType.equals(dataType) && w.embedding == embedding
                && w.zeros == zeros;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + location.hashCode();
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + dataType + " at " + location;
    }
}
