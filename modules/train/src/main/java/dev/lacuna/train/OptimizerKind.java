package dev.lacuna.train;

import dev.lacuna.core.InvalidOptionException;

import java.util.Locale;

/** The update rules the trainer offers. */
public enum OptimizerKind {
    /** Adam with β1 0.9, β2 0.999, ε 1e-8 and bias correction. */
    ADAM,
    /** Stochastic gradient descent with (PyTorch-style) momentum. */
    SGD;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code adam} or {@code sgd}, case-insensitively. */
    public static OptimizerKind parse(String option, String text) {
        for (OptimizerKind k : values()) {
            if (k.id().equalsIgnoreCase(text.trim())) {
                return k;
            }
        }
        throw new InvalidOptionException(option, "unknown optimizer '" + text + "' (expected adam or sgd)");
    }
}
