package dev.lacuna.benchmarks;

import dev.lacuna.runtime.KernelChoice;
import dev.lacuna.runtime.MatVec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue #6 asks whether quantized tensors should run from their codes or be decoded once at load. Both sides
 * multiply the same 5-bit-quantized sparse matrix (32 shared values, as in a {@code .lacuna} file) by a vector:
 * {@link #decoded} with the runtime's kernel over float values, {@link #fromCodes} over one byte code per non-zero
 * and a 32-entry codebook (3 bytes per non-zero streamed instead of 6, but four loads per non-zero instead of three).
 * docs/runtime.md records the outcome: the runtime decodes at load.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class QuantizedMatVecBenchmark {
    private static final int CODEBOOK_SIZE = 32;

    @Param({"1760x1760", "2560x2560"})
    public String shape;

    @Param({"0.9", "0.95"})
    public double sparsity;

    MatVec decodedMatrix;
    int[] rowStart;
    char[] columns;
    byte[] codes;
    float[] codebook;
    float[] x;
    float[] y;

    @Setup(Level.Trial)
    public void setUp() {
        int[] s = Matrices.shape(shape);
        int rows = s[0];
        int cols = s[1];
        SplittableRandom random = new SplittableRandom(1);
        codebook = new float[CODEBOOK_SIZE];
        for (int i = 0; i < CODEBOOK_SIZE; i++) {
            codebook[i] = (float) (random.nextDouble() * 2 - 1);
        }
        float[] dense = new float[rows * cols];
        byte[] denseCodes = new byte[rows * cols];
        rowStart = new int[rows + 1];
        int count = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                if (random.nextDouble() >= sparsity) {
                    int code = random.nextInt(CODEBOOK_SIZE);
                    dense[r * cols + c] = codebook[code];
                    denseCodes[r * cols + c] = (byte) code;
                    count++;
                }
            }
            rowStart[r + 1] = count;
        }
        columns = new char[count];
        codes = new byte[count];
        int k = 0;
        for (int i = 0; i < dense.length; i++) {
            if (dense[i] != 0f) {
                columns[k] = (char) (i % cols);
                codes[k] = denseCodes[i];
                k++;
            }
        }
        decodedMatrix = MatVec.of(dense, null, rows, cols, KernelChoice.SPARSE, 1);
        x = Matrices.vector(cols, 2);
        y = new float[rows];
    }

    @Benchmark
    public float[] decoded() {
        decodedMatrix.multiplyAdd(x, y, 1);
        return y;
    }

    /** The runtime kernel's eight partial sums, with each value looked up through its code. */
    @Benchmark
    public float[] fromCodes() {
        final byte[] code = codes;
        final char[] col = columns;
        final float[] book = codebook;
        final float[] in = x;
        for (int r = 0; r < rowStart.length - 1; r++) {
            int k = rowStart[r];
            final int end = rowStart[r + 1];
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            float s4 = 0f;
            float s5 = 0f;
            float s6 = 0f;
            float s7 = 0f;
            for (; k + 7 < end; k += 8) {
                s0 += book[code[k] & 31] * in[col[k]];
                s1 += book[code[k + 1] & 31] * in[col[k + 1]];
                s2 += book[code[k + 2] & 31] * in[col[k + 2]];
                s3 += book[code[k + 3] & 31] * in[col[k + 3]];
                s4 += book[code[k + 4] & 31] * in[col[k + 4]];
                s5 += book[code[k + 5] & 31] * in[col[k + 5]];
                s6 += book[code[k + 6] & 31] * in[col[k + 6]];
                s7 += book[code[k + 7] & 31] * in[col[k + 7]];
            }
            for (; k < end; k++) {
                s0 += book[code[k] & 31] * in[col[k]];
            }
            y[r] += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }
        return y;
    }
}
