package dev.lacuna.core.prune;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One round of Han et al.'s prune-then-retrain (H15; algorithms.md §3): before the round's first step each pruned
 * tensor is masked with {@code keep = |w| > (r/k)·s·σ}, ANDed with its previous mask, and the round then retrains
 * with the masks fixed. The caller (the pipeline) runs rounds r = 1..k, each with a fresh policy and a lower
 * learning rate.
 *
 * <p>Choices where H15 is silent (§3(d)): σ is the standard deviation of the <em>dense</em> tensor, mean-centred
 * and unbiased like {@code torch.std}, computed once when the policy is built, so that every round measures against
 * the same scale; the quality parameter grows linearly over the rounds, so the threshold rises each iteration as
 * in Han's thesis and the last round reaches s·σ. Weights exactly at the threshold are pruned (Distiller's
 * {@code |w| > T}).
 */
public final class HanPruningPolicy implements PruningPolicy {
    private final Map<String, Double> quality;
    private final Map<String, Double> sigma;
    private final int round;
    private final int rounds;
    private final Map<String, Object> hyperparameters;

    private HanPruningPolicy(Map<String, Double> quality, Map<String, Double> sigma, int round, int rounds) {
        this.quality = Collections.unmodifiableMap(quality);
        this.sigma = Collections.unmodifiableMap(sigma);
        this.round = round;
        this.rounds = rounds;
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("round", round);
        h.put("rounds", rounds);
        h.put("s", this.quality);
        h.put("sigma", this.sigma);
        this.hyperparameters = Collections.unmodifiableMap(h);
    }

    /**
     * The policy of round {@code round} of {@code rounds}.
     *
     * @param dense   the dense model: its tensors give σ
     * @param quality s per pruned tensor (tensor name to s ≥ 0); tensors not listed stay dense
     * @throws InvalidOptionException naming {@code --han-rounds} unless 1 ≤ round ≤ rounds, or {@code --han-s} for a
     *                                negative s or a tensor that is not prunable
     */
    public static HanPruningPolicy round(Model dense, Map<String, Double> quality, int round, int rounds) {
        if (rounds < 1 || round < 1 || round > rounds) {
            throw new InvalidOptionException("--han-rounds", "round " + round + " of " + rounds
                    + " does not exist; the rounds must be at least 1");
        }
        List<String> prunable = dense.prunable(true).stream().map(TensorSpec::name).toList();
        Map<String, Double> s = new LinkedHashMap<>();
        Map<String, Double> sigma = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : quality.entrySet()) {
            if (!prunable.contains(e.getKey())) {
                throw new InvalidOptionException("--han-s", e.getKey() + " is not a prunable tensor of this model");
            }
            if (!(e.getValue() >= 0) || Double.isInfinite(e.getValue())) {
                throw new InvalidOptionException("--han-s", "s of " + e.getKey() + " must be a finite number of 0 "
                        + "or more, found " + e.getValue());
            }
            s.put(e.getKey(), e.getValue());
            sigma.put(e.getKey(), standardDeviation(dense.tensor(e.getKey()).data()));
        }
        return new HanPruningPolicy(s, sigma, round, rounds);
    }

    /**
     * Per-tensor s that reach {@code target} sparsity over all the given tensors of the dense model at the last
     * round: {@code s_t = c·w_t}, where {@code w_t} is each tensor's relative tolerance (1 for all when no
     * sensitivity analysis is at hand; from one, the s at which that tensor alone stayed within the accuracy
     * budget) and the common factor c is found by bisection on the pooled fraction of dense weights with
     * {@code |w| ≤ c·w_t·σ_t}.
     *
     * @param relative w_t per tensor, each ≥ 0 and at least one positive
     * @throws InvalidOptionException naming {@code --target-sparsity} unless the target is in (0, 1)
     */
    public static Map<String, Double> qualityForTarget(Model dense, Map<String, Double> relative, double target) {
        if (!(target > 0 && target < 1)) {
            throw new InvalidOptionException("--target-sparsity", "must be in (0, 1), found " + target);
        }
        List<String> names = new ArrayList<>(relative.keySet());
        List<float[]> magnitudes = new ArrayList<>();
        double[] scale = new double[names.size()];
        long total = 0;
        double hi = 0;
        for (int i = 0; i < names.size(); i++) {
            float[] w = dense.tensor(names.get(i)).data();
            float[] abs = new float[w.length];
            for (int j = 0; j < w.length; j++) {
                abs[j] = Math.abs(w[j]);
            }
            java.util.Arrays.sort(abs);
            magnitudes.add(abs);
            scale[i] = relative.get(names.get(i)) * standardDeviation(w);
            total += w.length;
            if (scale[i] > 0 && abs.length > 0) {
                hi = Math.max(hi, abs[abs.length - 1] / scale[i]);
            }
        }
        if (hi == 0) {
            throw new InvalidOptionException("--han-s", "no tensor can be pruned: every relative s or σ is 0");
        }
        // The pooled pruned fraction is monotone in c; 100 halvings take the interval far below float resolution.
        double lo = 0;
        for (int iteration = 0; iteration < 100; iteration++) {
            double mid = (lo + hi) / 2;
            long pruned = 0;
            for (int i = 0; i < names.size(); i++) {
                pruned += Magnitudes.countAtOrBelow(magnitudes.get(i), mid * scale[i]);
            }
            if ((double) pruned / total < target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Map<String, Double> s = new LinkedHashMap<>();
        for (String name : names) {
            s.put(name, hi * relative.get(name));
        }
        return s;
    }


    /** Mean-centred, unbiased (n − 1) standard deviation, as {@code torch.std}; 0 for fewer than two values. */
    public static double standardDeviation(float[] values) {
        if (values.length < 2) {
            return 0;
        }
        double mean = 0;
        for (float v : values) {
            mean += v;
        }
        mean /= values.length;
        double squares = 0;
        for (float v : values) {
            double d = v - mean;
            squares += d * d;
        }
        return Math.sqrt(squares / (values.length - 1));
    }

    @Override
    public String method() {
        return PruningMethod.HAN.id();
    }

    /** Only before the round's first step; the round then retrains with the masks fixed. */
    @Override
    public boolean refreshesAt(long step) {
        return step == 0;
    }

    @Override
    public void refresh(long step, Model model) {
        for (Map.Entry<String, Double> e : quality.entrySet()) {
            String name = e.getKey();
            double threshold = threshold(name);
            float[] w = model.tensor(name).data();
            boolean[] previous = model.mask(name);
            boolean[] keep = new boolean[w.length];
            for (int i = 0; i < w.length; i++) {
                keep[i] = Math.abs(w[i]) > threshold && (previous == null || previous[i]);
            }
            model.setMask(name, keep);
        }
    }

    /** This round's threshold of a tensor: {@code (round/rounds)·s·σ}. */
    public double threshold(String tensor) {
        Double s = quality.get(tensor);
        if (s == null) {
            throw new IllegalArgumentException(tensor + " is not pruned by this policy; pruned: " + quality.keySet());
        }
        return (double) round / rounds * s * sigma.get(tensor);
    }

    /** {@code round, rounds}, then {@code s} and {@code sigma} as maps from tensor name to value. */
    @Override
    public Map<String, Object> hyperparameters() {
        return hyperparameters;
    }

    /** σ of each pruned tensor's dense weights. */
    public Map<String, Double> sigma() {
        return sigma;
    }
}
