package dev.lacuna.pipeline;

import dev.lacuna.core.InvalidOptionException;

/**
 * How a long run of the pipeline checkpoints and resumes (issue #8 item 4), the API side of the CLI's
 * {@code --checkpoint-every} and {@code --resume}.
 *
 * @param every  training steps between checkpoints (counted within each training of the run), 0 for none
 * @param resume whether to continue from the run's checkpoint when there is one
 */
public record Checkpoints(long every, boolean resume) {
    /** No checkpoints, no resuming. */
    public static final Checkpoints NONE = new Checkpoints(0, false);

    /** @throws InvalidOptionException naming {@code --checkpoint-every} when {@code every} is negative */
    public Checkpoints {
        if (every < 0) {
            throw new InvalidOptionException("--checkpoint-every", "must be positive, found " + every);
        }
    }

    /** Whether the run checkpoints or resumes at all. */
    public boolean requested() {
        return every > 0 || resume;
    }
}
