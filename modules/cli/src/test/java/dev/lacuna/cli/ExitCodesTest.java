package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The documented exit codes (docs/reliability.md, issue #8 item 6), each checked through {@link Main} with real
 * commands and, for the mapping itself, with a command that throws each error type:
 *
 * <table>
 *   <tr><th>code</th><th>meaning</th></tr>
 *   <tr><td>0</td><td>success</td></tr>
 *   <tr><td>1</td><td>any other Lacuna error (e.g. training diverged) or an unexpected internal error</td></tr>
 *   <tr><td>2</td><td>usage error: unknown or missing option or subcommand, malformed or invalid value</td></tr>
 *   <tr><td>3</td><td>bad input file: missing, unreadable or malformed</td></tr>
 * </table>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExitCodesTest {
    static final int SUCCESS = 0;
    static final int FAILURE = 1;
    static final int USAGE = 2;
    static final int BAD_FILE = 3;

    private Path dir;
    private Path text;
    private Path model;

    @BeforeAll
    void setUp(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        text = TinyText.write(dir, 60);
        Vocabulary vocabulary = Vocabulary.of(Files.readString(text));
        model = dir.resolve("model.safetensors");
        ModelCheckpoint.save(Model.initialize(Architecture.of(CellType.RNN, vocabulary.size(), 4, 8, 1),
                vocabulary, 1), model);
    }

    @Test
    void successIsZero() {
        assertCode(SUCCESS, "inspect", model.toString());
        assertCode(SUCCESS, "--help");
        assertCode(SUCCESS, "--version");
        assertCode(SUCCESS, "eval", "--help");
    }

    @Test
    void usageErrorsAreTwo() {
        assertCode(USAGE);                                                   // no subcommand: usage is printed
        assertCode(USAGE, "compress-everything");                            // unknown subcommand
        assertCode(USAGE, "inspect", model.toString(), "--no-such-option");  // unknown option
        assertCode(USAGE, "eval", "--model", model.toString());              // missing required option
        assertCode(USAGE, "train", "--data", text.toString(), "--cell", "rnn", "--layers", "one",
                "--hidden", "8", "--steps", "1", "--out", dir.resolve("x.safetensors").toString()); // not a number
    }

    @Test
    void invalidOptionValuesAreTwo() {
        assertCode(USAGE, train("--cell", "transformer"));
        assertCode(USAGE, train("--cell", "rnn", "--lr", "-1"));
        assertCode(USAGE, "eval", "--model", model.toString(), "--data", text.toString(), "--split", "most");
    }

    @Test
    void badFilesAreThree() throws Exception {
        assertCode(BAD_FILE, "inspect", dir.resolve("missing.safetensors").toString());
        Path corrupt = Files.write(dir.resolve("corrupt.safetensors"), new byte[] {1, 2, 3});
        assertCode(BAD_FILE, "inspect", corrupt.toString());
        Path binary = Files.write(dir.resolve("binary.txt"), new byte[] {(byte) 0xC3, (byte) 0x28, 0, 0});
        assertCode(BAD_FILE, "eval", "--model", model.toString(), "--data", binary.toString());
    }

    @Test
    void otherLacunaErrorsAreOne() {
        // A learning rate beyond the float range turns the weights infinite after one step: the Trainer stops with a plain
        // LacunaException ("training diverged"), neither an option nor a file problem.
        CliRun run = assertCode(FAILURE, train("--cell", "rnn", "--optimizer", "sgd", "--lr", "1e39",
                "--clip", "1e30", "--batch", "2", "--seq", "4"));
        assertTrue(run.err().contains("diverged"), run::toString);
    }

    /** The mapping itself, for every error type including one no command throws today. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"none, 0", "lacuna, 1", "option, 2", "file, 3", "unexpected, 1", "custom, 7"})
    void eachErrorTypeMapsToItsExitCode(String kind, int expected) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.withErrorHandling(new CommandLine(new Throwing()));
        commandLine.setOut(new PrintWriter(new StringWriter(), true));
        commandLine.setErr(new PrintWriter(err, true));
        assertEquals(expected, commandLine.execute("--throw", kind), err::toString);
        if (expected != 0) {
            assertTrue(err.toString().startsWith("lacuna: "), err::toString);
        }
    }

    @Command(name = "throwing")
    static final class Throwing implements Callable<Integer> {
        @Option(names = "--throw")
        String kind;

        @Override
        public Integer call() {
            switch (kind) {
                case "lacuna" -> throw new LacunaException("plain");
                case "option" -> throw new InvalidOptionException("--x", "out of range");
                case "file" -> throw new BadFileException(Path.of("f.bin"), "truncated");
                case "unexpected" -> throw new IllegalStateException("bug");
                case "custom" -> throw new LacunaException("with its own code") {
                    private static final long serialVersionUID = 1L;

                    @Override
                    public int exitCode() {
                        return 7;
                    }
                };
                default -> {
                    return 0;
                }
            }
        }
    }

    private String[] train(String... extra) {
        String[] base = {"train", "--data", text.toString(), "--layers", "1", "--hidden", "8", "--embed", "4",
            "--steps", "3", "--out", dir.resolve("trained.safetensors").toString()};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    private static CliRun assertCode(int expected, String... args) {
        CliRun run = CliRun.of(args);
        assertEquals(expected, run.exitCode(), run::toString);
        if (expected != SUCCESS) {
            // The error is the last line on stderr (progress lines may come before it), or the usage page.
            String[] lines = run.errLines();
            assertTrue(lines.length > 0, run::toString);
            assertTrue(lines[lines.length - 1].startsWith("lacuna: ") || lines[0].startsWith("Usage: lacuna"),
                    run::toString);
        }
        return run;
    }
}
