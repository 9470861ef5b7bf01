package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.prune.GradualPruningPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer driving the real N17 policy (dev.lacuna.core.prune) end to end on a tiny LSTM. */
class GradualPruningTrainingTest {
    @TempDir
    Path dir;

    @Test
    void prunesGraduallyToTheTargetWhileStillLearning() throws IOException {
        CharCorpus corpus = CharCorpus.load(TestTexts.write(dir, "s.txt", TestTexts.sentences(6000, 9)), null);
        Architecture arch = new Architecture(CellType.LSTM, corpus.vocabulary().size(), 8, 32, 1, false,
                RnnActivation.TANH, true);
        Model model = Model.initialize(arch, corpus.vocabulary(), 11);
        TrainConfig config = TrainConfig.builder().batch(8).seq(24).lr(1e-2).steps(160).seed(1).build();
        int stepsPerEpoch = Trainer.stepsPerEpoch(corpus, config, false);
        long total = config.totalSteps(stepsPerEpoch);
        double before = Evaluator.bpc(model, corpus.validation(), 8, 24);

        GradualPruningPolicy gradual = GradualPruningPolicy.builder(model, total, stepsPerEpoch).targetSparsity(0.6).build();
        List<Long> refreshed = new ArrayList<>();
        PruningPolicy recording = new PruningPolicy() {
            @Override
            public String method() {
                return gradual.method();
            }

            @Override
            public boolean refreshesAt(long step) {
                return gradual.refreshesAt(step);
            }

            @Override
            public void refresh(long step, Model m) {
                refreshed.add(step);
                gradual.refresh(step, m);
            }

            @Override
            public Map<String, Object> hyperparameters() {
                return gradual.hyperparameters();
            }
        };
        TrainResult result = new Trainer(model, corpus, config, recording, null).run();

        assertEquals(LongStream.range(0, total).filter(gradual::refreshesAt).boxed().toList(), refreshed);
        double sparsity = model.sparsity(false).sparsity();
        // The target holds for the dense weights; the weights move while training, so allow some slack.
        assertTrue(sparsity > 0.4 && sparsity < 0.8, "sparsity " + sparsity);
        for (TensorSpec spec : model.prunable(false)) {
            boolean[] keep = model.mask(spec.name());
            float[] w = model.tensor(spec.name()).data();
            for (int i = 0; i < w.length; i++) {
                assertTrue(keep[i] || w[i] == 0f, spec.name() + "[" + i + "] is pruned but " + w[i]);
            }
        }
        // Sparsity never falls (sticky masks) and is flat after the last refresh.
        List<TrainResult.Point> history = result.history();
        for (int i = 1; i < history.size(); i++) {
            assertTrue(history.get(i).sparsity() >= history.get(i - 1).sparsity());
        }
        assertTrue(result.bpcVal() < 0.75 * before, "held-out bpc " + before + " -> " + result.bpcVal());
    }
}
