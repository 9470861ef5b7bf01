package dev.lacuna.pipeline;

import dev.lacuna.train.TrainingListener;
import java.nio.file.Path;

/**
 * Progress of a multi-run experiment: which run is starting, and a training listener for its steps. Front ends show
 * the run label, the step and an ETA; the default ignores everything.
 */
public interface RunListener {

    /** Ignores everything. */
    RunListener NONE = new RunListener() {
    };

    /**
     * Run {@code index} (1-based) of {@code count}, labelled e.g. {@code "agp lstm-16"}, is about to start.
     *
     * @return the listener for its training steps (never null)
     */
    default TrainingListener onRun(String label, int index, int count) {
        return TrainingListener.NONE;
    }

    /**
     * A resumed experiment continues from a checkpoint: {@code label} is {@code "finished runs"} for the record of
     * the runs an interrupted experiment finished, else the run that continues from its own checkpoint.
     */
    default void onResume(String label, Path checkpoint) {
    }

    /** A run failed; the experiment goes on with the next one. */
    default void onFailure(String label, String message) {
    }
}
