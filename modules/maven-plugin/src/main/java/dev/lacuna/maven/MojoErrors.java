package dev.lacuna.maven;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;

/**
 * Maps Lacuna's exceptions to Maven's: a setting out of range or a missing input is the pom's fault
 * ({@link MojoFailureException}, naming the element as {@code <name>}); anything that goes wrong while running
 * ({@link MojoExecutionException}).
 */
final class MojoErrors {
    private MojoErrors() {
    }

    /** The pipeline names settings by their pom element names, so the option is the element. */
    static MojoFailureException configuration(InvalidOptionException e) {
        String problem = e.getMessage().startsWith(e.option() + ": ")
                ? e.getMessage().substring(e.option().length() + 2) : e.getMessage();
        return new MojoFailureException("Invalid <" + e.option() + ">: " + problem, e);
    }

    static MojoExecutionException runtime(String goal, LacunaException e) {
        return new MojoExecutionException("lacuna:" + goal + " failed: " + e.getMessage(), e);
    }
}
