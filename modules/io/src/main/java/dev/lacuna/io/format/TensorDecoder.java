package dev.lacuna.io.format;

import java.nio.file.Path;

/** Decodes one tensor payload whose CRC has been checked (format.md §6). */
final class TensorDecoder {
    private TensorDecoder() {
    }

    /** A decoded tensor: row-major values, the mask (or null) and the cost report. */
    record Decoded(float[] data, boolean[] mask, TensorReport report) {
    }

    static Decoded decode(Path file, LacunaFile.Entry entry, Cursor in) {
        return decode(file, entry, in, LacunaFile.MINOR);
    }

    /**
     * Decodes as a reader of format 1.{@code readerMinor} would: ids introduced after that version are unknown and
     * need a newer reader (format.md §8).
     */
    static Decoded decode(Path file, LacunaFile.Entry entry, Cursor in, int readerMinor) {
        if ((entry.flags() & ~LacunaFile.FLAG_MASKED) != 0) {
            throw needsNewerReader(in, entry, "flags " + entry.flags(), readerMinor);
        }
        PositionLayout layout = PositionLayout.forId(entry.layoutId());
        if (layout == null) {
            throw needsNewerReader(in, entry, "position layout id " + entry.layoutId(), readerMinor);
        }
        ValueCoding coding = ValueCoding.forId(entry.valueId(), readerMinor);
        if (coding == null) {
            throw needsNewerReader(in, entry, "value coding id " + entry.valueId(), readerMinor);
        }
        int n = Math.toIntExact(entry.elementCount());
        long start = in.offset();
        PositionLayout.Decoded where = layout.decode(in, n);
        long positionBytes = in.offset() - start;
        ValueCoding.Decoded values = coding.decode(in, where.positions(), where.storedCount(), n);
        long valueBytes = in.offset() - start - positionBytes;
        in.expectEnd();

        float[] data;
        if (where.positions() == null) {
            data = values.values();
        } else {
            data = new float[n];
            int[] positions = where.positions();
            float[] stored = values.values();
            for (int i = 0; i < positions.length; i++) {
                data[positions[i]] = stored[i];
            }
        }
        boolean[] mask = null;
        if ((entry.flags() & LacunaFile.FLAG_MASKED) != 0) {
            mask = new boolean[n];
            if (where.positions() == null) {
                java.util.Arrays.fill(mask, true);
            } else {
                for (int p : where.positions()) {
                    mask[p] = true;
                }
            }
        }
        TensorReport report = new TensorReport(entry.name(), entry.shape(), mask != null, layout.label(),
                values.label(), n, where.storedCount(), where.fillers(), entry.length(), positionBytes, valueBytes,
                where.stream(), values.stream());
        return new Decoded(data, mask, report);
    }

    private static RuntimeException needsNewerReader(Cursor in, LacunaFile.Entry entry, String what,
                                                     int readerMinor) {
        return in.failAt(entry.offset(), "tensor '" + entry.name() + "' uses " + what + ", which format "
                + LacunaFile.MAJOR + "." + readerMinor + " does not define; it needs a newer reader");
    }
}
