package dev.lacuna.io.format;

/**
 * How a tensor payload says which elements are stored (format.md §6.1). Positions are ascending element indices;
 * {@code null} stands for "every element", so that a dense tensor never needs an index array.
 */
sealed interface PositionLayout permits AllPositions, BitmapPositions, RelativeIndices {
    /** The layout id of the directory entry. */
    int id();

    /** Short name for reports: {@code all}, {@code bitmap}, {@code relative}. */
    String label();

    Encoded encode(int[] positions, int elementCount);

    /** Reads a block; returns null for "every element". */
    Decoded decode(Cursor in, int elementCount);

    /**
     * An encoded position block.
     *
     * @param stream  statistics of the index stream, or null when the layout has none
     * @param fillers filler symbols spent on gaps too wide for the index width
     */
    record Encoded(byte[] bytes, StreamStats stream, long fillers) {
    }

    /** A decoded position block: the stored positions (null = all), their count, and statistics as above. */
    record Decoded(int[] positions, int storedCount, StreamStats stream, long fillers) {
    }

    /** The layout with id {@code id}, or null when this reader does not know it. */
    static PositionLayout forId(int id) {
        return switch (id) {
            case AllPositions.ID -> AllPositions.INSTANCE;
            case BitmapPositions.ID -> BitmapPositions.INSTANCE;
            case RelativeIndices.ID -> RelativeIndices.reader();
            default -> null;
        };
    }
}
