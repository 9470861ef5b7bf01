package dev.lacuna.cli;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lacuna train}: trains a dense character model from scratch. */
@Command(name = "train", sortOptions = false, usageHelpAutoWidth = true,
        description = "Train a dense character-level model on a UTF-8 text (first 90%% train, last 10%% held out).")
final class TrainCommand implements Callable<Integer> {
    static final double DEFAULT_LR = 2e-3;

    @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 training text.")
    Path data;

    @Option(names = "--cell", required = true, paramLabel = "lstm|gru|rnn", description = "Recurrent cell.")
    String cell;

    @Option(names = "--layers", required = true, paramLabel = "N", description = "Stacked recurrent layers.")
    int layers;

    @Option(names = "--hidden", required = true, paramLabel = "H", description = "Hidden units per layer.")
    int hidden;

    @Option(names = "--embed", paramLabel = "E", defaultValue = "64",
            description = "Embedding width, 0 for one-hot input (default ${DEFAULT-VALUE}).")
    int embed;

    @Option(names = "--bidirectional", description = "Bidirectional layer (cloze objective; one layer only).")
    boolean bidirectional;

    @Option(names = "--activation", paramLabel = "tanh|relu", description = "RNN cell nonlinearity (default tanh).")
    String activation;

    @Option(names = "--linear-before-reset", paramLabel = "true|false", arity = "1", defaultValue = "true",
            description = "GRU: reset gate after the recurrent product, as PyTorch and cuDNN (default"
                    + " ${DEFAULT-VALUE}).")
    boolean linearBeforeReset;

    @Option(names = "--steps", required = true, paramLabel = "S", description = "Training steps.")
    long steps;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Random seed (default"
            + " ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "MODEL", description = "Checkpoint to write"
            + " (.safetensors).")
    Path out;

    @Mixin
    TrainingOptions training;

    @Mixin
    ResumeOptions resumption;

    @Mixin
    ResultOptions results;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CellType cellType = CellType.parse("--cell", cell);
        RnnActivation act = activation == null ? RnnActivation.TANH : RnnActivation.parse("--activation", activation);
        if (activation != null && cellType != CellType.RNN) {
            throw new InvalidOptionException("--activation", "applies to --cell rnn only (GRU and LSTM gates have"
                    + " fixed nonlinearities)");
        }
        ResultOptions.checkTarget("--out", out);
        results.checkTargets();
        TrainConfig config = training.toConfig(steps, seed, DEFAULT_LR);
        resumption.validate();

        CharCorpus corpus = CharCorpus.load(data, null);
        Architecture arch = new Architecture(cellType, corpus.vocabulary().size(), embed, hidden, layers,
                bidirectional, act, linearBeforeReset);
        Model model = Model.initialize(arch, corpus.vocabulary(), seed);
        TrainingJob job = new TrainingJob(model, data, corpus, config, null, null, false, null);
        training.applyThreads();
        PrintWriter err = spec.commandLine().getErr();
        TrainingJob.Outcome outcome = job.run(ProgressListener.create("train", err), resumption, out, err);
        results.publish(outcome, out, spec.commandLine().getOut());
        TrainingJob.discardCheckpoint(resumption, out, err);
        return 0;
    }
}
