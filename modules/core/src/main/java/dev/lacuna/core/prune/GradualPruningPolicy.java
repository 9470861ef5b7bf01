package dev.lacuna.core.prune;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * N17 gradual threshold pruning (algorithms.md §1): every input, recurrent and head matrix (and, on request, the
 * embedding; never a bias) is masked with {@code keep = |w| > ε(t)} at each refresh step, where ε grows along a
 * {@link GradualSchedule} to about a reference magnitude q when pruning stops.
 *
 * <p>q is chosen in one of three ways: the given {@code q} for every tensor; by default the 90th percentile of |w|
 * of the dense model (N17 §4, computed once at build time); or, Lacuna's extension, from a target sparsity. In
 * target mode q is re-chosen at every refresh from the weights as they are then, so that the last refresh prunes
 * exactly the target fraction however fine-tuning moved the weights; {@link #q()} and {@link #threshold} give the
 * values computed from the dense weights. In every mode the policy predicts the final sparsity the schedule gives
 * on the dense weights ({@link #predictedSparsity()}): exact if the weights did not move during training, an
 * estimate otherwise (the reports measure the difference).
 *
 * <p>Masks are sticky by default, as in Distiller and puhsu/pruning (algorithms.md §1(d)2): a pruned weight never
 * returns and sparsity only grows. With {@code sticky(false)} each refresh starts from the weights as the optimizer
 * left them, so a pruned weight whose update carried it above ε comes back, as the N17 text allows.
 *
 * <p>Instances are immutable; the masks live in the {@link Model} the trainer passes to {@link #refresh}.
 */
public final class GradualPruningPolicy implements PruningPolicy {

    /** The method id used in reports and provenance. */
    public static final String METHOD = "gradual";

    private final Architecture architecture;
    private final ScheduleSteps steps;
    private final boolean sticky;
    private final Map<String, GradualSchedule> schedules;
    private final Map<String, Double> q;
    private final Map<String, Double> predictedPerTensor;
    private final double predicted;
    private final Map<String, Object> hyperparameters;
    /** Target mode only: the target sparsity and the tensors that share one q (one group per tensor by default). */
    private final Double targetSparsity;
    private final Map<String, List<String>> groups;
    private final GradualSchedule unitSchedule;

    private GradualPruningPolicy(Architecture architecture, ScheduleSteps steps, boolean sticky,
                                 Map<String, GradualSchedule> schedules, Map<String, Double> q,
                                 Map<String, Double> predictedPerTensor, double predicted,
                                 Map<String, Object> hyperparameters, Double targetSparsity,
                                 Map<String, List<String>> groups, GradualSchedule unitSchedule) {
        this.targetSparsity = targetSparsity;
        this.groups = groups;
        this.unitSchedule = unitSchedule;
        this.architecture = architecture;
        this.steps = steps;
        this.sticky = sticky;
        this.schedules = Collections.unmodifiableMap(schedules);
        this.q = Collections.unmodifiableMap(q);
        this.predictedPerTensor = Collections.unmodifiableMap(predictedPerTensor);
        this.predicted = predicted;
        this.hyperparameters = Collections.unmodifiableMap(hyperparameters);
    }

    /**
     * Starts a policy for pruning a copy of {@code dense} during a run of {@code totalSteps} optimizer steps.
     * The dense model's weights set q (or the target thresholds) and the predicted sparsity; the policy keeps no
     * reference to it.
     */
    public static Builder builder(Model dense, long totalSteps, long stepsPerEpoch) {
        return new Builder(dense, totalSteps, stepsPerEpoch);
    }

    @Override
    public String method() {
        return METHOD;
    }

    @Override
    public boolean refreshesAt(long step) {
        return steps.refreshesAt(step);
    }

    /**
     * Sets the mask of every pruned tensor to {@code |w| > ε_tensor(step)}, ANDed with its current mask when sticky.
     *
     * @throws IllegalArgumentException when {@code model} has another architecture than the dense model
     */
    @Override
    public void refresh(long step, Model model) {
        if (!model.architecture().equals(architecture)) {
            throw new IllegalArgumentException("the policy was built for " + architecture + ", not for "
                    + model.architecture());
        }
        Map<String, Double> epsilon = targetSparsity == null ? fixedThresholds(step) : calibratedThresholds(step, model);
        for (Map.Entry<String, Double> entry : epsilon.entrySet()) {
            String name = entry.getKey();
            double e = entry.getValue();
            float[] w = model.tensor(name).data();
            boolean[] previous = sticky ? model.mask(name) : null;
            boolean[] keep = new boolean[w.length];
            for (int i = 0; i < w.length; i++) {
                keep[i] = Math.abs(w[i]) > e && (previous == null || previous[i]);
            }
            model.setMask(name, keep);
        }
    }

    private Map<String, Double> fixedThresholds(long step) {
        Map<String, Double> out = new LinkedHashMap<>();
        schedules.forEach((name, schedule) -> out.put(name, schedule.threshold(step)));
        return out;
    }

    /**
     * Target mode: q is re-chosen at every refresh from the weights as they are now, so that the schedule's final
     * threshold would prune exactly the target fraction of them. The threshold keeps N17's shape (ε(t) ∝ the unit
     * schedule), but fine-tuning can no longer move the outcome away from the target: at the last refresh ε is that
     * magnitude itself. Weights already masked count as zero, since sticky masks keep them pruned.
     */
    private Map<String, Double> calibratedThresholds(long step, Model model) {
        double shape = unitSchedule.threshold(step) / unitSchedule.finalThreshold();
        Map<String, Double> out = new LinkedHashMap<>();
        for (List<String> members : groups.values()) {
            List<float[]> current = new ArrayList<>();
            for (String name : members) {
                current.add(LevelPruning.effective(model, name, sticky));
            }
            double finalThreshold = Magnitudes.of(current).thresholdPruning(targetSparsity);
            double e = step >= unitSchedule.lastRefresh() ? finalThreshold : finalThreshold * shape;
            for (String name : members) {
                out.put(name, e);
            }
        }
        return out;
    }

    /**
     * The resolved settings, in this order: {@code start, ramp, end, freq, ramp_ratio, q_mode, percentile, sticky,
     * include_embedding, target_sparsity, q_recalibrated}, then {@code q} and {@code theta} as maps from tensor name to value in
     * architecture order. {@code percentile} is null unless it chose q; {@code target_sparsity} is null unless given.
     */
    @Override
    public Map<String, Object> hyperparameters() {
        return hyperparameters;
    }

    /** The resolved schedule steps (defaults filled in). */
    public ScheduleSteps steps() {
        return steps;
    }

    /** The pruned tensors, in architecture order. */
    public List<String> prunedTensors() {
        return List.copyOf(schedules.keySet());
    }

    /** The reference magnitude q of each pruned tensor (in per-layer-type mode, its layer type's q). */
    public Map<String, Double> q() {
        return q;
    }

    /** The threshold schedule of a pruned tensor. */
    public GradualSchedule schedule(String tensor) {
        GradualSchedule s = schedules.get(tensor);
        if (s == null) {
            throw new IllegalArgumentException(tensor + " is not pruned by this policy; pruned: " + schedules.keySet());
        }
        return s;
    }

    /** The threshold of {@code tensor} at {@code step}. */
    public double threshold(String tensor, long step) {
        return schedule(tensor).threshold(step);
    }

    /**
     * The fraction of each pruned tensor's dense weights with |w| ≤ its final threshold: the sparsity the schedule
     * reaches if training leaves the weights where they are.
     */
    public Map<String, Double> predictedSparsityPerTensor() {
        return predictedPerTensor;
    }

    /** {@link #predictedSparsityPerTensor()} over all pruned weights together (weighted by tensor size). */
    public double predictedSparsity() {
        return predicted;
    }

    /**
     * Options of a {@link GradualPruningPolicy}. A null step override or q means "use the default"; validation
     * happens in {@link #build()}, each error naming its command-line option.
     */
    public static final class Builder {
        private final Model dense;
        private final long totalSteps;
        private final long stepsPerEpoch;
        private Long start;
        private Long ramp;
        private Long end;
        private Long freq;
        private double rampRatio = GradualSchedule.DEFAULT_RAMP_RATIO;
        private Double q;
        private QMode qMode = QMode.PER_TENSOR;
        private double percentile = 90;
        private Double targetSparsity;
        private boolean sticky = true;
        private boolean includeEmbedding;

        private Builder(Model dense, long totalSteps, long stepsPerEpoch) {
            this.dense = Objects.requireNonNull(dense, "dense");
            this.totalSteps = totalSteps;
            this.stepsPerEpoch = stepsPerEpoch;
        }

        /** S; default: the start of the second epoch (see {@link ScheduleSteps#resolve}). */
        public Builder start(Long start) {
            this.start = start;
            return this;
        }

        /** R; default 25% of the steps. */
        public Builder ramp(Long ramp) {
            this.ramp = ramp;
            return this;
        }

        /** E; default 50% of the steps. */
        public Builder end(Long end) {
            this.end = end;
            return this;
        }

        /** f; default 100, capped for short runs. */
        public Builder freq(Long freq) {
            this.freq = freq;
            return this;
        }

        /** φ/θ; default 1.5 (N17 Eq. 1). */
        public Builder rampRatio(double rampRatio) {
            this.rampRatio = rampRatio;
            return this;
        }

        /** One q for every pruned tensor instead of the percentile; exclusive with a target sparsity. */
        public Builder q(Double q) {
            this.q = q;
            return this;
        }

        /** One q per tensor (default) or per layer type (N17). */
        public Builder qMode(QMode qMode) {
            this.qMode = qMode;
            return this;
        }

        /** The percentile of |w| that sets q when neither q nor a target sparsity is given; default 90 (N17). */
        public Builder percentile(double percentile) {
            this.percentile = percentile;
            return this;
        }

        /** The final sparsity to reach on the dense weights, in (0, 1); exclusive with q. */
        public Builder targetSparsity(Double targetSparsity) {
            this.targetSparsity = targetSparsity;
            return this;
        }

        /** Whether pruned weights stay pruned (default) or may regrow. */
        public Builder sticky(boolean sticky) {
            this.sticky = sticky;
            return this;
        }

        /** Whether the embedding is pruned too (default false; an extension, N17 has none). */
        public Builder includeEmbedding(boolean includeEmbedding) {
            this.includeEmbedding = includeEmbedding;
            return this;
        }

        /**
         * Resolves the defaults, computes q per tensor or layer type, and builds the policy.
         *
         * @throws InvalidOptionException naming the option at fault: a step option, {@code --ramp-ratio},
         *                                {@code --q} (also for an all-zero tensor whose percentile is 0),
         *                                {@code --percentile}, {@code --q-mode} or {@code --target-sparsity}
         */
        public GradualPruningPolicy build() {
            ScheduleSteps resolved = ScheduleSteps.resolve(totalSteps, stepsPerEpoch, start, ramp, end, freq);
            validate();

            Map<String, List<TensorSpec>> groups = new LinkedHashMap<>();
            for (TensorSpec spec : dense.prunable(includeEmbedding)) {
                String group = qMode == QMode.PER_TENSOR ? spec.name() : spec.role().layerType();
                groups.computeIfAbsent(group, g -> new ArrayList<>()).add(spec);
            }

            Map<String, Double> groupQs = new LinkedHashMap<>();
            Map<String, GradualSchedule> groupSchedules = new LinkedHashMap<>();
            for (Map.Entry<String, List<TensorSpec>> group : groups.entrySet()) {
                double groupQ = groupQ(group.getKey(), group.getValue(), resolved);
                for (TensorSpec spec : group.getValue()) {
                    groupQs.put(spec.name(), groupQ);
                    groupSchedules.put(spec.name(), GradualSchedule.fromQ(groupQ, resolved, rampRatio));
                }
            }

            // Every per-tensor map in architecture order, whatever the grouping.
            Map<String, GradualSchedule> schedules = new LinkedHashMap<>();
            Map<String, Double> qs = new LinkedHashMap<>();
            Map<String, Double> thetas = new LinkedHashMap<>();
            Map<String, Double> predictedPerTensor = new LinkedHashMap<>();
            long pruned = 0;
            long total = 0;
            for (TensorSpec spec : dense.prunable(includeEmbedding)) {
                GradualSchedule s = groupSchedules.get(spec.name());
                schedules.put(spec.name(), s);
                qs.put(spec.name(), groupQs.get(spec.name()));
                thetas.put(spec.name(), s.startSlope());
                float[] w = dense.tensor(spec.name()).data();
                long below = countAtOrBelow(w, s.finalThreshold());
                predictedPerTensor.put(spec.name(), (double) below / w.length);
                pruned += below;
                total += w.length;
            }

            Map<String, Object> hp = new LinkedHashMap<>();
            hp.put("start", resolved.start());
            hp.put("ramp", resolved.ramp());
            hp.put("end", resolved.end());
            hp.put("freq", resolved.freq());
            hp.put("ramp_ratio", rampRatio);
            hp.put("q_mode", qMode.id());
            // Only reported when it chose q, so provenance never shows a setting that had no effect.
            hp.put("percentile", q == null && targetSparsity == null ? percentile : null);
            hp.put("sticky", sticky);
            hp.put("include_embedding", includeEmbedding);
            hp.put("target_sparsity", targetSparsity);
            // In target mode q is re-chosen at every refresh; the values below are those of the dense weights.
            hp.put("q_recalibrated", targetSparsity != null);
            hp.put("q", Collections.unmodifiableMap(qs));
            hp.put("theta", Collections.unmodifiableMap(thetas));
            Map<String, List<String>> groupMembers = new LinkedHashMap<>();
            groups.forEach((g, specs) -> groupMembers.put(g, specs.stream().map(TensorSpec::name).toList()));
            return new GradualPruningPolicy(dense.architecture(), resolved, sticky, schedules, qs, predictedPerTensor,
                    total == 0 ? 0 : (double) pruned / total, hp, targetSparsity, groupMembers,
                    GradualSchedule.fromQ(1, resolved, rampRatio));
        }

        private void validate() {
            if (!(rampRatio >= 0) || Double.isInfinite(rampRatio)) {
                throw new InvalidOptionException("--ramp-ratio", "must be a finite number of 0 or more, found "
                        + rampRatio);
            }
            if (qMode == null) {
                throw new InvalidOptionException("--q-mode", "must be given");
            }
            if (q != null && targetSparsity != null) {
                throw new InvalidOptionException("--target-sparsity", "cannot be combined with --q: each one sets q");
            }
            if (q != null && !(q > 0 && q < Double.POSITIVE_INFINITY)) {
                throw new InvalidOptionException("--q", "must be a finite number above 0, found " + q);
            }
            if (!(percentile > 0 && percentile <= 100)) {
                throw new InvalidOptionException("--percentile", "must lie in (0, 100], found " + percentile);
            }
            if (targetSparsity != null && !(targetSparsity > 0 && targetSparsity < 1)) {
                throw new InvalidOptionException("--target-sparsity", "must lie strictly between 0 and 1, found "
                        + targetSparsity);
            }
        }

        private double groupQ(String group, List<TensorSpec> specs, ScheduleSteps resolved) {
            if (q != null) {
                return q;
            }
            List<float[]> weights = specs.stream().map(s -> dense.tensor(s.name()).data()).toList();
            Magnitudes magnitudes = Magnitudes.of(weights);
            if (targetSparsity != null) {
                return qReaching(magnitudes.thresholdPruning(targetSparsity), resolved);
            }
            double percentileQ = magnitudes.percentile(percentile);
            if (percentileQ == 0) {
                String what = qMode == QMode.PER_TENSOR ? "tensor " + group
                        : "layer type " + group + " " + specs.stream().map(TensorSpec::name).toList();
                String p = percentile == Math.rint(percentile) ? Long.toString((long) percentile)
                        : Double.toString(percentile);
                throw new InvalidOptionException("--q", "the " + p + "th percentile of |w| of " + what
                        + " is 0 (mostly zero weights): give --q or --target-sparsity");
            }
            return percentileQ;
        }

        /** The q whose schedule's last-refresh threshold is {@code finalThreshold} (ε is linear in q). */
        private double qReaching(double finalThreshold, ScheduleSteps resolved) {
            double perUnitQ = GradualSchedule.fromQ(1, resolved, rampRatio).finalThreshold();
            double result = finalThreshold / perUnitQ;
            // Rounding may leave ε one ulp below the target magnitude, which would keep the weights tied with it;
            // a double ulp is far below the gap to the next float magnitude, so stepping up is safe.
            while (GradualSchedule.fromQ(result, resolved, rampRatio).finalThreshold() < finalThreshold) {
                result = Math.nextUp(result);
            }
            return result;
        }
    }

    private static long countAtOrBelow(float[] w, double threshold) {
        long n = 0;
        for (float v : w) {
            if (!(Math.abs(v) > threshold)) {
                n++;
            }
        }
        return n;
    }
}
