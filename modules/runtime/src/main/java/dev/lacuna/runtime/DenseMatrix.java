package dev.lacuna.runtime;

/**
 * A dense matrix stored column by column. The batch-1 product is then a sequence of {@code y += x[c] · column c}
 * updates: a loop without a reduction, which the JIT compiles to full-width SIMD (it does not vectorise the
 * row-dot-product form; platform-notes.md). Each column is its own array: with one flat array and an offset the
 * JIT could not rule out that {@code y} overlaps the weights at a distance and left the loop scalar (measured
 * 3-5x slower at 256² to 2560²). Inputs that are exactly zero skip their column, which makes one-hot inputs and
 * ReLU outputs cheap.
 */
final class DenseMatrix implements MatVec {
    private final int rows;
    private final int cols;
    /** {@code columns[c][r] = W[r][c]}. */
    private final float[][] columns;
    private final long nonZeros;
    private final RowSplit split;

    private DenseMatrix(int rows, int cols, float[][] columns, long nonZeros, RowThreads threads) {
        this.rows = rows;
        this.cols = cols;
        this.columns = columns;
        this.nonZeros = nonZeros;
        // an entry costs the SIMD kernel about a sixth of what a non-zero costs the sparse one (MatVec)
        this.split = RowSplit.uniform(threads, rows, Math.max(1, cols / MatVec.CROSSOVER_ELEMENTS_PER_NONZERO));
    }

    static DenseMatrix of(float[] rowMajor, boolean[] keep, int rows, int cols, RowThreads threads) {
        float[][] columns = new float[cols][rows];
        long nonZeros = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                if (SparseMatrix.kept(rowMajor, keep, i)) {
                    columns[c][r] = rowMajor[i];
                    nonZeros++;
                }
            }
        }
        return new DenseMatrix(rows, cols, columns, nonZeros, threads);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public long nonZeros() {
        return nonZeros;
    }

    @Override
    public long bytes() {
        return 4L * rows * cols;
    }

    /** Parts a product of {@code batch} vectors is split into (see {@link RowSplit}). */
    int parts(int batch) {
        return split.parts(batch);
    }

    @Override
    public boolean sparse() {
        return false;
    }

    @Override
    public void multiplyAdd(float[] x, float[] y) {
        checkLengths(x, y, 1);
        split.run(1, (from, to) -> multiplyRows(x, y, from, to));
    }

    private void multiplyRows(float[] x, float[] y, int from, int to) {
        for (int c = 0; c < cols; c++) {
            final float xc = x[c];
            if (xc == 0f) {
                continue;
            }
            final float[] column = columns[c];
            for (int r = from; r < to; r++) {
                y[r] += column[r] * xc;
            }
        }
    }

    /**
     * One vector per batch member in its own contiguous buffer, so that every update is the same SIMD
     * {@code y_b += x_b[c] · column c} as at batch 1; each column is loaded once and applied to all members while
     * it is in the L1 cache. (Updating the interleaved output in place made the inner loop strided and scalar:
     * measured several times slower than batch-many separate products.)
     */
    @Override
    public void multiplyAdd(float[] x, float[] y, int batch) {
        if (batch == 1) {
            multiplyAdd(x, y);
            return;
        }
        checkLengths(x, y, batch);
        split.run(batch, (from, to) -> multiplyRows(x, y, batch, from, to));
    }

    private void multiplyRows(float[] x, float[] y, int batch, int from, int to) {
        final int n = to - from;
        final float[][] out = new float[batch][n];
        for (int c = 0; c < cols; c++) {
            final float[] column = columns[c];
            final int in = c * batch;
            for (int b = 0; b < batch; b++) {
                final float xc = x[in + b];
                if (xc == 0f) {
                    continue;
                }
                final float[] yb = out[b];
                for (int r = 0; r < n; r++) {
                    yb[r] += column[from + r] * xc;
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            final float[] yb = out[b];
            for (int r = 0; r < n; r++) {
                y[(from + r) * batch + b] += yb[r];
            }
        }
    }

    /** {@code y[r * stride + offset] += W[r][c]} for every row: the product with a one-hot vector. */
    void addColumn(int c, float[] y, int offset, int stride) {
        final float[] column = columns[c];
        for (int r = 0; r < rows; r++) {
            y[r * stride + offset] += column[r];
        }
    }

    private void checkLengths(float[] x, float[] y, int batch) {
        if (batch < 1 || x.length < (long) cols * batch || y.length < (long) rows * batch) {
            throw new IllegalArgumentException("a " + rows + " x " + cols + " product with batch " + batch
                    + " needs x of " + (long) cols * batch + " and y of " + (long) rows * batch + ", got "
                    + x.length + " and " + y.length);
        }
    }
}
