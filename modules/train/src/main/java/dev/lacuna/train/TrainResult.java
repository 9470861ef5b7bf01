package dev.lacuna.train;

import dev.lacuna.core.Model;

import java.util.List;

/**
 * The outcome of {@link Trainer#run()}.
 *
 * @param model          the trained model (the same object that was passed in), masks applied
 * @param steps          optimizer steps run
 * @param trainSeconds   wall time of the training steps, pruning included, evaluation excluded
 * @param stepsPerSecond {@code steps / trainSeconds}
 * @param pruningSeconds part of {@code trainSeconds} spent on mask refreshes and re-masking
 * @param bpcVal         bits per character on the whole validation split after training
 * @param history        one point per step, in step order
 */
public record TrainResult(Model model, long steps, double trainSeconds, double stepsPerSecond,
                          double pruningSeconds, double bpcVal, List<Point> history) {

    public TrainResult {
        history = List.copyOf(history);
    }

    /**
     * Training progress at one step.
     *
     * @param step     0-based step index
     * @param trainBpc bits per character of the step's minibatch, before its update
     * @param sparsity fraction of the prunable weights the masks hold at zero during the step
     * @param bpcVal   held-out bits per character after the step, or NaN when no evaluation ran there
     */
    public record Point(long step, double trainBpc, double sparsity, double bpcVal) {
        public boolean evaluated() {
            return !Double.isNaN(bpcVal);
        }
    }
}
