package dev.lacuna.pipeline.compress;

import dev.lacuna.core.InvalidOptionException;

/**
 * The limits of a {@link QualityGate}; null means "not checked". Names in errors are the settings' names (the Maven
 * plugin's pom elements).
 *
 * @param minSparsity    least achieved sparsity of the prunable weights, in [0, 1] ({@code minSparsity})
 * @param maxBpcIncrease largest allowed held-out bpc increase, ≥ 0 ({@code maxBpcIncrease}); needs training data
 * @param maxOutputDiff  largest allowed max-abs output difference in ONNX Runtime, ≥ 0 ({@code maxOutputDiff})
 * @param maxSizeBytes   largest allowed size of each output file, ≥ 1 ({@code maxSizeBytes})
 */
public record GateLimits(Double minSparsity, Double maxBpcIncrease, Double maxOutputDiff, Long maxSizeBytes) {
    public GateLimits {
        if (minSparsity != null && !(minSparsity >= 0 && minSparsity <= 1)) {
            throw new InvalidOptionException("minSparsity", "must be in [0, 1], found " + minSparsity);
        }
        if (maxBpcIncrease != null && (!(maxBpcIncrease >= 0) || maxBpcIncrease.isInfinite())) {
            throw new InvalidOptionException("maxBpcIncrease", "must be a finite number ≥ 0, found " + maxBpcIncrease);
        }
        if (maxOutputDiff != null && (!(maxOutputDiff >= 0) || maxOutputDiff.isInfinite())) {
            throw new InvalidOptionException("maxOutputDiff", "must be a finite number ≥ 0, found " + maxOutputDiff);
        }
        if (maxSizeBytes != null && maxSizeBytes < 1) {
            throw new InvalidOptionException("maxSizeBytes", "must be at least 1, found " + maxSizeBytes);
        }
    }

    /** Whether any limit is set. */
    public boolean any() {
        return minSparsity != null || maxBpcIncrease != null || maxOutputDiff != null || maxSizeBytes != null;
    }
}
