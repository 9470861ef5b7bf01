package dev.lacuna.train;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CharCorpusTest {
    @TempDir
    Path dir;

    @Test
    void splitsNinetyTenByCodePointAndBuildsTheVocabularyFromTheWholeText() throws IOException {
        // 30 code points; the emoji is one code point (two UTF-16 units) and appears only in the validation part.
        String text = "abcabcabcabcabcabcabcabcabc" + "c\uD83D\uDE00a";
        Path file = TestTexts.write(dir, "t.txt", text);
        CharCorpus corpus = CharCorpus.load(file, null);

        assertEquals(Vocabulary.fromString("abc\uD83D\uDE00"), corpus.vocabulary());
        assertEquals(27, corpus.train().length);
        assertArrayEquals(new int[] {2, 3, 0}, corpus.validation());
        assertArrayEquals(new int[] {0, 1, 2}, java.util.Arrays.copyOf(corpus.train(), 3));
        assertEquals(file, corpus.source());
    }

    @Test
    void encodesWithAGivenVocabulary() throws IOException {
        Path file = TestTexts.write(dir, "t.txt", "ba".repeat(15));
        CharCorpus corpus = CharCorpus.load(file, Vocabulary.fromString("xab"));
        // The given vocabulary (sorted a, b, x) is kept as is, even with a symbol the text never uses.
        assertEquals(3, corpus.vocabulary().size());
        assertEquals(1, corpus.train()[0]);
        assertEquals(0, corpus.train()[1]);
    }

    @Test
    void skipsALeadingByteOrderMark() throws IOException {
        Path file = TestTexts.write(dir, "t.txt", "\uFEFF" + "ab".repeat(10));
        CharCorpus corpus = CharCorpus.load(file, null);
        assertEquals(Vocabulary.fromString("ab"), corpus.vocabulary());
        assertEquals(20, corpus.train().length + corpus.validation().length);
    }

    @Test
    void reportsTheByteOffsetOfMalformedUtf8() throws IOException {
        byte[] bytes = ("a\u00e9" + "x".repeat(30)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        bytes[10] = (byte) 0xFF; // é takes bytes 1-2, so offset 10 is an 'x'
        Path file = dir.resolve("bad.txt");
        Files.write(file, bytes);
        BadFileException e = assertThrows(BadFileException.class, () -> CharCorpus.load(file, null));
        assertTrue(e.getMessage().contains("byte offset 10"), e.getMessage());
        assertEquals(file, e.file());
    }

    @Test
    void rejectsATruncatedMultiByteSequenceAtTheEnd() throws IOException {
        byte[] text = "y".repeat(30).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(text, 31);
        bytes[30] = (byte) 0xE2; // first byte of a three-byte sequence, nothing after it
        Path file = dir.resolve("cut.txt");
        Files.write(file, bytes);
        BadFileException e = assertThrows(BadFileException.class, () -> CharCorpus.load(file, null));
        assertTrue(e.getMessage().contains("byte offset 30"), e.getMessage());
    }

    @Test
    void namesACharacterOutsideTheVocabularyWithLineAndColumn() throws IOException {
        Path file = TestTexts.write(dir, "t.txt", "abab\nab\nabZab" + "ab".repeat(10));
        BadFileException e = assertThrows(BadFileException.class,
                () -> CharCorpus.load(file, Vocabulary.fromString("ab\n")));
        assertTrue(e.getMessage().contains("U+005A"), e.getMessage());
        assertTrue(e.getMessage().contains("line 3, column 3"), e.getMessage());
    }

    @Test
    void rejectsMissingDirectoryEmptyAndShortFiles() throws IOException {
        Path missing = dir.resolve("nope.txt");
        assertTrue(assertThrows(BadFileException.class, () -> CharCorpus.load(missing, null))
                .getMessage().contains("no such file"));
        assertTrue(assertThrows(BadFileException.class, () -> CharCorpus.load(dir, null))
                .getMessage().contains("directory"));
        Path empty = TestTexts.write(dir, "empty.txt", "");
        assertTrue(assertThrows(BadFileException.class, () -> CharCorpus.load(empty, null))
                .getMessage().contains("empty"));
        Path shortFile = TestTexts.write(dir, "short.txt", "abc");
        assertTrue(assertThrows(BadFileException.class, () -> CharCorpus.load(shortFile, null))
                .getMessage().contains("too short"));
    }

    @Test
    void refusesFilesAboveTheSizeLimitWithoutReadingThem() throws IOException {
        Path huge = dir.resolve("huge.txt");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(CharCorpus.MAX_BYTES + 1); // sparse: takes no disk space
        }
        BadFileException e = assertThrows(BadFileException.class, () -> CharCorpus.load(huge, null));
        assertTrue(e.getMessage().contains("128 MiB"), e.getMessage());
    }
}
