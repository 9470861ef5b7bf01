package dev.lacuna.pipeline;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** A small learnable text and a briefly trained dense model on it. */
final class Tiny {
    private static final String[] SUBJECTS = {"the whale", "a sailor", "the captain", "old ahab", "the sea"};
    private static final String[] VERBS = {"sees", "hunts", "fears", "follows", "calls"};
    private static final String[] OBJECTS = {"the ship.", "a storm.", "the harpoon.", "his crew.", "the moon."};

    private Tiny() {
    }

    static Path text(Path dir, int sentences) throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            text.append(SUBJECTS[random.nextInt(SUBJECTS.length)]).append(' ')
                    .append(VERBS[random.nextInt(VERBS.length)]).append(' ')
                    .append(OBJECTS[random.nextInt(OBJECTS.length)]).append(i % 4 == 3 ? '\n' : ' ');
        }
        Path file = dir.resolve("tiny.txt");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    static TrainConfig.Builder config(long steps) {
        return TrainConfig.builder().steps(steps).batch(4).seq(16).lr(1e-2).seed(1);
    }

    /** A GRU (embedding 4, hidden 16, one layer) trained for 60 steps. */
    static Model trainedGru(Path text) {
        Vocabulary vocabulary = Vocabulary.of(readQuietly(text));
        Model model = Model.initialize(Architecture.of(CellType.GRU, vocabulary.size(), 4, 16, 1), vocabulary, 3);
        new Trainer(model, CharCorpus.load(text, vocabulary), config(60).build(), null, null).run();
        return model;
    }

    private static String readQuietly(Path text) {
        try {
            return Files.readString(text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
