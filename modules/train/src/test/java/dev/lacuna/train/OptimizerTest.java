package dev.lacuna.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class OptimizerTest {
    private static INDArray vector(float... values) {
        return Nd4j.createFromArray(values);
    }

    @Test
    void adamMatchesTheBiasCorrectedUpdateComputedByHand() {
        INDArray params = vector(1.0f, -2.0f, 0.5f);
        Optimizer adam = Optimizer.create(OptimizerKind.ADAM, params, 0.9);
        double[] p = {1.0, -2.0, 0.5};
        double[] m = new double[3];
        double[] v = new double[3];
        double[][] gradients = {{0.1, -0.2, 0.0}, {0.3, 0.4, -0.5}, {-0.05, 0.0, 2.0}};
        double lr = 0.01;
        for (int t = 1; t <= gradients.length; t++) {
            double[] g = gradients[t - 1];
            adam.step(params, vector((float) g[0], (float) g[1], (float) g[2]), lr);
            for (int i = 0; i < 3; i++) {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(0.9, t));
                double vHat = v[i] / (1 - Math.pow(0.999, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
            }
            assertArrayEquals(p, params.toDoubleVector(), 1e-6, "after step " + t);
        }
    }

    @Test
    void adamUpdatesDoubleVectorsInDoublePrecision() {
        INDArray params = Nd4j.createFromArray(1.0, -2.0);
        Optimizer adam = Optimizer.create(OptimizerKind.ADAM, params, 0.9);
        double[] p = {1.0, -2.0};
        double[] m = new double[2];
        double[] v = new double[2];
        double[][] gradients = {{1e-3, -0.7}, {0.25, 3.0}};
        for (int t = 1; t <= gradients.length; t++) {
            double[] g = gradients[t - 1];
            adam.step(params, Nd4j.createFromArray(g), 0.1);
            for (int i = 0; i < 2; i++) {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                p[i] -= 0.1 * (m[i] / (1 - Math.pow(0.9, t))) / (Math.sqrt(v[i] / (1 - Math.pow(0.999, t))) + 1e-8);
            }
            assertArrayEquals(p, params.toDoubleVector(), 1e-14, "after step " + t);
        }
    }

    @Test
    void vectorsThatAreViewsIntoALargerBufferAreRefused() {
        INDArray whole = Nd4j.createFromArray(1f, 2f, 3f, 4f);
        INDArray view = whole.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3));
        Optimizer sgd = Optimizer.create(OptimizerKind.SGD, Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2),
                0.0);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> sgd.step(view, vector(1f, 1f), 0.1));
    }

    @Test
    void sgdWithMomentumAccumulatesVelocityTheWayPyTorchDoes() {
        INDArray params = vector(1.0f, 2.0f);
        Optimizer sgd = Optimizer.create(OptimizerKind.SGD, params, 0.5);
        sgd.step(params, vector(1.0f, -1.0f), 0.1);
        // v = g = (1, -1); p = (1 - 0.1, 2 + 0.1)
        assertArrayEquals(new double[] {0.9, 2.1}, params.toDoubleVector(), 1e-6);
        sgd.step(params, vector(2.0f, 0.0f), 0.2);
        // v = 0.5 (1, -1) + (2, 0) = (2.5, -0.5); p -= 0.2 v
        assertArrayEquals(new double[] {0.4, 2.2}, params.toDoubleVector(), 1e-6);
    }

    @Test
    void sgdWithoutMomentumIsPlainGradientDescent() {
        INDArray params = vector(1.0f);
        Optimizer sgd = Optimizer.create(OptimizerKind.SGD, params, 0.0);
        sgd.step(params, vector(2.0f), 0.1);
        sgd.step(params, vector(2.0f), 0.1);
        assertEquals(0.6, params.getDouble(0), 1e-6);
    }

    @Test
    void clippingScalesTheWholeGradientToTheMaximumNorm() {
        INDArray grads = vector(3.0f, 4.0f);
        assertEquals(5.0, Optimizer.clipByGlobalNorm(grads, 1.0), 1e-6);
        assertArrayEquals(new double[] {0.6, 0.8}, grads.toDoubleVector(), 1e-6);
    }

    @Test
    void clippingLeavesSmallGradientsAloneAndZeroDisablesIt() {
        INDArray small = vector(0.3f, 0.4f);
        assertEquals(0.5, Optimizer.clipByGlobalNorm(small, 1.0), 1e-6);
        assertArrayEquals(new double[] {0.3, 0.4}, small.toDoubleVector(), 1e-7);
        INDArray large = vector(30f, 40f);
        Optimizer.clipByGlobalNorm(large, 0);
        assertArrayEquals(new double[] {30, 40}, large.toDoubleVector(), 1e-7);
    }
}
