package dev.lacuna.train;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An update rule over the flat parameter and gradient vectors. Each update is one Java pass over the vectors'
 * memory: done as ND4J calls, Adam took about fifteen full passes and four temporary vectors per step.
 * Optimizer state (moments, velocity) lives here, sized like the parameters.
 */
sealed interface Optimizer permits Optimizer.Adam, Optimizer.SgdMomentum {

    /** Updates {@code params} in place from {@code grads}, with learning rate {@code lr} for this step. */
    void step(INDArray params, INDArray grads, double lr);

    /**
     * The state a resumed run needs to continue bit-identically, by name, as live vectors shaped like the
     * parameters: a checkpoint reads them, a resume assigns into them.
     */
    Map<String, INDArray> stateVectors();

    /** Updates taken so far; Adam's bias correction depends on it, SGD keeps none and returns 0. */
    long stepCount();

    /** Restores {@link #stepCount()} when a run resumes from a checkpoint. */
    void restoreStepCount(long steps);

    /** A fresh optimizer whose state is shaped and typed like {@code params}. */
    static Optimizer create(OptimizerKind kind, INDArray params, double momentum) {
        return switch (kind) {
            case ADAM -> new Adam(params);
            case SGD -> new SgdMomentum(params, momentum);
        };
    }

    /**
     * Adam (Kingma and Ba 2015, Algorithm 1) with the paper's defaults β1 0.9, β2 0.999, ε 1e-8 and bias-corrected
     * moments; ε is added to √v̂ as in the paper and PyTorch.
     */
    final class Adam implements Optimizer {
        static final double BETA1 = 0.9;
        static final double BETA2 = 0.999;
        static final double EPSILON = 1e-8;

        private final INDArray firstMoment;
        private final INDArray secondMoment;
        private long steps;

        Adam(INDArray params) {
            firstMoment = Nd4j.zerosLike(params);
            secondMoment = Nd4j.zerosLike(params);
        }

        @Override
        public void step(INDArray params, INDArray grads, double lr) {
            steps++;
            double stepSize = lr / (1 - Math.pow(BETA1, steps));
            double secondCorrection = 1 - Math.pow(BETA2, steps);
            Elements p = Elements.of(params);
            Elements g = Elements.of(grads);
            Elements m = Elements.of(firstMoment);
            Elements v = Elements.of(secondMoment);
            double[] pc = new double[Elements.CHUNK];
            double[] gc = new double[Elements.CHUNK];
            double[] mc = new double[Elements.CHUNK];
            double[] vc = new double[Elements.CHUNK];
            for (int from = 0, n = p.length(); from < n; from += Elements.CHUNK) {
                int count = Math.min(Elements.CHUNK, n - from);
                p.load(from, pc, count);
                g.load(from, gc, count);
                m.load(from, mc, count);
                v.load(from, vc, count);
                for (int i = 0; i < count; i++) {
                    double gi = gc[i];
                    mc[i] = BETA1 * mc[i] + (1 - BETA1) * gi;
                    vc[i] = BETA2 * vc[i] + (1 - BETA2) * gi * gi;
                    pc[i] -= stepSize * mc[i] / (Math.sqrt(vc[i] / secondCorrection) + EPSILON);
                }
                p.store(from, pc, count);
                m.store(from, mc, count);
                v.store(from, vc, count);
            }
        }

        @Override
        public Map<String, INDArray> stateVectors() {
            Map<String, INDArray> state = new LinkedHashMap<>();
            state.put("adam.m", firstMoment);
            state.put("adam.v", secondMoment);
            return state;
        }

        @Override
        public long stepCount() {
            return steps;
        }

