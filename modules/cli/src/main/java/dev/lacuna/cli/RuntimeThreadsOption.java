package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import picocli.CommandLine.Option;

/** {@code --threads} of the commands that run the Java runtime ({@code run}, {@code bench}), a picocli mixin. */
final class RuntimeThreadsOption {
    @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
            description = "Threads per matrix product in the Java runtime (default 1). Large products split their"
                    + " rows over N threads; small ones stay on one. The results do not depend on N.")
    int threads;

    int threads() {
        if (threads < 1) {
            throw new InvalidOptionException("--threads", "must be positive, found " + threads);
        }
        return threads;
    }
}
