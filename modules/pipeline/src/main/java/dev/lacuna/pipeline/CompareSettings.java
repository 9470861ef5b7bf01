package dev.lacuna.pipeline;

import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.train.TrainConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link CompareExperiment} runs. Each validation error names the command-line option that sets the value.
 *
 * @param targetSparsity       sparsity every method aims at, in (0, 1) ({@code --target-sparsity})
 * @param methods              methods to compare, distinct, in run order ({@code --methods})
 * @param fineTune             training settings of every method; its {@code steps} is the budget S
 *                             ({@code --steps}) that gradual, agp and oneshot+finetune each get
 * @param hanRounds            k, Han's prune-retrain rounds ({@code --han-rounds}, default 3)
 * @param hanRoundSteps        retraining steps per Han round ({@code --han-round-steps}, default S)
 * @param hanLr                Han's retraining learning rate ({@code --han-lr}, default the fine-tuning rate ÷ 5, i.e.
 *                             the training rate ÷ 10 with Lacuna's defaults; H15 retrains at ÷10 to ÷100)
 * @param hanSensitivity       derive Han's per-tensor s from a sensitivity analysis (default) instead of one s for all
 * @param sensitivityLevels    levels the analysis prunes each tensor to ({@code --levels})
 * @param sensitivityTolerance relative bpc increase a tensor may cause alone ({@code --sensitivity-tolerance})
 * @param sensitivityChars     held-out characters the analysis evaluates on (a prefix of the validation split)
 * @param widths               hidden sizes of the width sweep, empty for none ({@code --widths})
 * @param widthCells           cells of the width sweep, empty for the dense model's cell ({@code --cells})
 * @param widthDenseSteps      training steps of each dense model of the sweep ({@code --width-steps}, default S)
 * @param denseLr              learning rate for training the sweep's dense models from scratch
 * @param pooled               agp and oneshot prune to the target over all tensors together, not per tensor
 * @param includeEmbedding     prune the embedding too
 */
