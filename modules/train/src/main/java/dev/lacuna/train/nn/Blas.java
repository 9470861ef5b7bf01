package dev.lacuna.train.nn;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Row-major GEMM and GEMV on {@link Block}s, straight into the OpenBLAS that ND4J itself loads (so the BLAS thread
 * count set through ND4J applies). Operands are sub-matrices given by a first element and a leading dimension, which
 * is what lets the network multiply a column block of a packed buffer (one direction's half, a gate block) without a
 * copy, and skip ND4J's per-call op set-up (platform-notes.md).
 */
final class Blas {
    private Blas() {
    }

    /** A row-major sub-matrix: element (r, c) at {@code block[first + r * ld + c]}. */
    record Mat(Block block, int first, int ld) {
        Mat {
            if (first < 0 || ld < 1) {
                throw new IllegalArgumentException("bad sub-matrix at " + first + " with leading dimension " + ld);
            }
        }
    }

    static Mat mat(Block block, int first, int ld) {
        return new Mat(block, first, ld);
    }

    /**
     * {@code C = alpha · op(A) · op(B) + beta · C} with C {@code [m, n]} and the inner dimension {@code k}, where
     * {@code op(X)} is X or its transpose.
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, Mat a, Mat b, double beta,
                     Mat c) {
        if (m == 0 || n == 0) {
            return;
        }
        int ta = transA ? CblasTrans : CblasNoTrans;
        int tb = transB ? CblasTrans : CblasNoTrans;
        if (c.block().isDouble()) {
            openblas_nolapack.cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, (DoublePointer) a.block().at(a.first()),
                    a.ld(), (DoublePointer) b.block().at(b.first()), b.ld(), beta,
                    (DoublePointer) c.block().at(c.first()), c.ld());
        } else {
            openblas_nolapack.cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, (float) alpha,
                    (FloatPointer) a.block().at(a.first()), a.ld(), (FloatPointer) b.block().at(b.first()), b.ld(),
                    (float) beta, (FloatPointer) c.block().at(c.first()), c.ld());
        }
    }

    /**
     * Column sums of an {@code [m, n]} sub-matrix times {@code alpha}, written to {@code n} contiguous elements of
     * {@code y} from {@code yFirst}: one GEMV with a vector of ones ({@code ones} holds at least m).
     */
    static void columnSums(int m, int n, double alpha, Mat a, Block ones, Block y, int yFirst) {
        if (m == 0) {
            y.zero(yFirst, n);
            return;
        }
        if (y.isDouble()) {
            openblas_nolapack.cblas_dgemv(CblasRowMajor, CblasTrans, m, n, alpha, (DoublePointer) a.block().at(a.first()),
                    a.ld(), (DoublePointer) ones.at(0), 1, 0.0, (DoublePointer) y.at(yFirst), 1);
        } else {
            openblas_nolapack.cblas_sgemv(CblasRowMajor, CblasTrans, m, n, (float) alpha,
                    (FloatPointer) a.block().at(a.first()), a.ld(), (FloatPointer) ones.at(0), 1, 0f,
                    (FloatPointer) y.at(yFirst), 1);
        }
    }
}
