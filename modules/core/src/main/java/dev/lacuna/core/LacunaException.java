package dev.lacuna.core;

/**
 * Root of every error Lacuna raises on purpose. Each subtype maps to one process exit code, so front ends
 * can turn any failure into one line and a stable status without inspecting messages.
 */
public class LacunaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LacunaException(String message) {
        super(message);
    }

    public LacunaException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Process exit code a command-line front end should use for this failure. */
    public int exitCode() {
        return 1;
    }
}
