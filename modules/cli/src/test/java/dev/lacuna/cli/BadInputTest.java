package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad input ends with the documented exit code, one line on stderr naming the option or file, and
 * no output file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    Path dir;
    Path text;
    Path model;
    Path out;
    Path report;

    @BeforeAll
    void setUp(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        text = TinyText.write(dir, 200);
        Vocabulary vocabulary = Vocabulary.of(Files.readString(text));
        Model m = Model.initialize(Architecture.of(CellType.GRU, vocabulary.size(), 4, 8, 1), vocabulary, 1);
        model = dir.resolve("model.safetensors");
        ModelCheckpoint.save(m, model);
        out = dir.resolve("out.safetensors");
        report = dir.resolve("report.json");
    }

    /** Runs the command and checks the outcome, and that nothing was written beside the inputs. */
    private CliRun fails(int exitCode, String mustName, String... args) throws Exception {
        Set<Path> before = listing();
        CliRun run = CliRun.of(args);
        assertEquals(exitCode, run.exitCode(), run::toString);
        assertEquals("", run.out(), "nothing on stdout: " + run);
        String[] lines = run.errLines();
        assertEquals(1, lines.length, "exactly one line on stderr: " + run);
        assertTrue(lines[0].startsWith("lacuna: "), run::toString);
        assertTrue(lines[0].contains(mustName), "the message names " + mustName + ": " + run);
        assertEquals(before, listing(), "no output or temporary file left behind");
        return run;
    }

    private Set<Path> listing() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return Set.copyOf(files.toList());
        }
    }

    private String[] train(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", text.toString(), "--cell", "gru", "--layers",
                "1", "--hidden", "8", "--steps", "5", "--batch", "4", "--seq", "8", "--out", out.toString(),
                "--report-json", report.toString()));
        return override(a, extra);
    }

    private String[] prune(Path modelFile, Path data, String... extra) {
        List<String> a = new ArrayList<>(List.of("prune", "--model", modelFile.toString(), "--data", data.toString(),
                "--steps", "20", "--batch", "4", "--seq", "8", "--out", out.toString(),
                "--report-json", report.toString()));
        return override(a, extra);
    }

    /** Replaces the value of each option given in {@code extra} (option, value pairs or a lone flag), or adds it. */
    private static String[] override(List<String> args, String... extra) {
        for (int i = 0; i < extra.length; i++) {
            boolean hasValue = i + 1 < extra.length && !extra[i + 1].startsWith("--");
            int at = args.indexOf(extra[i]);
            if (at >= 0 && hasValue) {
                args.set(at + 1, extra[i + 1]);
            } else {
                args.add(extra[i]);
                if (hasValue) {
                    args.add(extra[i + 1]);
                }
            }
            if (hasValue) {
                i++;
            }
        }
        return args.toArray(String[]::new);
    }

    @Test
    void missingTextFile() throws Exception {
        Path missing = dir.resolve("nope.txt");
        fails(3, missing.toString(), train("--data", missing.toString()));
    }

    @Test
    void emptyText() throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.txt"));
        try {
            fails(3, empty.toString(), train("--data", empty.toString()));
        } finally {
            Files.delete(empty);
        }
    }

    @Test
    void textThatIsNotUtf8() throws Exception {
        Path latin1 = dir.resolve("latin1.txt");
        byte[] bytes = "caf\u00e9 au lait, caf\u00e9 noir, caf\u00e9 cr\u00e8me".getBytes("ISO-8859-1");
        Files.write(latin1, bytes);
        try {
            fails(3, latin1.toString(), train("--data", latin1.toString()));
        } finally {
            Files.delete(latin1);
        }
    }

    @Test
    void unknownCell() throws Exception {
        fails(2, "--cell", train("--cell", "transformer"));
    }

    @Test
    void activationOnAGatedCell() throws Exception {
        fails(2, "--activation", train("--activation", "relu"));
    }

    @Test
    void deepBidirectionalStack() throws Exception {
        fails(2, "--bidirectional", train("--bidirectional", "--layers", "2"));
    }

    @Test
    void nonPositiveSteps() throws Exception {
        fails(2, "--steps", train("--steps", "0"));
    }

    @Test
    void badOptimizer() throws Exception {
        fails(2, "--optimizer", train("--optimizer", "lbfgs"));
    }

    @Test
    void missingRequiredOptionIsAUsageError() throws Exception {
        fails(2, "--out", "train", "--data", text.toString(), "--cell", "gru", "--layers", "1", "--hidden", "8",
                "--steps", "5");
    }

    @Test
    void sparsityAboveOne() throws Exception {
        fails(2, "--target-sparsity", prune(model, text, "--target-sparsity", "1.5"));
    }

    @Test
    void sparsityZero() throws Exception {
        fails(2, "--target-sparsity", prune(model, text, "--target-sparsity", "0"));
    }

    @Test
    void qAndTargetTogether() throws Exception {
        fails(2, "--q", prune(model, text, "--target-sparsity", "0.5", "--q", "0.1"));
    }

    @Test
    void scheduleEndPastTheRun() throws Exception {
        fails(2, "--end", prune(model, text, "--end", "500"));
    }

    @Test
    void unknownMethodListsTheAvailableOnes() throws Exception {
        CliRun run = fails(2, "--method", prune(model, text, "--method", "lottery"));
        assertTrue(run.err().contains("gradual"), run::toString);
    }

    @Test
    void unknownQMode() throws Exception {
        fails(2, "--q-mode", prune(model, text, "--q-mode", "global"));
    }

    @Test
    void corruptSafetensors() throws Exception {
        Path corrupt = dir.resolve("corrupt.safetensors");
        Files.write(corrupt, new byte[] {(byte) 0xff, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        try {
            fails(3, corrupt.toString(), prune(corrupt, text));
            fails(3, corrupt.toString(), "inspect", corrupt.toString());
            fails(3, corrupt.toString(), "eval", "--model", corrupt.toString(), "--data", text.toString());
        } finally {
            Files.delete(corrupt);
        }
    }

    @Test
    void missingModel() throws Exception {
        Path missing = dir.resolve("missing.safetensors");
        fails(3, missing.toString(), "inspect", missing.toString());
    }

    @Test
    void textWithCharactersOutsideTheModelsVocabulary() throws Exception {
        Path other = dir.resolve("other.txt");
        Files.writeString(other, "ZZZZ QQQQ XXXX ".repeat(40));
        try {
            fails(3, other.toString(), "eval", "--model", model.toString(), "--data", other.toString());
        } finally {
            Files.delete(other);
        }
    }

    @Test
    void unknownSplit() throws Exception {
        fails(2, "--split", "eval", "--model", model.toString(), "--data", text.toString(), "--split", "test");
    }

    @Test
    void outputThatIsADirectory() throws Exception {
        fails(2, "--out", prune(model, text, "--out", dir.toString()));
    }

    @Test
    void verboseAddsTheStackTrace() throws Exception {
        CliRun run = CliRun.of(train("--cell", "transformer", "--verbose"));
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.errLines()[0].startsWith("lacuna: --cell"), run::toString);
        assertTrue(run.errLines().length > 1 && run.err().contains("InvalidOptionException"), run::toString);
        assertFalse(Files.exists(out));
    }
}
