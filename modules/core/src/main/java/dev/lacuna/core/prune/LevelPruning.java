package dev.lacuna.core.prune;

import dev.lacuna.core.Model;
import java.util.ArrayList;
import java.util.List;

/**
 * Magnitude pruning to a sparsity level, Distiller's level criterion (algorithms.md §5(d)): the {@code round(s·N)}
 * smallest magnitudes of a tensor (or of a pool of tensors) are masked, ties with the largest of them included.
 * Weights already masked count as zero when the masks are sticky, so earlier pruning stays pruned.
 */
final class LevelPruning {
    private LevelPruning() {
    }

    /**
     * Masks each tensor of {@code names} at {@code level}, per tensor or over the pool of all of them.
     *
     * @return the threshold used for each tensor (the largest pruned magnitude, 0 when nothing was pruned)
     */
    static List<Double> apply(Model model, List<String> names, double level, boolean pooled, boolean sticky) {
        List<Double> thresholds = new ArrayList<>();
        if (pooled) {
            List<float[]> all = new ArrayList<>();
            for (String name : names) {
                all.add(effective(model, name, sticky));
            }
            double threshold = Magnitudes.of(all).thresholdPruning(level);
            for (int i = 0; i < names.size(); i++) {
                mask(model, names.get(i), all.get(i), threshold);
                thresholds.add(threshold);
            }
        } else {
            for (String name : names) {
                float[] w = effective(model, name, sticky);
                double threshold = Magnitudes.of(List.of(w)).thresholdPruning(level);
                mask(model, name, w, threshold);
                thresholds.add(threshold);
            }
        }
        return thresholds;
    }

    /** Keep {@code |w| > threshold}; with a threshold of 0, exact zeros are the only weights masked. */
    static void mask(Model model, String name, float[] weights, double threshold) {
        boolean[] keep = new boolean[weights.length];
        for (int i = 0; i < weights.length; i++) {
            keep[i] = Math.abs(weights[i]) > threshold;
        }
        model.setMask(name, keep);
    }

    /** The weights with masked entries set to zero when sticky, else the raw weights. */
    static float[] effective(Model model, String name, boolean sticky) {
        float[] w = model.tensor(name).data();
        boolean[] keep = model.mask(name);
        if (!sticky || keep == null) {
            return w;
        }
        float[] masked = w.clone();
        for (int i = 0; i < masked.length; i++) {
            if (!keep[i]) {
                masked[i] = 0f;
            }
        }
        return masked;
    }
}
