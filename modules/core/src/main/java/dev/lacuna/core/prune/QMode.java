package dev.lacuna.core.prune;

import dev.lacuna.core.InvalidOptionException;
import java.util.Locale;

/** How many reference magnitudes q (and so how many threshold schedules) a gradual pruning run uses. */
public enum QMode {
    /**
     * One q per pruned tensor (Distiller runs one pruner per tensor; algorithms.md §1(d)4). The default: W_hh has a
     * visibly smaller scale than W_ih, so one shared threshold would over-prune it.
     */
    PER_TENSOR,
    /**
     * One q per layer type, as in N17 §3: all input and recurrent matrices share one ("recurrent"), the head has its
     * own ("fc"), and so does the embedding when it is pruned.
     */
    PER_LAYER_TYPE;

    /** The command-line spelling, e.g. {@code per-tensor}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Parses the command-line spelling ({@code per-tensor} or {@code per-layer-type}, case-insensitive; the short
     * {@code layer-type} the README uses is accepted too).
     *
     * @throws InvalidOptionException naming {@code --q-mode} for any other text
     */
    public static QMode parse(String text) {
        String spelling = text.strip();
        for (QMode mode : values()) {
            if (mode.id().equalsIgnoreCase(spelling) || mode.id().equalsIgnoreCase("per-" + spelling)) {
                return mode;
            }
        }
        throw new InvalidOptionException("--q-mode", "must be per-tensor or per-layer-type, found '" + text + "'");
    }
}
