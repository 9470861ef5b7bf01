package dev.lacuna.core.prune;

import dev.lacuna.core.InvalidOptionException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The pruning methods Lacuna implements, by their command-line names ({@code --method}, {@code --methods}). */
public enum PruningMethod {
    /** N17 gradual threshold pruning during training ({@link GradualPruningPolicy}). */
    GRADUAL("gradual"),
    /** Zhu &amp; Gupta's cubic sparsity schedule to an exact target ({@link AgpPruningPolicy}). */
    AGP("agp"),
    /** Han et al. 2015: prune at s·σ, retrain with the mask fixed, k rounds ({@link HanPruningPolicy}). */
    HAN("han"),
    /** Prune to the target once, no training afterwards ({@link OneShotPruningPolicy}). */
    ONESHOT("oneshot"),
    /** Prune to the target once, then fine-tune with the mask fixed: N17's "hard pruning" baseline. */
    ONESHOT_FINETUNE("oneshot+finetune");

    private final String id;

    PruningMethod(String id) {
        this.id = id;
    }

    /** The command-line and report name. */
    public String id() {
        return id;
    }

    /** Whether the method trains after (or while) pruning. */
    public boolean trains() {
        return this != ONESHOT;
    }

    /**
     * Parses a method name (case-insensitive, surrounding blanks ignored).
     *
     * @param option the option to name in the error, e.g. {@code --method}
     * @throws InvalidOptionException naming {@code option} for an unknown name
     */
    public static PruningMethod parse(String option, String text) {
        String name = text.strip().toLowerCase(Locale.ROOT);
        for (PruningMethod m : values()) {
            if (m.id.equals(name)) {
                return m;
            }
        }
        throw new InvalidOptionException(option, "unknown method '" + text + "' (available: " + names() + ")");
    }

    /** All names, comma-separated, in declaration order. */
    public static String names() {
        return Arrays.stream(values()).map(PruningMethod::id).collect(Collectors.joining(", "));
    }
}
