package dev.lacuna.cli;

import dev.lacuna.core.Model;
import dev.lacuna.runtime.LatencyBenchmark;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;

/** The trainer's ND4J network stepped one token at a time (batch 1, one time step per call): the dense baseline. */
final class Nd4jStepper implements LatencyBenchmark.Stepper {
    private final CharRnnNetwork network;
    private final RnnState state;
    private final int[][] input = new int[1][1];
    /** Negative targets: the loss is skipped, only the logits are computed. */
    private final int[][] noTarget = {{-1}};

    Nd4jStepper(Model model) {
        ParameterStore store = new ParameterStore(model);
        store.applyMask();
        this.network = new CharRnnNetwork(model.architecture(), store);
        this.state = network.zeroState(1);
    }

    @Override
    public void reset() {
        state.reset();
    }

    @Override
    public void step(int token) {
        input[0][0] = token;
        network.forward(input, noTarget, state, false);
    }
}
