package dev.lacuna.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** A small, learnable text: sentences drawn with a fixed seed from a tiny grammar. */
final class TinyText {
    private static final String[] SUBJECTS = {"the whale", "a sailor", "the captain", "old ahab", "the sea"};
    private static final String[] VERBS = {"sees", "hunts", "fears", "follows", "calls"};
    private static final String[] OBJECTS = {"the ship.", "a storm.", "the harpoon.", "his crew.", "the moon."};

    private TinyText() {
    }

    static Path write(Path dir, int sentences) throws IOException {
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
}
