package dev.lacuna.core;

import java.nio.file.Path;

/**
 * An input file is missing, unreadable or malformed. The message names the file and says what was expected
 * and what was found, so the user can act without a stack trace.
 */
public class BadFileException extends LacunaException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;

    public BadFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public BadFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }

    @Override
    public int exitCode() {
        return 3;
    }
}
