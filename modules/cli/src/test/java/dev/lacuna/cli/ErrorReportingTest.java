package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** How failures reach the user: one line, a stable exit code, a stack trace only on request. */
class ErrorReportingTest {

    @Command(name = "failing")
    static final class Failing implements Callable<Integer> {
        @Option(names = "--kind")
        String kind = "unexpected";

        @Option(names = "--verbose")
        boolean verbose;

        @Override
        public Integer call() {
            if (kind.equals("file")) {
                throw new BadFileException(Path.of("x.safetensors"), "truncated\nat byte 12");
            }
            throw new IllegalStateException("boom\nsecond line");
        }
    }

    private static CliRun run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.withErrorHandling(new CommandLine(new Failing()));
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return new CliRun(commandLine.execute(args), out.toString(), err.toString());
    }

    @Test
    void unexpectedExceptionExitsOneWithOneLine() {
        CliRun r = run();
        assertEquals(1, r.exitCode());
        assertEquals(1, r.errLines().length, r::toString);
        assertEquals("lacuna: unexpected error IllegalStateException: boom second line (run with --verbose for"
                + " details)", r.errLines()[0]);
    }

    @Test
    void typedExceptionUsesItsExitCodeAndFlattensTheMessage() {
        CliRun r = run("--kind", "file");
        assertEquals(3, r.exitCode());
        assertEquals(1, r.errLines().length, r::toString);
        assertEquals("lacuna: x.safetensors: truncated at byte 12", r.errLines()[0]);
    }

    @Test
    void verbosePrintsTheStackTrace() {
        CliRun r = run("--verbose");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("at dev.lacuna.cli.ErrorReportingTest$Failing.call"), r::toString);
    }

    @Test
    void everyHelpPageRendersWithoutPicocliWarnings() {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            for (String command : new String[] {"train", "prune", "eval", "inspect", "demo"}) {
                CliRun help = CliRun.of(command, "--help");
                assertEquals(0, help.exitCode(), help::toString);
                assertTrue(help.out().startsWith("Usage: lacuna " + command), help::toString);
            }
            CliRun top = CliRun.of("--help");
            assertTrue(top.out().contains("demo"), top::toString);
        } finally {
            System.setErr(original);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8), "picocli printed warnings");
    }

    @Test
    void noSubcommandPrintsUsageAndExitsTwo() {
        CliRun r = CliRun.of();
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("Usage: lacuna"), r::toString);
    }

    @Test
    void demoTableAlignsColumns() {
        String table = DemoCommand.table(java.util.List.of(
                new String[] {"dense", "10", "10", "0.0%", "-", "1.2345", "30", "7"},
                new String[] {"gradual 90%", "10", "1", "90.0%", "90.0%", "1.3000", "40", "3"}));
        String[] lines = table.split("\\R");
        assertEquals(3, lines.length);
        assertEquals(lines[0].length(), lines[1].length());
        assertEquals(lines[0].length(), lines[2].length());
        assertTrue(lines[0].startsWith("model      "), table);
        assertTrue(lines[2].startsWith("gradual 90%"), table);
    }
}
