package dev.lacuna.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.train.CharCorpus;
import java.util.Arrays;
import java.util.Optional;

/**
 * Fuzzes {@link CharCorpus#load}, the text dataset loader, both ways it is used: building a vocabulary from the text
 * (training) and encoding with a model's vocabulary (evaluation, fine-tuning).
 */
class CharCorpusFuzzTest {
    private final ReaderContract contract = new ReaderContract("input.txt");

    @FuzzTest
    void load(byte[] bytes) {
        contract.read(bytes, file -> CharCorpus.load(file, null)).ifPresent(this::checkAgainstSmallerVocabulary);
    }

    /**
     * Every id of an accepted corpus lies in its vocabulary, and encoding the same text with a vocabulary that lacks
     * one of its characters must be refused (as a bad file naming the character), never silently remapped.
     */
    private void checkAgainstSmallerVocabulary(CharCorpus corpus) {
        int size = corpus.vocabulary().size();
        assertTrue(Arrays.stream(corpus.train()).allMatch(id -> id >= 0 && id < size));
        assertTrue(Arrays.stream(corpus.validation()).allMatch(id -> id >= 0 && id < size));
        if (size < 2) {
            return;
        }
        int[] codePoints = corpus.vocabulary().codePoints();
        Vocabulary lacking = new Vocabulary(Arrays.copyOfRange(codePoints, 1, codePoints.length));
        assertEquals(Optional.empty(), contract.readAgain(file -> CharCorpus.load(file, lacking)),
                "a character outside the given vocabulary was accepted");
    }
}
