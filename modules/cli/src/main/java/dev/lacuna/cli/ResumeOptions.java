package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import picocli.CommandLine.Option;

/**
 * Options that make a training run resumable (issue #8 item 4), a picocli mixin of {@code train} and {@code prune}:
 * the run writes {@code <out>.resume} every N steps, and a rerun with {@code --resume} continues from it and ends
 * bit-identical to an uninterrupted run. Kept apart from {@link TrainingOptions} because {@code compare}, which also
 * mixes those in, does not checkpoint.
 */
final class ResumeOptions {
    @Option(names = "--checkpoint-every", paramLabel = "STEPS", description = "Write a training checkpoint"
            + " <out>.resume every STEPS steps (atomically), so that an interrupted run can be resumed with --resume;"
            + " it is deleted once the output is written.")
    Long checkpointEvery;

    @Option(names = "--resume", description = "Continue from <out>.resume if it exists, ending bit-identical to an"
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

    /** Checks the values before any work starts, so a typo does not cost a model load. */
    void validate() {
        if (checkpointEvery != null && checkpointEvery < 1) {
            throw new InvalidOptionException("--checkpoint-every", "must be positive, found " + checkpointEvery);
        }
    }
}
