package dev.lacuna.runtime;

/**
 * A weight matrix {@code W} ({@code rows × cols}) prepared for repeated products with vectors and small batches.
 *
 * <p>Batch layout: a batch of {@code n} vectors is interleaved, element {@code i} of vector {@code b} at
 * {@code [i * n + b]}. Each stored weight then meets its {@code n} inputs in one contiguous run, so a sparse
 * kernel loads each non-zero and its index once per batch instead of once per vector.
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface MatVec {

    /**
     * Density (non-zeros / entries) below which {@link KernelChoice#AUTO} stores a matrix sparse. Measured at batch
     * 1 from 256² to 2560² (docs/runtime.md): a non-zero costs the scalar sparse kernel about 0.4 ns, an entry
     * costs the SIMD dense kernel about 0.08 ns while the matrix fits the caches, so the two break even near one
     * non-zero in {@value #CROSSOVER_ELEMENTS_PER_NONZERO} entries (about 83% sparsity). Matrices too large for
     * the caches favour sparse earlier (around 70%); the single cut-off errs toward dense there, where the two
     * kernels are within 1.5x of each other.
     */
    double SPARSE_BELOW_DENSITY = 1.0 / MatVec.CROSSOVER_ELEMENTS_PER_NONZERO;

    /** See {@link #SPARSE_BELOW_DENSITY}. */
    int CROSSOVER_ELEMENTS_PER_NONZERO = 6;

    int rows();

    int cols();

    /** Number of stored non-zero weights. */
    long nonZeros();

    /** Bytes of weight data and indices this matrix holds (array payloads; JVM headers excluded). */
    long bytes();

    /** {@code y += W x} for one vector: {@code x.length >= cols}, {@code y.length >= rows}. */
    void multiplyAdd(float[] x, float[] y);

    /** {@code y += W x} for {@code batch} interleaved vectors (see the class comment). */
    void multiplyAdd(float[] x, float[] y, int batch);

    /** True when this matrix uses the sparse kernel. */
    boolean sparse();

    /**
     * Prepares a row-major matrix.
     *
     * @param rowMajor {@code rows * cols} weights, row-major (PyTorch's layout); zeros are what sparsity skips
     * @param keep     mask of the same length ({@code true} keeps a weight), or null when every weight counts
     * @param choice   storage policy
     */
    static MatVec of(float[] rowMajor, boolean[] keep, int rows, int cols, KernelChoice choice) {
        return of(rowMajor, keep, rows, cols, choice, 1);
    }

    /**
     * Prepares a row-major matrix whose products split their rows over up to {@code threads} threads when the
     * matrix is large enough to gain from it (see {@code RowSplit}); results are the same for every thread count.
     */
    static MatVec of(float[] rowMajor, boolean[] keep, int rows, int cols, KernelChoice choice, int threads) {
        if (rows < 0 || cols < 0 || (long) rows * cols != rowMajor.length) {
            throw new IllegalArgumentException(rows + " x " + cols + " does not match " + rowMajor.length
                    + " weights");
        }
        if (keep != null && keep.length != rowMajor.length) {
            throw new IllegalArgumentException("mask has " + keep.length + " entries for " + rowMajor.length
                    + " weights");
        }
        RowThreads helpers = RowThreads.of(threads);
        return SparseMatrix.chosen(rowMajor, keep, choice) ? SparseMatrix.of(rowMajor, keep, rows, cols, helpers)
                : DenseMatrix.of(rowMajor, keep, rows, cols, helpers);
    }
}
