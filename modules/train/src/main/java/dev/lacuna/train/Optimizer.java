package dev.lacuna.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * An update rule over the flat parameter and gradient vectors. Working on one flat vector keeps each update to a
 * handful of native calls whatever the model's shape (platform-notes.md: per-op overhead dominates small ops).
 * Optimizer state (moments, velocity) lives here, sized like the parameters.
 */
sealed interface Optimizer permits Optimizer.Adam, Optimizer.SgdMomentum {

    /** Updates {@code params} in place from {@code grads}, with learning rate {@code lr} for this step. */
    void step(INDArray params, INDArray grads, double lr);

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
            firstMoment.muli(BETA1).addi(grads.mul(1 - BETA1));
            secondMoment.muli(BETA2).addi(grads.mul(grads).muli(1 - BETA2));
            double firstCorrection = 1 - Math.pow(BETA1, steps);
            double secondCorrection = 1 - Math.pow(BETA2, steps);
            INDArray denominator = Transforms.sqrt(secondMoment.div(secondCorrection), false).addi(EPSILON);
            params.subi(firstMoment.mul(lr / firstCorrection).divi(denominator));
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
            velocity.muli(momentum).addi(grads);
            params.subi(velocity.mul(lr));
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
}
