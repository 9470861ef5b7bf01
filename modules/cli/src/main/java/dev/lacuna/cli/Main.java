package dev.lacuna.cli;

import dev.lacuna.core.LacunaException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ExecutionException;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Entry point of the runnable jar. Every failure becomes one line on stderr, {@code lacuna: <message>}, and an exit
 * code: the {@link LacunaException#exitCode()} of a typed error (2 bad option, 3 bad file), 2 for a command-line
 * usage error, 1 for anything unexpected. {@code --verbose} adds the stack trace.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    /** The fully configured command line, so that tests run exactly what the jar runs (with their own streams). */
    public static CommandLine newCommandLine() {
        return withErrorHandling(new CommandLine(new LacunaCommand()));
    }

    /** Installs the one-line error reporting on {@code commandLine}. */
    static CommandLine withErrorHandling(CommandLine commandLine) {
        commandLine.setExecutionStrategy(Main::runWithoutEngineCrash);
        commandLine.setExecutionExceptionHandler(Main::onExecutionError);
        commandLine.setParameterExceptionHandler(Main::onUsageError);
        return commandLine;
    }

    /**
     * Runs the chosen command. In lacuna-lite.jar a command that reaches for ND4J meets a {@link NoClassDefFoundError},
     * an {@link Error} picocli would let escape as a stack trace; it becomes the usual one-line error instead.
     */
    private static int runWithoutEngineCrash(ParseResult parsed) {
        try {
            return new CommandLine.RunLast().execute(parsed);
        } catch (NoClassDefFoundError e) {
            // only when ND4J is absent: in lacuna.jar the same error means its natives failed to load
            if (TrainingEngine.present() || !TrainingEngine.isMissing(e)) {
                throw e;
            }
            List<CommandLine> chain = parsed.asCommandLineList();
            CommandLine failed = chain.get(chain.size() - 1);
            throw new ExecutionException(failed, "training engine missing",
                    TrainingEngine.missing(failed.getCommandSpec().qualifiedName(), e));
        }
    }

    private static int onUsageError(ParameterException ex, String[] args) {
        CommandLine failed = ex.getCommandLine();
        PrintWriter err = failed.getErr();
        err.println("lacuna: " + oneLine(ex.getMessage()) + " (see '" + failed.getCommandSpec().qualifiedName()
                + " --help')");
        if (isVerbose(failed.getParseResult())) {
            ex.printStackTrace(err);
        }
        err.flush();
        return 2;
    }

    private static int onExecutionError(Exception ex, CommandLine failed, ParseResult parsed) {
        PrintWriter err = failed.getErr();
        int code;
        if (ex instanceof LacunaException lacuna) {
            err.println("lacuna: " + oneLine(lacuna.getMessage()));
            code = lacuna.exitCode();
        } else {
            String message = ex.getMessage() == null ? "" : ": " + oneLine(ex.getMessage());
            err.println("lacuna: unexpected error " + ex.getClass().getSimpleName() + message
                    + (isVerbose(parsed) ? "" : " (run with --verbose for details)"));
            code = 1;
        }
        if (isVerbose(parsed)) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** {@code --verbose} is inherited by every subcommand, so look for it at every level of the parse. */
    private static boolean isVerbose(ParseResult parsed) {
        for (ParseResult level = parsed; level != null; level = level.subcommand()) {
            if (level.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
