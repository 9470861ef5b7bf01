package dev.lacuna.core.prune;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.TensorSpec;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hard pruning (N17 §4's baseline; algorithms.md §1(c)): before the first step the smallest magnitudes are masked
 * to the target at once, per tensor or pooled, and the masks never change afterwards. Trained afterwards it is
 * {@code oneshot+finetune}; without training it is {@code oneshot}.
 */
public final class OneShotPruningPolicy implements PruningPolicy {
    private final double target;
    private final List<String> tensors;
    private final boolean pooled;
    private final boolean finetune;
    private final Map<String, Object> hyperparameters;

    /**
     * @param finetune whether training follows (only changes the reported method name)
     * @throws InvalidOptionException naming {@code --target-sparsity} unless the target is in (0, 1)
     */
    public OneShotPruningPolicy(Model dense, double target, boolean pooled, boolean includeEmbedding,
                                boolean finetune) {
        if (!(target > 0 && target < 1)) {
            throw new InvalidOptionException("--target-sparsity", "must be in (0, 1), found " + target);
        }
        this.target = target;
        this.tensors = dense.prunable(includeEmbedding).stream().map(TensorSpec::name).toList();
        this.pooled = pooled;
        this.finetune = finetune;
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("target_sparsity", target);
        h.put("pooled", pooled);
        h.put("include_embedding", includeEmbedding);
        h.put("finetune", finetune);
        this.hyperparameters = Collections.unmodifiableMap(h);
    }

    @Override
    public String method() {
        return (finetune ? PruningMethod.ONESHOT_FINETUNE : PruningMethod.ONESHOT).id();
    }

    /** Only before step 0. */
    @Override
    public boolean refreshesAt(long step) {
        return step == 0;
    }

    @Override
    public void refresh(long step, Model model) {
        LevelPruning.apply(model, tensors, target, pooled, true);
    }

    /** Prunes {@code model} now, as the trainer would before its first step, and zeroes the masked weights. */
    public void pruneNow(Model model) {
        refresh(0, model);
        model.applyMasks();
    }

    /** {@code target_sparsity, pooled, include_embedding, finetune}. */
    @Override
    public Map<String, Object> hyperparameters() {
        return hyperparameters;
    }

    public double target() {
        return target;
    }
}
