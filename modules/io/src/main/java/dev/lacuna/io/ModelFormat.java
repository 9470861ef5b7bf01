package dev.lacuna.io;

import dev.lacuna.core.Model;
import java.nio.file.Path;
import java.util.List;

/**
 * A model file format that {@link ModelFiles} can read and write, chosen by file extension.
 *
 * <p>io registers its own formats (safetensors, npz). Other modules plug theirs in without io depending on them:
 * implement this interface with a public no-argument constructor and list the class in
 * {@code META-INF/services/dev.lacuna.io.ModelFormat}; {@link java.util.ServiceLoader} finds it on the class path.
 */
public interface ModelFormat {
    /** Short name for messages and listings, e.g. {@code "npz"}. */
    String id();

    /** File extensions this format owns, lower case with the dot, e.g. {@code ".npz"}. */
    List<String> extensions();

    /**
     * Reads a whole model.
     *
     * @throws dev.lacuna.core.BadFileException naming the file when it cannot be read as this format
     */
    Model read(Path file);

    /**
     * Writes a whole model atomically (through {@link AtomicFiles}).
     *
     * @throws dev.lacuna.core.BadFileException naming the file when it cannot be written
     */
    void write(Model model, Path file);
}
