package dev.lacuna.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The {@code lacuna} command: only dispatches to its subcommands. */
@Command(name = "lacuna", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT,
        versionProvider = Version.class, sortOptions = false, usageHelpAutoWidth = true,
        description = "Compress character-level RNN, GRU and LSTM models by gradual pruning during training"
                + " (Narang et al. 2017).",
        subcommands = {TrainCommand.class, PruneCommand.class, EvalCommand.class, InspectCommand.class,
                CompressCommand.class, ConvertCommand.class, VerifyCommand.class, RunCommand.class, BenchCommand.class,
                CompareCommand.class, PlanCommand.class, SensitivityCommand.class, DemoCommand.class})
final class LacunaCommand implements Callable<Integer> {

    // Read by Main's error handlers from the parse result; declared here so every subcommand accepts it.
    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }
}
