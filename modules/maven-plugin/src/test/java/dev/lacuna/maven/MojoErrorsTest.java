package dev.lacuna.maven;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import java.nio.file.Path;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.junit.jupiter.api.Test;

class MojoErrorsTest {
    @Test
    void aSettingMistakeNamesThePomElement() {
        InvalidOptionException cause = new InvalidOptionException("targetSparsity", "must be in (0, 1), found 1.5");
        MojoFailureException e = MojoErrors.configuration(cause);
        assertEquals("Invalid <targetSparsity>: must be in (0, 1), found 1.5", e.getMessage());
        assertSame(cause, e.getCause());
    }

    @Test
    void aRuntimeFailureNamesTheGoalAndTheFile() {
        MojoExecutionException e = MojoErrors.runtime("compress", new BadFileException(Path.of("m.onnx"),
                "is not an ONNX model"));
        assertEquals("lacuna:compress failed: m.onnx: is not an ONNX model", e.getMessage());
    }
}
