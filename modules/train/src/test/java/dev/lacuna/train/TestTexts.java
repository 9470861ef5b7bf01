package dev.lacuna.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Small, learnable texts the tests write themselves: sentences drawn with a seed from a small fixed set. */
final class TestTexts {
    private static final String[] WORDS = {"the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "red", "box"};

    private TestTexts() {
    }

    /** About {@code length} characters of sentences from a set of twelve, chosen in a seeded random order. */
    static String sentences(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        String[] set = new String[12];
        for (int s = 0; s < set.length; s++) {
            StringBuilder sentence = new StringBuilder();
            int words = 3 + random.nextInt(4);
            for (int w = 0; w < words; w++) {
                sentence.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
            }
            set[s] = sentence.append(". ").toString();
        }
        StringBuilder text = new StringBuilder();
        while (text.length() < length) {
            text.append(set[random.nextInt(set.length)]);
        }
        return text.toString();
    }

    static Path write(Path dir, String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }
}