public record CompareSettings(double targetSparsity, List<PruningMethod> methods, TrainConfig fineTune,
                              int hanRounds, long hanRoundSteps, double hanLr, boolean hanSensitivity,
                              List<Double> sensitivityLevels, double sensitivityTolerance, int sensitivityChars,
                              List<Integer> widths, List<CellType> widthCells, long widthDenseSteps, double denseLr,
                              boolean pooled, boolean includeEmbedding) {

    /** The widest hidden size a sweep accepts; each sweep model is trained from scratch. */
    public static final int MAX_WIDTH = 4096;
    /** Default methods: all of them. */
    public static final List<PruningMethod> ALL_METHODS = List.of(PruningMethod.values());
    /** Default sensitivity levels (Distiller's sweep, thinned). */
    public static final List<Double> DEFAULT_LEVELS = List.of(0.5, 0.7, 0.8, 0.9, 0.95);

    public CompareSettings {
        Objects.requireNonNull(fineTune, "fineTune");
        if (!(targetSparsity > 0 && targetSparsity < 1)) {
            throw new InvalidOptionException("--target-sparsity", "must be in (0, 1), found " + targetSparsity);
        }
        if (fineTune.steps() < 1) {
            throw new InvalidOptionException("--steps", "must be positive, found " + fineTune.steps());
        }
        if (methods.isEmpty() || new HashSet<>(methods).size() != methods.size()) {
            throw new InvalidOptionException("--methods", "must list each method at most once and at least one, found "
                    + methods);
        }
        if (hanRounds < 1) {
            throw new InvalidOptionException("--han-rounds", "must be at least 1, found " + hanRounds);
        }
        if (hanRoundSteps < 1) {
            throw new InvalidOptionException("--han-round-steps", "must be positive, found " + hanRoundSteps);
        }
        if (!(hanLr > 0) || Double.isInfinite(hanLr)) {
            throw new InvalidOptionException("--han-lr", "must be a positive finite number, found " + hanLr);
        }
        sensitivityLevels = SensitivityAnalysis.checkLevels(sensitivityLevels);
        if (!(sensitivityTolerance >= 0) || Double.isInfinite(sensitivityTolerance)) {
            throw new InvalidOptionException("--sensitivity-tolerance", "must be a finite number of 0 or more, found "
                    + sensitivityTolerance);
        }
        if (sensitivityChars < 2) {
            throw new InvalidOptionException("--sensitivity-chars", "must be at least 2, found " + sensitivityChars);
        }
        widths = checkWidths(widths);
        widthCells = List.copyOf(widthCells);
        methods = List.copyOf(methods);
        if (widthDenseSteps < 1) {
            throw new InvalidOptionException("--width-steps", "must be positive, found " + widthDenseSteps);
        }
        if (!(denseLr > 0) || Double.isInfinite(denseLr)) {
            throw new InvalidOptionException("--lr", "must be a positive finite number, found " + denseLr);
        }
    }

    private static List<Integer> checkWidths(List<Integer> widths) {
        if (widths.isEmpty()) {
            return List.of();
        }
        List<Integer> sorted = new ArrayList<>(new java.util.TreeSet<>(widths));
        if (sorted.size() != widths.size()) {
            throw new InvalidOptionException("--widths", "lists a width twice: " + widths);
        }
        if (sorted.size() < 2) {
            throw new InvalidOptionException("--widths", "needs at least two widths to pair a wide sparse model with a "
                    + "narrow dense one, found " + widths);
        }
        if (sorted.get(0) < 1 || sorted.get(sorted.size() - 1) > MAX_WIDTH) {
            throw new InvalidOptionException("--widths", "every width must be in 1.." + MAX_WIDTH + ", found "
                    + widths);
        }
        return List.copyOf(sorted);
    }

    /** Settings with Lacuna's defaults for a budget of {@code fineTune.steps()} steps. */
    public static Builder builder(double targetSparsity, TrainConfig fineTune) {
        return new Builder(targetSparsity, fineTune);
    }

    /** The settings as report fields, with option-style names. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target_sparsity", targetSparsity);
        m.put("methods", methods.stream().map(PruningMethod::id).toList());
        m.put("steps", fineTune.steps());
        m.put("batch", fineTune.batch());
        m.put("seq", fineTune.seq());
        m.put("optimizer", fineTune.optimizer().id());
        m.put("lr", fineTune.lr());
        m.put("clip", fineTune.clip());
        m.put("eval_every", fineTune.evalEvery());
        m.put("seed", fineTune.seed());
        m.put("han_rounds", hanRounds);
        m.put("han_round_steps", hanRoundSteps);
        m.put("han_lr", hanLr);
        m.put("han_sensitivity", hanSensitivity);
        m.put("sensitivity_levels", sensitivityLevels);
        m.put("sensitivity_tolerance", sensitivityTolerance);
        m.put("sensitivity_chars", sensitivityChars);
        m.put("widths", widths);
        m.put("width_cells", widthCells.stream().map(CellType::id).toList());
        m.put("width_steps", widthDenseSteps);
        m.put("dense_lr", denseLr);
        m.put("pooled", pooled);
        m.put("include_embedding", includeEmbedding);
        return m;
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private final double targetSparsity;
        private final TrainConfig fineTune;
        private List<PruningMethod> methods = ALL_METHODS;
        private int hanRounds = 3;
        private Long hanRoundSteps;
        private Double hanLr;
        private boolean hanSensitivity = true;
        private List<Double> levels = DEFAULT_LEVELS;
        private double tolerance = 0.02;
        private int sensitivityChars = 50_000;
        private List<Integer> widths = List.of();
        private List<CellType> widthCells = List.of();
        private Long widthSteps;
        private double denseLr = 2e-3;
        private boolean pooled;
        private boolean includeEmbedding;

        private Builder(double targetSparsity, TrainConfig fineTune) {
            this.targetSparsity = targetSparsity;
            this.fineTune = fineTune;
        }

        public Builder methods(List<PruningMethod> value) {
            methods = value;
            return this;
        }

        public Builder hanRounds(int value) {
            hanRounds = value;
            return this;
        }

        /** Null for the default (S). */
        public Builder hanRoundSteps(Long value) {
            hanRoundSteps = value;
            return this;
        }

        /** Null for the default (fine-tuning rate ÷ 5). */
        public Builder hanLr(Double value) {
            hanLr = value;
            return this;
        }

        public Builder hanSensitivity(boolean value) {
            hanSensitivity = value;
            return this;
        }

        public Builder sensitivityLevels(List<Double> value) {
            levels = value;
            return this;
        }

        public Builder sensitivityTolerance(double value) {
            tolerance = value;
            return this;
        }

        public Builder sensitivityChars(int value) {
            sensitivityChars = value;
            return this;
        }

        public Builder widths(List<Integer> value) {
            widths = value;
            return this;
        }

        public Builder widthCells(List<CellType> value) {
            widthCells = value;
            return this;
        }

        /** Null for the default (S). */
        public Builder widthSteps(Long value) {
            widthSteps = value;
            return this;
        }

        public Builder denseLr(double value) {
            denseLr = value;
            return this;
        }

        public Builder pooled(boolean value) {
            pooled = value;
            return this;
        }

        public Builder includeEmbedding(boolean value) {
            includeEmbedding = value;
            return this;
        }

        /** @throws InvalidOptionException naming the first option out of range */
        public CompareSettings build() {
            long s = fineTune.steps();
            return new CompareSettings(targetSparsity, methods, fineTune, hanRounds,
                    hanRoundSteps != null ? hanRoundSteps : s, hanLr != null ? hanLr : fineTune.lr() / 5,
                    hanSensitivity, levels, tolerance, sensitivityChars, widths, widthCells,
                    widthSteps != null ? widthSteps : s, denseLr, pooled, includeEmbedding);
        }
    }
}
