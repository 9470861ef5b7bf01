package dev.lacuna.core;

import java.util.Map;

/**
 * A pruning method seen from the training loop. The policy owns the masks' lifecycle; the trainer only calls it.
 *
 * <p>Contract with the trainer (N17 Alg. 1; algorithms.md §7): masks are applied before the first forward pass
 * and re-applied after every optimizer step, so momentum, Adam state and weight decay cannot revive a pruned
 * weight. Before the forward pass of step {@code t}, when {@link #refreshesAt(long)} is true, the trainer copies
 * the weights <em>as the optimizer left them</em> (not yet re-masked) into the model's tensors and calls
 * {@link #refresh(long, Model)}; sticky policies combine the new mask with the old one, regrowth policies do not.
 */
public interface PruningPolicy {

    /** Short method id used in reports and provenance, e.g. {@code gradual}. */
    String method();

    /** Whether masks are recomputed before the forward pass of step {@code step} (0-based). */
    boolean refreshesAt(long step);

    /**
     * Recomputes the masks of the pruned tensors from the model's current weights, storing them with
     * {@link Model#setMask}. Does not zero weights; the trainer applies the masks.
     */
    void refresh(long step, Model model);

    /** Hyperparameters as they were resolved (defaults filled in), for reports and provenance. */
    Map<String, Object> hyperparameters();
}
