package dev.lacuna.train;

/**
 * Progress callbacks from {@link Trainer#run()}, on the training thread. Every method does nothing by default,
 * so a listener overrides only what it shows (a progress bar, a log line, a plot).
 */
public interface TrainingListener {

    /** A listener that ignores everything. */
    TrainingListener NONE = new TrainingListener() {
    };

    /** Training is about to run {@code totalSteps} optimizer steps. */
    default void onStart(long totalSteps) {
    }

    /**
     * Step {@code step} (0-based) finished.
     *
     * @param trainBpc bits per character of this step's minibatch, measured before the update
     * @param sparsity fraction of the prunable weights that the masks hold at zero
     */
    default void onStep(long step, double trainBpc, double sparsity) {
    }

    /** The held-out bits per character after {@code step} steps (1-based count of completed steps). */
    default void onEvaluation(long step, double bpcVal) {
    }

    /** Training and the final evaluation are done. */
    default void onFinish() {
    }
}
