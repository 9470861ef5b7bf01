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
     * Median wall time of one step in milliseconds (forward, backward, clipping, optimizer and masking): robust to
     * the first steps' warm-up, so it compares with other frameworks' per-step medians.
     */
    public double medianStepMillis() {
        double[] ms = history.stream().mapToDouble(Point::millis).sorted().toArray();
        if (ms.length == 0) {
            return Double.NaN;
        }
        int mid = ms.length / 2;
        return ms.length % 2 == 1 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
    }

    /**
     * Training progress at one step.
     *
     * @param step     0-based step index
     * @param trainBpc bits per character of the step's minibatch, before its update
     * @param sparsity fraction of the prunable weights the masks hold at zero during the step
     * @param bpcVal   held-out bits per character after the step, or NaN when no evaluation ran there
     * @param millis   wall time of the step's training work (evaluation excluded)
     */
    public record Point(long step, double trainBpc, double sparsity, double bpcVal, double millis) {
        public boolean evaluated() {
            return !Double.isNaN(bpcVal);
        }
    }
}
