package dev.lacuna.pipeline;

import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import java.util.Map;
import java.util.TreeMap;

/**
 * Wraps a policy to record the threshold each mask refresh effectively used, so that every method (fixed
 * thresholds, levels, s·σ) can be plotted on one threshold axis. See {@link RunRecord.Point#threshold()}.
 */
final class RecordingPolicy implements PruningPolicy {
    private final PruningPolicy delegate;
    private final long stepOffset;
    private final TreeMap<Long, Double> thresholds;

    /**
     * @param stepOffset added to the trainer's step, so rounds of one method share one step axis
     * @param sink       refresh step (offset applied) to effective threshold; shared across rounds
     */
    RecordingPolicy(PruningPolicy delegate, long stepOffset, TreeMap<Long, Double> sink) {
        this.delegate = delegate;
        this.stepOffset = stepOffset;
        this.thresholds = sink;
    }

    @Override
    public String method() {
        return delegate.method();
    }

    @Override
    public boolean refreshesAt(long step) {
        return delegate.refreshesAt(step);
    }

    @Override
    public void refresh(long step, Model model) {
        delegate.refresh(step, model);
        thresholds.put(stepOffset + step, effectiveThreshold(model));
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return delegate.hyperparameters();
    }

    /** Size-weighted mean over masked tensors of the largest magnitude each mask removes (0 when none). */
    static double effectiveThreshold(Model model) {
        double weighted = 0;
        long total = 0;
        for (Map.Entry<String, boolean[]> e : model.masks().entrySet()) {
            float[] w = model.tensor(e.getKey()).data();
            boolean[] keep = e.getValue();
            double largest = 0;
            for (int i = 0; i < w.length; i++) {
                if (!keep[i]) {
                    largest = Math.max(largest, Math.abs(w[i]));
                }
            }
            weighted += largest * w.length;
            total += w.length;
        }
        return total == 0 ? 0 : weighted / total;
    }

    /** The threshold in force at {@code step}: that of the latest refresh at or before it, else 0. */
    static double thresholdAt(TreeMap<Long, Double> thresholds, long step) {
        Map.Entry<Long, Double> e = thresholds.floorEntry(step);
        return e == null ? 0 : e.getValue();
    }
}
