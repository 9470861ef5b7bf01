package dev.lacuna.onnx;

import dev.lacuna.core.CellType;

/**
 * The one place where gate blocks move between Lacuna's (PyTorch's) packing and ONNX's.
 *
 * <p>Lacuna stacks gate blocks along the rows of W, R and the biases as LSTM i,f,g,o and GRU r,z,n. ONNX
 * (Operators.md, LSTM and GRU) stacks them as LSTM i,o,f,c and GRU z,r,h, where c and h name the same
 * candidate block as PyTorch's g and n. An RNN has a single block, so both orders agree.
 */
final class OnnxGateOrder {

    /** {@code ONNX_FROM_LACUNA[cell][k]} = the Lacuna block that ONNX stores as its k-th block. */
    private static final int[] LSTM = {0, 3, 1, 2};
    private static final int[] GRU = {1, 0, 2};
    private static final int[] RNN = {0};

    private OnnxGateOrder() {
    }

    /**
     * Reorders row blocks of a tensor packed in Lacuna's gate order into ONNX's order.
     *
     * @param packed row-major values of a [gates·hidden, columns] matrix (or a [gates·hidden] vector with columns 1)
     */
    static float[] toOnnx(CellType cell, float[] packed, int hidden, int columns) {
        return permute(order(cell), packed, hidden, columns, true);
    }

    /** The inverse of {@link #toOnnx}: ONNX's gate order back to Lacuna's. */
    static float[] fromOnnx(CellType cell, float[] packed, int hidden, int columns) {
        return permute(order(cell), packed, hidden, columns, false);
    }

    /** The Lacuna gate block stored as ONNX's k-th block. */
    static int lacunaBlockAt(CellType cell, int onnxBlock) {
        return order(cell)[onnxBlock];
    }

    private static int[] order(CellType cell) {
        return switch (cell) {
            case LSTM -> LSTM;
            case GRU -> GRU;
            case RNN -> RNN;
        };
    }

    private static float[] permute(int[] onnxFromLacuna, float[] packed, int hidden, int columns, boolean toOnnx) {
        int block = Math.multiplyExact(hidden, columns);
        if (packed.length != Math.multiplyExact(block, onnxFromLacuna.length)) {
            throw new IllegalArgumentException("expected " + onnxFromLacuna.length + " gate blocks of " + hidden + "x"
                    + columns + " values, got " + packed.length + " values");
        }
        float[] out = new float[packed.length];
        for (int k = 0; k < onnxFromLacuna.length; k++) {
            int onnxOffset = k * block;
            int lacunaOffset = onnxFromLacuna[k] * block;
            if (toOnnx) {
                System.arraycopy(packed, lacunaOffset, out, onnxOffset, block);
            } else {
                System.arraycopy(packed, onnxOffset, out, lacunaOffset, block);
            }
        }
        return out;
    }
}
