package dev.lacuna.io;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import java.nio.file.Path;

/**
 * The child process of {@link KillDuringWriteTest}: saves checkpoint versions over one target, round and round,
 * until it is killed. It prints {@code ready} once it starts writing and {@code wrote <version> <milliseconds>} after
 * each {@link ModelCheckpoint#save} returns, so the parent knows which versions the target may hold when the kill lands.
 */
public final class RepeatedCheckpointWriter {
    /** Distinct checkpoint contents the loop cycles through. */
    static final int VERSIONS = 3;

    private RepeatedCheckpointWriter() {
    }

    /** Arguments: the target file and the first version to write. */
    public static void main(String[] args) {
        Path target = Path.of(args[0]);
        int first = Integer.parseInt(args[1]);
        Model[] versions = new Model[VERSIONS];
        for (int v = 0; v < VERSIONS; v++) {
            versions[v] = version(v);
        }
        System.out.println("ready");
        System.out.flush();
        for (int v = first; ; v = (v + 1) % VERSIONS) {
            long start = System.nanoTime();
            ModelCheckpoint.save(versions[v], target);
            System.out.println("wrote " + v + " " + (System.nanoTime() - start) / 1_000_000);
            System.out.flush();
        }
    }

    /**
     * Version {@code v}: a 2-layer LSTM-256 of about 3.6 MB with its own weights. Version 1 also carries masks, so
     * versions differ in length as well as in content and a file cut at any point is distinguishable from all.
     */
    static Model version(int v) {
        Vocabulary vocabulary = Vocabulary.of("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?'\"-\n");
        Model model = Model.initialize(Architecture.of(CellType.LSTM, vocabulary.size(), 32, 256, 2), vocabulary, v);
        if (v == 1) {
            boolean[] keep = new boolean[4 * 256 * 256];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = i % 3 != 0;
            }
            model.setMask("rnn.weight_hh_l0", keep);
        }
        model.metadata().put("version", Integer.toString(v));
        return model;
    }
}
