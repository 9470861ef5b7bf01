package dev.lacuna.onnx;

import dev.lacuna.core.InvalidOptionException;

/**
 * How {@link OnnxWeights#prune} chooses the weights to remove: one-shot magnitude pruning with no training data.
 *
 * @param rule              the selection rule
 * @param value             the target sparsity (fraction of weights set to zero, in [0, 1)) for the sparsity rules,
 *                          or the quality parameter s of Han's rule (prune |w| ≤ s·σ)
 * @param includeEmbeddings also prune embedding tables (the data operand of a Gather); off by default, as Lacuna's
 *                          gradual pruning leaves the embedding dense unless asked
 * @param storage           how each pruned weight is written ({@link SparseMode#SCATTER} by default): sparse forms
 *                          make the file smaller, and a tensor whose sparse form would not be smaller stays dense;
 *                          {@link SparseMode#NONE} writes the zeros in place, like the input's layout
 */
public record OnnxPruning(Rule rule, double value, boolean includeEmbeddings, SparseMode storage) {

    /** The selection rules. */
    public enum Rule {
        /** Every weight tensor loses the same fraction: its smallest magnitudes. */
        SPARSITY_PER_TENSOR,
        /** One magnitude threshold over all weight tensors pooled, so that the given fraction of them is removed. */
        SPARSITY_GLOBAL,
        /**
         * Han et al. 2015 (§3 of algorithms.md): per tensor, prune |w| ≤ s·σ, σ the standard deviation of the tensor's
         * dense values (mean-centred, n − 1 in the denominator like {@code torch.std}); the sparsity is an outcome.
         */
        STD_THRESHOLD
    }

    public OnnxPruning {
        if (rule == null) {
            throw new InvalidOptionException("--method", "a pruning rule must be given");
        }
        if (storage == null) {
            throw new InvalidOptionException("--sparse", "a sparse storage must be given");
        }
        if (rule == Rule.STD_THRESHOLD) {
            if (!(value >= 0) || Double.isInfinite(value)) {
                throw new InvalidOptionException("--quality", "must be a non-negative number, found " + value);
            }
        } else if (!(value >= 0 && value < 1)) {
            throw new InvalidOptionException("--target-sparsity", "must be in [0, 1), found " + value);
        }
    }

    /** Each weight tensor pruned to {@code targetSparsity}. */
    public static OnnxPruning perTensor(double targetSparsity) {
        return new OnnxPruning(Rule.SPARSITY_PER_TENSOR, targetSparsity, false, SparseMode.SCATTER);
    }

    /** All weight tensors together pruned to {@code targetSparsity} by one threshold. */
    public static OnnxPruning global(double targetSparsity) {
        return new OnnxPruning(Rule.SPARSITY_GLOBAL, targetSparsity, false, SparseMode.SCATTER);
    }

    /** Han's rule with quality parameter {@code s}. */
    public static OnnxPruning stdThreshold(double quality) {
        return new OnnxPruning(Rule.STD_THRESHOLD, quality, false, SparseMode.SCATTER);
    }

    /** The same rule, also pruning embedding tables. */
    public OnnxPruning withEmbeddings(boolean include) {
        return new OnnxPruning(rule, value, include, storage);
    }

    /** The same rule, writing the pruned weights in {@code mode}. */
    public OnnxPruning withStorage(SparseMode mode) {
        return new OnnxPruning(rule, value, includeEmbeddings, mode);
    }
}
