package dev.lacuna.cli;

/** Whether progress can be redrawn in place. */
final class Terminal {
    /** Set by the {@code lacuna} launcher from {@code [ -t 2 ]}, the only reliable test of stderr itself. */
    static final String STDERR_TTY_PROPERTY = "lacuna.stderr.tty";

    private Terminal() {
    }

    static boolean stderrIsInteractive() {
        String flag = System.getProperty(STDERR_TTY_PROPERTY);
        if (flag != null) {
            return Boolean.parseBoolean(flag);
        }
        // Without the launcher, Java only tells whether stdin and stdout are a terminal; stderr usually follows.
        return System.console() != null;
    }
}
