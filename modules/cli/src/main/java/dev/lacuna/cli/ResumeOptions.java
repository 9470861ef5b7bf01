package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.pipeline.Checkpoints;
import picocli.CommandLine.Option;

/**
 * Options that make a training run resumable (issue #8 item 4), a picocli mixin of {@code train}, {@code prune} and
 * {@code compare}: the run writes a checkpoint every N steps ({@code <out>.resume}; {@code compare} writes
 * {@code DIR/<run>.resume} and {@code DIR/compare.resume}), and a rerun with {@code --resume} continues from it and
 * ends bit-identical to an uninterrupted run. Kept apart from {@link TrainingOptions} because not every command that
 * trains checkpoints.
 */
final class ResumeOptions {
    @Option(names = "--checkpoint-every", paramLabel = "STEPS", description = "Write a training checkpoint"
            + " (<out>.resume; compare: DIR/<run>.resume) every STEPS steps (atomically), so that an interrupted run"
            + " can be resumed with --resume; it is deleted once the output is written.")
    Long checkpointEvery;

    @Option(names = "--resume", description = "Continue from the checkpoint if it exists, ending bit-identical to an"
            + " uninterrupted run; start from step 0 if it does not. Give the same model, data and settings.")
    boolean resume;

    /** Whether either option was given. */
    boolean requested() {
        return checkpointEvery != null || resume;
    }

    /**
     * Fails naming the first option given, for a method that does not train in one resumable run.
     *
     * @param method the method's id, as given to {@code --method}
     * @param why    why it cannot resume, completing "is not supported by --method X, which ..."
     */
    void rejectFor(String method, String why) {
        if (requested()) {
            throw new InvalidOptionException(checkpointEvery != null ? "--checkpoint-every" : "--resume",
                    "is not supported by --method " + method + ", which " + why);
        }
    }

    /** The options as the pipeline's API takes them; call {@link #validate()} first. */
    Checkpoints toCheckpoints() {
        return new Checkpoints(checkpointEvery == null ? 0 : checkpointEvery, resume);
    }

    /** Checks the values before any work starts, so a typo does not cost a model load. */
    void validate() {
        if (checkpointEvery != null && checkpointEvery < 1) {
            throw new InvalidOptionException("--checkpoint-every", "must be positive, found " + checkpointEvery);
        }
    }
}
