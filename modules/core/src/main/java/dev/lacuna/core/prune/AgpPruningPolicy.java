package dev.lacuna.core.prune;

import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.TensorSpec;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Automated gradual pruning (ZG17; algorithms.md §5): at each pruning step of an {@link AgpSchedule} the smallest
 * magnitudes are masked so that sparsity equals the scheduled value exactly, either in every tensor separately
 * (Distiller's behaviour for a pruner listing several tensors, the default) or over the pool of all pruned tensors.
 *
 * <p>Masks are sticky: a masked weight counts as zero at later steps, as Distiller zeroes in place (§5(d)), so
 * sparsity never falls. No weight statistic is needed and the final sparsity is the target by construction (up to
 * ties at the threshold, which are pruned too).
 */
public final class AgpPruningPolicy implements PruningPolicy {
    private final AgpSchedule schedule;
    private final List<String> tensors;
    private final boolean pooled;
    private final Map<String, Object> hyperparameters;

    /**
     * @param dense            the model whose prunable tensors are pruned (only its architecture is read)
     * @param schedule         when and how much to prune
     * @param pooled           one threshold over all pruned tensors instead of one per tensor
     * @param includeEmbedding prune the embedding too (an extension; N17 has none)
     */
    public AgpPruningPolicy(Model dense, AgpSchedule schedule, boolean pooled, boolean includeEmbedding) {
        this.schedule = schedule;
        this.tensors = dense.prunable(includeEmbedding).stream().map(TensorSpec::name).toList();
        this.pooled = pooled;
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("initial_sparsity", schedule.initial());
        h.put("target_sparsity", schedule.target());
        h.put("start", schedule.begin());
        h.put("freq", schedule.freq());
        h.put("pruning_steps", schedule.count() + 1);
        h.put("end", schedule.lastStep());
        h.put("pooled", pooled);
        h.put("include_embedding", includeEmbedding);
        this.hyperparameters = Collections.unmodifiableMap(h);
    }

    /**
     * The defaults Lacuna uses beside N17 so the two compare on the same run: pruning from the start of the gradual
     * schedule to its end (both exclusive, Distiller's range), at its refresh frequency, from s_i = 0.
     */
    public static AgpPruningPolicy matching(Model dense, ScheduleSteps steps, double target, boolean pooled,
                                            boolean includeEmbedding) {
        AgpSchedule schedule = AgpSchedule.fromRange(0, target, steps.start(), steps.end(), steps.freq());
        return new AgpPruningPolicy(dense, schedule, pooled, includeEmbedding);
    }

    @Override
    public String method() {
        return PruningMethod.AGP.id();
    }

    @Override
    public boolean refreshesAt(long step) {
        return schedule.prunesAt(step);
    }

    @Override
    public void refresh(long step, Model model) {
        LevelPruning.apply(model, tensors, schedule.sparsityInForce(step), pooled, true);
    }

    /** {@code initial_sparsity, target_sparsity, start, freq, pruning_steps, end, pooled, include_embedding}. */
    @Override
    public Map<String, Object> hyperparameters() {
        return hyperparameters;
    }

    public AgpSchedule schedule() {
        return schedule;
    }

    /** The pruned tensors in architecture order. */
    public List<String> prunedTensors() {
        return tensors;
    }
}
