package dev.lacuna.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** GEMM and GEMV on sub-matrices of blocks against a plain triple loop, and blocks over ND4J memory. */
class BlasTest {

    static java.util.stream.Stream<Arguments> cases() {
        java.util.List<Arguments> out = new java.util.ArrayList<>();
        for (DataType dtype : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    out.add(Arguments.of(dtype, transA, transB));
                }
            }
        }
        return out.stream();
    }

    /** Fills a block with seeded values in [-1, 1). */
    private static Block random(DataType dtype, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Block block = Block.allocate(dtype, length);
        for (int i = 0; i < length; i++) {
            block.set(i, random.nextDouble() * 2 - 1);
        }
        return block;
    }

    /** Element (r, c) of op(X) for a row-major sub-matrix X. */
    private static double element(Blas.Mat x, boolean trans, int r, int c) {
        return trans ? x.block().get(x.first() + c * x.ld() + r) : x.block().get(x.first() + r * x.ld() + c);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gemmOnStridedSubMatricesMatchesATripleLoop(DataType dtype, boolean transA, boolean transB) {
        int m = 5;
        int n = 4;
        int k = 7;
        // every operand sits inside a wider buffer, at an offset, so that first and ld are both exercised
        Blas.Mat a = Blas.mat(random(dtype, 200, 1), 3, 9);
        Blas.Mat b = Blas.mat(random(dtype, 200, 2), 5, 11);
        Block cBlock = random(dtype, 200, 3);
        Blas.Mat c = Blas.mat(cBlock, 2, 6);
        double[] before = new double[200];
        for (int i = 0; i < 200; i++) {
            before[i] = cBlock.get(i);
        }

        Blas.gemm(transA, transB, m, n, k, 0.75, a, b, 0.5, c);

        double tolerance = dtype == DataType.DOUBLE ? 1e-12 : 1e-5;
        for (int i = 0; i < 200; i++) {
            int r = (i - 2) / 6;
            int col = (i - 2) % 6;
            double expected = before[i];
            if (i >= 2 && r < m && col < n) {
                double sum = 0;
                for (int j = 0; j < k; j++) {
                    sum += element(a, transA, r, j) * element(b, transB, j, col);
                }
                expected = 0.75 * sum + 0.5 * before[i];
            }
            assertEquals(expected, cBlock.get(i), tolerance, "element " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"FLOAT", "DOUBLE"})
    void columnSumsAddUpEachColumnOfASubMatrix(String type) {
        DataType dtype = DataType.valueOf(type);
        Blas.Mat a = Blas.mat(random(dtype, 100, 4), 1, 8);
        Block ones = Block.allocate(dtype, 6);
        for (int i = 0; i < 6; i++) {
            ones.set(i, 1);
        }
        Block y = random(dtype, 10, 5);
        double untouched = y.get(0);

        Blas.columnSums(6, 5, 2.0, a, ones, y, 1);

        assertEquals(untouched, y.get(0));
        for (int col = 0; col < 5; col++) {
            double sum = 0;
            for (int r = 0; r < 6; r++) {
                sum += a.block().get(1 + r * 8 + col);
            }
            assertEquals(2 * sum, y.get(1 + col), dtype == DataType.DOUBLE ? 1e-12 : 1e-5);
        }
    }

    @Test
    void aBlockOverAnArrayViewSharesItsMemoryFromTheViewsOffset() {
        INDArray whole = Nd4j.createFromArray(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f);
        INDArray view = whole.get(NDArrayIndex.interval(2, 6));
        Block block = Block.over(view);

        assertEquals(4, block.length);
        assertEquals(2.0, block.get(0));
        assertEquals(5.0, block.get(3));
        block.set(1, 30);
        assertEquals(30f, whole.getFloat(3));
        whole.putScalar(4, 40f);
        assertEquals(40.0, block.get(2));
    }

    @Test
    void allocatedBlocksStartZeroedAndRejectUnsupportedArrays() {
        Block block = Block.allocate(DataType.DOUBLE, 5);
        for (int i = 0; i < 5; i++) {
            assertEquals(0.0, block.get(i));
        }
        assertThrows(IllegalArgumentException.class, () -> Block.over(Nd4j.createFromArray(1, 2, 3)));
        assertThrows(IllegalArgumentException.class, () -> Block.over(Nd4j.create(DataType.FLOAT, 3, 4)));
    }
}
