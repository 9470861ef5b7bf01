package dev.lacuna.core;

import java.util.Locale;

/**
 * Recurrent cell kinds. Gate blocks are stacked along the rows of the packed weight matrices in PyTorch's
 * order, which is Lacuna's canonical layout: LSTM i,f,g,o; GRU r,z,n; RNN a single block.
 */
public enum CellType {
    RNN(1),
    GRU(3),
    LSTM(4);

    private final int gates;

    CellType(int gates) {
        this.gates = gates;
    }

    /** Number of gate blocks packed in each weight matrix and bias. */
    public int gates() {
        return gates;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code rnn}, {@code gru} or {@code lstm}, case-insensitively. */
    public static CellType parse(String option, String text) {
        for (CellType c : values()) {
            if (c.id().equalsIgnoreCase(text.trim())) {
                return c;
            }
        }
        throw new InvalidOptionException(option, "unknown cell '" + text + "' (expected rnn, gru or lstm)");
    }
}
