package dev.lacuna.core;

/** A user-supplied setting is out of range or inconsistent; the message names the option. */
public class InvalidOptionException extends LacunaException {
    private static final long serialVersionUID = 1L;
    private final String option;

    public InvalidOptionException(String option, String problem) {
        super(option + ": " + problem);
        this.option = option;
    }

    public String option() {
        return option;
    }

    @Override
    public int exitCode() {
        return 2;
    }
}
