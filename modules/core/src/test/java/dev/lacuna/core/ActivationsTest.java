package dev.lacuna.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The vectorised exp, sigmoid and tanh against double-precision references over the whole float range: every
 * 509th bit pattern of the 2^32 (about 8.4 million values, both signs, from subnormals to the largest finite float),
 * plus the edges and special values.
 */
class ActivationsTest {
    /** About 2 float ulps (one ulp is at most 2^-23 ≈ 1.19e-7 relative). */
    static final double MAX_RELATIVE_ERROR = 2.5e-7;
    private static final int STRIDE = 509;
    private static final int CHUNK = 4096;

    interface ArrayFunction {
        void apply(float[] x, int from, int to, float[] work);
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    @Test
    void expMatchesMathExpOverTheWholeFloatRange() {
        sweep(Activations::exp, Math::exp, Float.MIN_VALUE);
    }

    @Test
    void sigmoidMatchesTheDoubleFormulaOverTheWholeFloatRange() {
        // Below x = -87.3 the exact sigmoid is subnormal; 1 / (1 + e^-x) in float reaches 0 once e^-x overflows
        // (x < -88.7), so there the bound is absolute: within the smallest normal float of the exact value.
        sweep(Activations::sigmoid, ActivationsTest::sigmoid, Float.MIN_NORMAL);
    }

    @Test
    void tanhMatchesMathTanhOverTheWholeFloatRangeIncludingNearZero() {
        sweep(Activations::tanh, Math::tanh, Float.MIN_VALUE);
    }

    @Test
    void specialValuesBehaveLikeMathExp() {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        float[] in = {nan, inf, -inf, 0f, -0f, 88.8f, 89f, 1000f, -104f, -1000f, Float.MAX_VALUE, -Float.MAX_VALUE};
        float[] exp = apply(Activations::exp, in);
        assertTrue(Float.isNaN(exp[0]));
        assertEquals(inf, exp[1]);
        assertEquals(0f, exp[2]);
        assertEquals(1f, exp[3]);
        assertEquals(1f, exp[4]);
        assertEquals(inf, exp[5]); // e^88.8 > Float.MAX_VALUE
        assertEquals(inf, exp[6]);
        assertEquals(inf, exp[7]);
        assertEquals(0f, exp[8]); // e^-104 is below half the smallest subnormal
        assertEquals(0f, exp[9]);
        assertEquals(inf, exp[10]);
        assertEquals(0f, exp[11]);

        float[] sig = apply(Activations::sigmoid, in);
        assertTrue(Float.isNaN(sig[0]));
        assertEquals(1f, sig[1]);
        assertEquals(0f, sig[2]);
        assertEquals(0.5f, sig[3]);
        assertEquals(0.5f, sig[4]);
        assertEquals(1f, sig[7]);
        assertEquals(0f, sig[9]);

        float[] tanh = apply(Activations::tanh, in);
        assertTrue(Float.isNaN(tanh[0]));
        assertEquals(1f, tanh[1]);
        assertEquals(-1f, tanh[2]);
        assertEquals(0f, tanh[3]);
        assertEquals(0f, tanh[4]);
        assertEquals(1f, tanh[7]);
        assertEquals(-1f, tanh[9]);
        assertEquals(1f, tanh[10]);
        assertEquals(-1f, tanh[11]);
    }

    @Test
    void touchesOnlyTheGivenRange() {
        float[] x = {3f, 1f, 2f, -1f, 5f};
        float[] work = new float[x.length];
        Activations.sigmoid(x, 1, 4, work);
        assertEquals(3f, x[0]);
        assertEquals(5f, x[4]);
        assertEquals(sigmoid(1), x[1], 1e-7);
        assertEquals(sigmoid(2), x[2], 1e-7);
        assertEquals(sigmoid(-1), x[3], 1e-7);
        Activations.tanh(x, 2, 2, work); // empty range
        assertEquals(sigmoid(2), x[2], 1e-7);
    }

    private static float[] apply(ArrayFunction f, float[] in) {
        float[] x = in.clone();
        f.apply(x, 0, x.length, new float[x.length]);
        return x;
    }

    /**
     * Applies {@code f} to every {@value #STRIDE}th float bit pattern, in chunks starting at an odd offset (so the
     * vectorised loop's pre- and post-loops run too), and fails when any value is outside tolerance, reporting the
     * first few with their inputs. {@code subnormalTolerance} is the absolute error allowed where the exact result
     * is below the normal float range.
     */
    private static void sweep(ArrayFunction f, DoubleUnaryOperator exact, double subnormalTolerance) {
        float[] x = new float[CHUNK + 3];
        float[] in = new float[CHUNK + 3];
        float[] work = new float[CHUNK + 3];
        int n = 0;
        int bad = 0;
        double worst = 0;
        StringBuilder report = new StringBuilder();
        for (long bits = 0; bits <= 0xFFFFFFFFL; bits += STRIDE) {
            float v = Float.intBitsToFloat((int) bits);
            if (Float.isNaN(v)) {
                continue;
            }
            in[3 + n] = v;
            n++;
            if (n == CHUNK || bits + STRIDE > 0xFFFFFFFFL) {
                System.arraycopy(in, 3, x, 3, n);
                f.apply(x, 3, 3 + n, work);
                for (int i = 3; i < 3 + n; i++) {
                    double expected = exact.applyAsDouble(in[i]);
                    double error = error(x[i], expected, subnormalTolerance);
                    worst = Math.max(worst, Double.isFinite(error) ? error : 0);
                    if (!(error <= 1) && bad++ < 5) {
                        report.append(String.format("f(%s) = %s, expected %s%n", in[i], x[i], expected));
                    }
                }
                n = 0;
            }
        }
        if (bad > 0) {
            fail(bad + " values outside tolerance (worst error " + worst + " of the allowed):\n" + report);
        }
    }

    /**
     * The error of {@code actual} as a fraction of what is allowed: relative error / {@value #MAX_RELATIVE_ERROR}
     * where the exact result is a normal float; beyond the float range the result must be ±∞ (allowing finite
     * values within the relative tolerance of the largest float), and below the normal range within
     * {@code subnormalTolerance} of the exact value.
     */
    private static double error(float actual, double expected, double subnormalTolerance) {
        double magnitude = Math.abs(expected);
        if (magnitude > Float.MAX_VALUE) {
            if (Float.isInfinite(actual) && Math.signum(actual) == Math.signum(expected)) {
                return 0;
            }
            return Math.abs(actual / expected - 1) / MAX_RELATIVE_ERROR;
        }
        if (magnitude < Float.MIN_NORMAL) {
            return Math.abs(actual - expected) / subnormalTolerance;
        }
        return Math.abs(actual / expected - 1) / MAX_RELATIVE_ERROR;
    }
}
