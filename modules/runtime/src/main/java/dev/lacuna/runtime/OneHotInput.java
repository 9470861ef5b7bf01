package dev.lacuna.runtime;

/**
 * The input matrix of a one-hot layer 0 ({@code [gates·hidden, vocab]}), stored by columns: the product with a
 * one-hot vector is then one column gathered into the gate buffer, never a product over the whole vocabulary.
 * Sparse columns are the rows of the transposed matrix in compressed sparse rows.
 */
final class OneHotInput {
    private final int cols;
    private final DenseMatrix dense;
    /** The transpose (one row per vocabulary symbol), or null when {@link #dense} is used. */
    private final int[] start;
    private final char[] index;
    private final float[] values;

    private OneHotInput(int cols, DenseMatrix dense, int[] start, char[] index, float[] values) {
        this.cols = cols;
        this.dense = dense;
        this.start = start;
        this.index = index;
        this.values = values;
    }

    static OneHotInput of(float[] rowMajor, boolean[] keep, int rows, int cols, KernelChoice choice) {
        if (!SparseMatrix.chosen(rowMajor, keep, choice) || rows > 1 << 16) {
            // More than 65,536 gate rows would not fit the 16-bit index (far beyond a character model). A one-hot
            // product gathers one column: too little work to split over threads.
            DenseMatrix columns = DenseMatrix.of(rowMajor, keep, rows, cols, RowThreads.of(1));
            return new OneHotInput(cols, columns, null, null, null);
        }
        int[] start = new int[cols + 1];
        for (int c = 0; c < cols; c++) {
            int n = 0;
            for (int r = 0; r < rows; r++) {
                if (SparseMatrix.kept(rowMajor, keep, r * cols + c)) {
                    n++;
                }
            }
            start[c + 1] = start[c] + n;
        }
        char[] index = new char[start[cols]];
        float[] values = new float[start[cols]];
        for (int c = 0; c < cols; c++) {
            int k = start[c];
            for (int r = 0; r < rows; r++) {
                int i = r * cols + c;
                if (SparseMatrix.kept(rowMajor, keep, i)) {
                    index[k] = (char) r;
                    values[k++] = rowMajor[i];
                }
            }
        }
        return new OneHotInput(cols, null, start, index, values);
    }

    /** {@code y[r * stride + offset] += W[r][c]} for every row r. */
    void addColumn(int c, float[] y, int offset, int stride) {
        if (dense != null) {
            dense.addColumn(c, y, offset, stride);
            return;
        }
        for (int k = start[c], end = start[c + 1]; k < end; k++) {
            y[index[k] * stride + offset] += values[k];
        }
    }

    /** {@code y += W x} for an arbitrary input vector (the step API's vector form). */
    void multiplyAdd(float[] x, float[] y) {
        if (dense != null) {
            dense.multiplyAdd(x, y);
            return;
        }
        for (int c = 0; c < cols; c++) {
            float xc = x[c];
            if (xc != 0f) {
                for (int k = start[c], end = start[c + 1]; k < end; k++) {
                    y[index[k]] += values[k] * xc;
                }
            }
        }
    }

    long nonZeros() {
        return dense != null ? dense.nonZeros() : values.length;
    }

    long bytes() {
        return dense != null ? dense.bytes() : 6L * values.length + 4L * start.length;
    }

    boolean sparse() {
        return dense == null;
    }
}
