package dev.lacuna.train;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Vocabulary;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A UTF-8 text file as character ids, split into a training and a held-out part.
 *
 * <p>The split is deterministic and positional: the first 90% of the code points train, the last 10% validate.
 * Text is usually ordered (chapters, articles), so a positional split keeps held-out text unseen; a random
 * split of characters would leak every context into training.
 *
 * <p>Vocabulary policy: without a given vocabulary, it is every distinct code point of the whole file (both
 * parts), so the validation part never holds an unknown symbol. With a given vocabulary (a model's, when training
 * continues or a model is evaluated on new text) a code point outside it is an error naming the character and its
 * line and column: silently dropping or replacing characters would change the text the reported bits per
 * character are measured on. A leading byte-order mark is not text and is skipped.
 */
public final class CharCorpus {
    /**
     * Files above this size are refused: the text is held in memory several times over as 4-byte code points and
     * ids (about 1.7 GB at this limit, within the launcher's 4 GB heap), and a character model on a CPU would not
     * get through more text in any useful time anyway.
     */
    public static final long MAX_BYTES = 1L << 27;

    /**
     * Smallest usable text: the validation tenth must hold at least two code points, one to read and one to
     * predict. Whether the training part fills one batch is checked where the batch shape is known.
     */
    static final int MIN_CODE_POINTS = 20;

    private static final int BYTE_ORDER_MARK = 0xFEFF;

    private final Path source;
    private final Vocabulary vocabulary;
    private final int[] train;
    private final int[] validation;

    private CharCorpus(Path source, Vocabulary vocabulary, int[] train, int[] validation) {
        this.source = source;
        this.vocabulary = vocabulary;
        this.train = train;
        this.validation = validation;
    }

    /**
     * Reads and encodes a text file.
     *
     * @param file        a UTF-8 text file
     * @param vocabOrNull the vocabulary to encode with (a model's), or null to build one from the whole file
     * @throws BadFileException when the file is missing, unreadable, a directory, larger than {@link #MAX_BYTES},
     *                          not valid UTF-8 (naming the byte offset), too short, or holds a character outside the
     *                          given vocabulary (naming U+XXXX and line:column)
     */
    public static CharCorpus load(Path file, Vocabulary vocabOrNull) {
        int[] codePoints = decode(file, readBytes(file));
        if (codePoints.length < MIN_CODE_POINTS) {
            throw new BadFileException(file, "too short: " + codePoints.length + " characters, at least "
                    + MIN_CODE_POINTS + " are needed (90% train, 10% validation)");
        }
        Vocabulary vocabulary = vocabOrNull != null ? vocabOrNull : distinct(codePoints);
        int[] ids = encode(file, codePoints, vocabulary);
        int trainLength = (int) ((long) ids.length * 9 / 10);
        int[] train = Arrays.copyOfRange(ids, 0, trainLength);
        int[] validation = Arrays.copyOfRange(ids, trainLength, ids.length);
        return new CharCorpus(file, vocabulary, train, validation);
    }

    /** The file the text came from, for error messages that concern its length or content. */
    public Path source() {
        return source;
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** Class ids of the first 90% of the text (a copy). */
    public int[] train() {
        return train.clone();
    }

    /** Class ids of the last 10% of the text (a copy). */
    public int[] validation() {
        return validation.clone();
    }

    /** Number of training ids, without copying them. */
    public int trainLength() {
        return train.length;
    }

    private static byte[] readBytes(Path file) {
        if (!Files.exists(file)) {
            throw new BadFileException(file, "no such file");
        }
        if (Files.isDirectory(file)) {
            throw new BadFileException(file, "is a directory, expected a UTF-8 text file");
        }
        if (!Files.isReadable(file)) {
            throw new BadFileException(file, "not readable (check its permissions)");
        }
        try {
            long size = Files.size(file);
            if (size == 0) {
                throw new BadFileException(file, "is empty, expected UTF-8 text");
            }
            if (size > MAX_BYTES) {
                throw new BadFileException(file, "is " + size + " bytes; text corpora above " + MAX_BYTES
                        + " bytes (128 MiB) are not supported");
            }
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length > MAX_BYTES) { // grew after the size check
                throw new BadFileException(file, "grew beyond 1 GiB while being read");
            }
            return bytes;
        } catch (IOException e) {
            throw new BadFileException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** Strict decoding: the first malformed or unmappable sequence is reported with its byte offset. */
    private static int[] decode(Path file, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        // UTF-8 never yields more UTF-16 units than bytes, so one pass fills this buffer without overflow.
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new BadFileException(file, "not valid UTF-8: " + (result.isMalformed() ? "malformed" : "unmappable")
                    + " sequence of " + result.length() + " byte(s) at byte offset " + in.position());
        }
        out.flip();
        int[] codePoints = out.codePoints().toArray();
        if (codePoints.length > 0 && codePoints[0] == BYTE_ORDER_MARK) {
            codePoints = Arrays.copyOfRange(codePoints, 1, codePoints.length);
        }
        return codePoints;
    }

    private static Vocabulary distinct(int[] codePoints) {
        return new Vocabulary(Arrays.stream(codePoints).distinct().toArray());
    }

    private static int[] encode(Path file, int[] codePoints, Vocabulary vocabulary) {
        int[] ids = new int[codePoints.length];
        int line = 1;
        int column = 1;
        for (int i = 0; i < codePoints.length; i++) {
            int id = vocabulary.indexOf(codePoints[i]);
            if (id < 0) {
                throw new BadFileException(file, String.format(
                        "character U+%04X at line %d, column %d is not in the model's vocabulary of %d symbols",
                        codePoints[i], line, column, vocabulary.size()));
            }
            ids[i] = id;
            if (codePoints[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return ids;
    }
}
