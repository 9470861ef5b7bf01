package dev.lacuna.train;

import dev.lacuna.core.InvalidOptionException;

/**
 * Training hyperparameters, validated at construction. Each error names the command-line option that sets the
 * value, so front ends can pass messages through unchanged.
 *
 * @param batch        parallel streams per step ({@code --batch}, default 32)
 * @param seq          truncated-BPTT length in characters ({@code --seq}, default 100)
 * @param epochs       passes over the training text when {@code steps} is 0 ({@code --epochs}, default 1)
 * @param steps        total optimizer steps, or 0 to derive them from {@code epochs} ({@code --steps}, default 0)
 * @param optimizer    update rule ({@code --optimizer}, default Adam)
 * @param lr           initial learning rate ({@code --lr}, default 2e-3)
 * @param momentum     SGD momentum, ignored by Adam ({@code --momentum}, default 0.9)
 * @param clip         maximum global L2 norm of the gradient, 0 = no clipping ({@code --clip}, default 5.0)
 * @param lrDecay      factor applied to the learning rate every {@code lrDecayEvery} steps ({@code --lr-decay},
 *                     default 1)
 * @param lrDecayEvery decay period in steps, 0 = constant learning rate ({@code --lr-decay-every}, default 0)
 * @param evalEvery    held-out evaluation period in steps, 0 = only at the end ({@code --eval-every}, default 0)
 * @param seed         seeds the stream offsets ({@code --seed}, default 0)
 */
public record TrainConfig(int batch, int seq, int epochs, long steps, OptimizerKind optimizer, double lr,
                          double momentum, double clip, double lrDecay, long lrDecayEvery, long evalEvery, long seed) {

    /** Upper bound on batch × seq: one step's index arrays and activations are sized by it. */
    public static final long MAX_POSITIONS_PER_STEP = 1L << 24;

    public TrainConfig {
        positive("--batch", batch);
        positive("--seq", seq);
        if ((long) batch * seq > MAX_POSITIONS_PER_STEP) {
            throw new InvalidOptionException("--batch", "batch x seq = " + (long) batch * seq
                    + " characters per step exceeds the limit of " + MAX_POSITIONS_PER_STEP + "; lower --batch or --seq");
        }
        positive("--epochs", epochs);
        nonNegative("--steps", steps, "0 derives the steps from --epochs");
        if (optimizer == null) {
            throw new InvalidOptionException("--optimizer", "must be given (adam or sgd)");
        }
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new InvalidOptionException("--lr", "must be a positive finite number, found " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new InvalidOptionException("--momentum", "must be in [0, 1), found " + momentum);
        }
        if (!(clip >= 0) || !Double.isFinite(clip)) {
            throw new InvalidOptionException("--clip", "must be a finite number >= 0 (0 disables clipping), found "
                    + clip);
        }
        if (!(lrDecay > 0 && lrDecay <= 1)) {
            throw new InvalidOptionException("--lr-decay", "must be in (0, 1], found " + lrDecay);
        }
        nonNegative("--lr-decay-every", lrDecayEvery, "0 keeps the learning rate constant");
        nonNegative("--eval-every", evalEvery, "0 evaluates only at the end");
    }

    private static void positive(String option, long value) {
        if (value < 1) {
            throw new InvalidOptionException(option, "must be positive, found " + value);
        }
    }

    private static void nonNegative(String option, long value, String zeroMeans) {
        if (value < 0) {
            throw new InvalidOptionException(option, "must be >= 0 (" + zeroMeans + "), found " + value);
        }
    }

    /** The defaults listed on the components. */
    public static TrainConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these values. */
    public Builder toBuilder() {
        return new Builder().batch(batch).seq(seq).epochs(epochs).steps(steps).optimizer(optimizer).lr(lr)
                .momentum(momentum).clip(clip).lrDecay(lrDecay).lrDecayEvery(lrDecayEvery).evalEvery(evalEvery)
                .seed(seed);
    }

    /** Learning rate for step {@code step} (0-based): {@code lr · lrDecay^⌊step / lrDecayEvery⌋}. */
    public double learningRate(long step) {
        if (lrDecayEvery == 0) {
            return lr;
        }
        return lr * Math.pow(lrDecay, (double) (step / lrDecayEvery));
    }

    /** Optimizer steps for a training text that gives {@code stepsPerEpoch} batches per epoch. */
    public long totalSteps(int stepsPerEpoch) {
        return steps > 0 ? steps : (long) epochs * stepsPerEpoch;
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private int batch = 32;
        private int seq = 100;
        private int epochs = 1;
        private long steps;
        private OptimizerKind optimizer = OptimizerKind.ADAM;
        private double lr = 2e-3;
        private double momentum = 0.9;
        private double clip = 5.0;
        private double lrDecay = 1.0;
        private long lrDecayEvery;
        private long evalEvery;
        private long seed;

        private Builder() {
        }

        public Builder batch(int value) {
            batch = value;
            return this;
        }

        public Builder seq(int value) {
            seq = value;
            return this;
        }

        public Builder epochs(int value) {
            epochs = value;
            return this;
        }

        public Builder steps(long value) {
            steps = value;
            return this;
        }

        public Builder optimizer(OptimizerKind value) {
            optimizer = value;
            return this;
        }

        public Builder lr(double value) {
            lr = value;
            return this;
        }

        public Builder momentum(double value) {
            momentum = value;
            return this;
        }

        public Builder clip(double value) {
            clip = value;
            return this;
        }

        public Builder lrDecay(double value) {
            lrDecay = value;
            return this;
        }

        public Builder lrDecayEvery(long value) {
            lrDecayEvery = value;
            return this;
        }

        public Builder evalEvery(long value) {
            evalEvery = value;
            return this;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        /** @throws InvalidOptionException naming the first option that is out of range */
        public TrainConfig build() {
            return new TrainConfig(batch, seq, epochs, steps, optimizer, lr, momentum, clip, lrDecay, lrDecayEvery,
                    evalEvery, seed);
        }
    }
}