        @Override
        public void restoreStepCount(long steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("step count must be >= 0, found " + steps);
            }
            this.steps = steps;
        }
    }

    /**
     * SGD with momentum in PyTorch's form (no dampening): {@code v ← μ·v + g; p ← p − lr·v}. The learning rate
     * multiplies the velocity, not the gradient, so a learning-rate decay takes effect at once.
     */
    final class SgdMomentum implements Optimizer {
        private final INDArray velocity;
        private final double momentum;

        SgdMomentum(INDArray params, double momentum) {
            this.velocity = Nd4j.zerosLike(params);
            this.momentum = momentum;
        }

        @Override
        public void step(INDArray params, INDArray grads, double lr) {
            Elements p = Elements.of(params);
            Elements g = Elements.of(grads);
            Elements v = Elements.of(velocity);
            double[] pc = new double[Elements.CHUNK];
            double[] gc = new double[Elements.CHUNK];
            double[] vc = new double[Elements.CHUNK];
            for (int from = 0, n = p.length(); from < n; from += Elements.CHUNK) {
                int count = Math.min(Elements.CHUNK, n - from);
                p.load(from, pc, count);
                g.load(from, gc, count);
                v.load(from, vc, count);
                for (int i = 0; i < count; i++) {
                    vc[i] = momentum * vc[i] + gc[i];
                    pc[i] -= lr * vc[i];
                }
                p.store(from, pc, count);
                v.store(from, vc, count);
            }
        }

        @Override
        public Map<String, INDArray> stateVectors() {
            return Map.of("sgd.velocity", velocity);
        }

        @Override
        public long stepCount() {
            return 0;
        }

        @Override
        public void restoreStepCount(long steps) {
            // the velocity is all the state SGD with momentum has
        }
    }

    /**
     * Scales the gradient in place so that its global L2 norm is at most {@code maxNorm} (Pascanu et al. 2013);
     * {@code maxNorm <= 0} disables clipping.
     *
     * @return the norm before clipping
     */
    static double clipByGlobalNorm(INDArray grads, double maxNorm) {
        double norm = grads.norm2Number().doubleValue();
        if (maxNorm > 0 && norm > maxNorm) {
            grads.muli(maxNorm / norm);
        }
        return norm;
    }

    /**
     * Chunked access to a contiguous FLOAT or DOUBLE vector's memory, computing in double. Updates run over heap
     * arrays of {@link #CHUNK} elements because the JIT vectorises loops over arrays, while element-wise access to a
     * direct buffer stays scalar and checks the buffer's state on every call (the former per-element Adam was a
     * tenth of a training step's Java time). Values are rounded once, when a FLOAT vector is stored.
     */
    sealed interface Elements permits FloatElements, DoubleElements {
        int CHUNK = 4096;

        int length();

        /** Copies {@code count} elements from {@code from} into {@code dst[0, count)}. */
        void load(int from, double[] dst, int count);

        /** Copies {@code src[0, count)} to the elements from {@code from}. */
        void store(int from, double[] src, int count);

        static Elements of(INDArray vector) {
            // a whole buffer, not a view into one, so that NIO index i is element i
            if (!vector.isVector() && !vector.isScalar() || vector.elementWiseStride() != 1 || vector.offset() != 0
                    || vector.data().length() != vector.length()) {
                throw new IllegalArgumentException("optimizer vectors must own their whole buffer, got shape "
                        + java.util.Arrays.toString(vector.shape()) + " at offset " + vector.offset());
            }
            int length = Math.toIntExact(vector.length());
            if (vector.dataType() == DataType.FLOAT) {
                return new FloatElements(vector.data().asNioFloat(), length);
            }
            if (vector.dataType() == DataType.DOUBLE) {
                return new DoubleElements(vector.data().asNioDouble(), length);
            }
            throw new IllegalArgumentException("optimizer vectors must be FLOAT or DOUBLE, not " + vector.dataType());
        }
    }

    final class FloatElements implements Elements {
        private final FloatBuffer buffer;
        private final int length;
        private final float[] chunk = new float[CHUNK];

        FloatElements(FloatBuffer buffer, int length) {
            this.buffer = buffer;
            this.length = length;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public void load(int from, double[] dst, int count) {
            buffer.get(from, chunk, 0, count);
            for (int i = 0; i < count; i++) {
                dst[i] = chunk[i];
            }
        }

        @Override
        public void store(int from, double[] src, int count) {
            for (int i = 0; i < count; i++) {
                chunk[i] = (float) src[i];
            }
            buffer.put(from, chunk, 0, count);
        }
    }

    record DoubleElements(DoubleBuffer buffer, int length) implements Elements {
        @Override
        public void load(int from, double[] dst, int count) {
            buffer.get(from, dst, 0, count);
        }

        @Override
        public void store(int from, double[] src, int count) {
            buffer.put(from, src, 0, count);
        }
    }
}
