package dev.lacuna.fuzz;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one rule every reader obeys (issue #8, item 1): whatever the bytes, reading them yields a value or a
 * {@link BadFileException} that names the file. Anything else escaping the reader (a {@code RuntimeException}, an
 * {@code OutOfMemoryError}, a {@code StackOverflowError}) propagates out of the fuzz test, and Jazzer records it as
 * a finding with the input that caused it. A typed error that is not a {@code BadFileException} is a finding too: the
 * CLI would report a broken file with the exit code of a bad option or an internal failure.
 *
 * <p>Readers take a {@link Path}, so each input is written to a file first. Every fuzz target owns one file (named
 * with the reader's usual extension, in case a reader looks at it) and overwrites it for every input: millions of
 * executions must not create millions of files.
 */
final class ReaderContract {
    private static final Path FOLDER = createFolder();

    private final Path input;

    /** @param fileName name of this target's input file, with the extension the reader expects */
    ReaderContract(String fileName) {
        this.input = FOLDER.resolve(fileName);
        input.toFile().deleteOnExit();
    }

    /**
     * Writes {@code bytes} to this target's file and reads it.
     *
     * @return the value read, or empty when the reader refused the file correctly
     * @throws AssertionError when the reader refused it with a typed error of the wrong kind or naming another file
     */
    <T> Optional<T> read(byte[] bytes, Function<Path, T> reader) {
        write(bytes);
        return readAgain(reader);
    }

    /** Reads the last input again, with another reader or the same reader in another mode. */
    <T> Optional<T> readAgain(Function<Path, T> reader) {
        try {
            return Optional.of(Objects.requireNonNull(reader.apply(input), "a reader returned null"));
        } catch (BadFileException e) {
            if (!input.equals(e.file())) {
                throw new AssertionError("the error names " + e.file() + " instead of the file read, " + input, e);
            }
            return Optional.empty();
        } catch (LacunaException e) {
            throw new AssertionError("a bad file must raise BadFileException (exit code 3), got "
                    + e.getClass().getName() + " (exit code " + e.exitCode() + ")", e);
        }
    }

    private void write(byte[] bytes) {
        try {
            Files.write(input, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the fuzz input to " + input, e);
        }
    }

    /** In memory where the system offers it ({@code /dev/shm}): fuzzing writes one file per execution. */
    private static Path createFolder() {
        Path shm = Path.of("/dev/shm");
        try {
            Path folder = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "lacuna-fuzz")
                    : Files.createTempDirectory("lacuna-fuzz");
            folder.toFile().deleteOnExit();
            return folder;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder for fuzz inputs", e);
        }
    }

    /** What every accepted model file must satisfy: the tensors and vocabulary its architecture declares. */
    static void matchesItsArchitecture(Model model) {
        if (model.architecture().tensors().size() != model.tensors().size()
                || model.architecture().vocabSize() != model.vocabulary().size()) {
            throw new AssertionError("an accepted model does not match its architecture " + model.architecture()
                    + ": " + model.tensors().size() + " tensors, " + model.vocabulary().size() + " symbols");
        }
    }
}
