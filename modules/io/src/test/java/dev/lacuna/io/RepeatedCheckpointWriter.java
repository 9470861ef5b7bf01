package dev.lacuna.io;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import java.nio.file.Path;

/**
 * The child process of {@link KillDuringWriteTest}: saves ever newer checkpoint versions over one target until it
 * is killed. It prints {@code ready} once it starts writing and {@code wrote <version> <milliseconds>} after each
 * {@link ModelCheckpoint#save} returns, so the parent knows the newest version the target must at least hold.
 */
public final class RepeatedCheckpointWriter {
    /** Weight sets the versions cycle through (the version number in the metadata never repeats). */
    static final int WEIGHT_SETS = 3;

    private RepeatedCheckpointWriter() {
    }

    /** Arguments: the target file and the first version to write. */
    public static void main(String[] args) {
        Path target = Path.of(args[0]);
        long first = Long.parseLong(args[1]);
        Model[] weightSets = new Model[WEIGHT_SETS];
        for (int w = 0; w < WEIGHT_SETS; w++) {
            weightSets[w] = version(w);
        }
        System.out.println("ready");
        System.out.flush();
        for (long v = first; ; v++) {
            Model model = weightSets[(int) (v % WEIGHT_SETS)];
            model.metadata().put("version", Long.toString(v));
            long start = System.nanoTime();
            ModelCheckpoint.save(model, target);
            System.out.println("wrote " + v + " " + (System.nanoTime() - start) / 1_000_000);
            System.out.flush();
        }
    }

    /**
     * Version {@code v}: a 2-layer LSTM-256 of about 3.6 MB with the weights of set {@code v mod 3} and its version
     * number in the metadata. Set 1 also carries masks, so consecutive versions differ in length as well as in
     * content and a file cut at any point is distinguishable from all of them.
     */
    static Model version(long v) {
        Vocabulary vocabulary = Vocabulary.of("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?'\"-\n");
        int weightSet = (int) (v % WEIGHT_SETS);
        Model model = Model.initialize(Architecture.of(CellType.LSTM, vocabulary.size(), 32, 256, 2), vocabulary,
                weightSet);
        if (weightSet == 1) {
            boolean[] keep = new boolean[4 * 256 * 256];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = i % 3 != 0;
            }
            model.setMask("rnn.weight_hh_l0", keep);
        }
        model.metadata().put("version", Long.toString(v));
        return model;
    }
}
