package dev.lacuna.core;

import java.util.Locale;

/** Nonlinearity of a vanilla RNN cell (PyTorch's {@code nonlinearity}, ONNX's {@code activations}). */
public enum RnnActivation {
    TANH,
    RELU;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static RnnActivation parse(String option, String text) {
        for (RnnActivation a : values()) {
            if (a.id().equalsIgnoreCase(text.trim())) {
                return a;
            }
        }
        throw new InvalidOptionException(option, "unknown activation '" + text + "' (expected tanh or relu)");
    }
}
