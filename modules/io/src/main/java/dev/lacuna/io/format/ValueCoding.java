package dev.lacuna.io.format;

/**
 * How a tensor payload stores the values of its stored elements (format.md §6.2), in ascending element order.
 */
sealed interface ValueCoding permits F32Values, F16Values, CodebookValues, F16Planes {
    /** The value coding id of the directory entry. */
    int id();

    /** Short name for reports: {@code f32}, {@code f16}, {@code f16planes}, {@code codebook5}, ... */
    String label();

    /**
     * The minor version of format 1 that introduced this coding (format.md §8): a file that uses it is stamped with
     * that version or a later one, and a reader of an older minor version does not know it.
     */
    default int minorVersion() {
        return 0;
    }

    /**
     * Encodes the values of the stored elements.
     *
     * @param values       one value per stored element
     * @param positions    their element indices, ascending, or null for every element
     * @param elementCount elements of the whole tensor
     */
    Encoded encode(float[] values, int[] positions, int elementCount);

    Decoded decode(Cursor in, int[] positions, int storedCount, int elementCount);

    /**
     * An encoded value block.
     *
     * @param decoded what a reader will get back, computed by the encoder's own arithmetic (not by decoding
     *                {@code bytes}), so tests can hold the reader to it
     * @param stream  statistics of the code stream, or null when there is none
     */
    record Encoded(byte[] bytes, float[] decoded, StreamStats stream) {
    }

    /** A decoded value block. */
    record Decoded(float[] values, StreamStats stream, String label) {
    }

    /** The coding with id {@code id}, or null when this reader does not know it. */
    static ValueCoding forId(int id) {
        return forId(id, LacunaFile.MINOR);
    }

    /**
     * The coding with id {@code id} as a reader of format 1.{@code readerMinor} knows it: null for an unknown id or
     * one introduced after that version (so tests can hold this reader to what an older one does).
     */
    static ValueCoding forId(int id, int readerMinor) {
        ValueCoding coding = switch (id) {
            case F32Values.ID -> F32Values.INSTANCE;
            case F16Values.ID -> F16Values.INSTANCE;
            case CodebookValues.ID -> CodebookValues.reader();
            case F16Planes.ID -> F16Planes.INSTANCE;
            default -> null;
        };
        return coding == null || coding.minorVersion() > readerMinor ? null : coding;
    }
}
