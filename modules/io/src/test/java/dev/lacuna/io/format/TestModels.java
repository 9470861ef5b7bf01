package dev.lacuna.io.format;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import java.util.SplittableRandom;

/** Small deterministic models for the format's tests. */
final class TestModels {
    private TestModels() {
    }

    /** A model pruned to about {@code sparsity} on every weight matrix (embedding included), with metadata. */
    static Model pruned(CellType cell, int hidden, double sparsity, long seed) {
        Architecture arch = new Architecture(cell, 6, 3, hidden, 2, false, null, true);
        Model model = Model.initialize(arch, Vocabulary.of("abc de"), seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (TensorSpec spec : model.prunable(true)) {
            boolean[] keep = new boolean[(int) spec.elementCount()];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = random.nextDouble() >= sparsity;
            }
            model.setMask(spec.name(), keep);
        }
        model.applyMasks();
        model.metadata().put("lacuna.version", "0.1.0-test");
        model.metadata().put("lacuna.method", "gradual");
        model.metadata().put("lacuna.hyperparameters", "{\"target_sparsity\":0.9}");
        model.metadata().put("lacuna.bpc_val", "2.25");
        return model;
    }
}
