package dev.lacuna.io.format;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/** Reads and fully verifies a {@code .lacuna} file (format.md §2-§9). */
final class LacunaReader {
    private final Path file;
    private final ByteBuffer content;

    private LacunaReader(Path file, ByteBuffer content) {
        this.file = file;
        this.content = content.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The decoded model and its size accounting. */
    record Result(Model model, LacunaFileReport report) {
    }

    static Result read(Path file) {
        return new LacunaReader(file, load(file)).read();
    }

    /** Reads {@code content} as if it were {@code file}'s bytes (tests corrupt files in memory). */
    static Result read(Path file, byte[] content) {
        return new LacunaReader(file, ByteBuffer.wrap(content)).read();
    }

    private static ByteBuffer load(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE - 8) {
                throw new BadFileException(file, "is " + size + " bytes; this reader handles files below 2 GiB");
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) size);
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // keep reading: a channel may return fewer bytes than asked
            }
            if (buffer.hasRemaining()) {
                throw new BadFileException(file, "changed size while being read");
            }
            return buffer.flip();
        } catch (NoSuchFileException e) {
            throw new BadFileException(file, "no such file", e);
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private Result read() {
        long size = content.limit();
        Cursor preamble = section("preamble", 0, Math.min(size, LacunaFile.PREAMBLE_BYTES));
        byte[] magic = preamble.bytes(LacunaFile.MAGIC.length, "magic");
        if (!Arrays.equals(magic, LacunaFile.MAGIC)) {
            throw preamble.failAt(0, "not a .lacuna file (bad magic " + hex(magic) + ")");
        }
        int major = preamble.u16("major version");
        int minor = preamble.u16("minor version");
        if (major != LacunaFile.MAJOR) {
            throw preamble.failAt(8, "format version " + major + "." + minor + " is not readable by this reader"
                    + " (it reads major version " + LacunaFile.MAJOR + ")");
        }
        long headerLength = preamble.u32("header length");
        long directoryLength = preamble.u32("directory length");
        int storedCrc = (int) preamble.u32("preamble CRC32C");
        checkCrc(preamble, 0, 20, storedCrc, 20);
        if (headerLength > LacunaFile.MAX_HEADER_BYTES || directoryLength > LacunaFile.MAX_DIRECTORY_BYTES) {
            throw preamble.failAt(12, "header (" + headerLength + " bytes) or directory (" + directoryLength
                    + " bytes) larger than the format allows");
        }
        long headerEnd = LacunaFile.PREAMBLE_BYTES + headerLength;
        long directoryStart = headerEnd + 4;
        long directoryEnd = directoryStart + directoryLength;
        if (directoryEnd + 4 > size) {
            throw new BadFileException(file, "preamble at byte 12: header and directory need " + (directoryEnd + 4)
                    + " bytes, the file has " + size + " (truncated?)");
        }

        Cursor headerSection = section("header", LacunaFile.PREAMBLE_BYTES, headerLength + 4);
        checkCrc(headerSection, LacunaFile.PREAMBLE_BYTES, (int) headerLength, content.getInt((int) headerEnd),
                headerEnd);
        byte[] headerBytes = headerSection.bytes((int) headerLength, "header");
        requireUtf8(headerSection, headerBytes);
        HeaderJson.Content header = HeaderJson.read(section("header", LacunaFile.PREAMBLE_BYTES, headerLength),
                headerBytes);

        Cursor directory = section("directory", directoryStart, directoryLength);
        checkCrc(directory, directoryStart, (int) directoryLength, content.getInt((int) directoryEnd), directoryEnd);
        List<LacunaFile.Entry> entries = readDirectory(directory, directoryEnd + 4, size, minor);
        return decode(header, entries, size);
    }

    private List<LacunaFile.Entry> readDirectory(Cursor in, long payloadStart, long size, int minor) {
        long count = in.u32("tensor count");
        // Each entry takes at least 31 bytes; a larger count cannot be genuine.
        if (count * 31 > in.remaining()) {
            throw in.failAt(in.offset() - 4, count + " tensors cannot fit in " + in.remaining() + " bytes");
        }
        List<LacunaFile.Entry> entries = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        long expectedOffset = LacunaFile.align(payloadStart);
        long regionEnd = payloadStart;
        for (int i = 0; i < count; i++) {
            long entryOffset = in.offset();
            int entryLength = in.byteLength("entry " + i + " length");
            Cursor entry = new Cursor(file, "directory entry " + i, in.view(entryLength, "entry " + i), entryOffset + 4);
            int nameLength = entry.u16("name length");
            byte[] nameBytes = entry.bytes(nameLength, "name");
            requireUtf8(entry, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            if (seen.put(name, i) != null) {
                throw entry.failAt(entryOffset, "tensor name '" + name + "' appears twice");
            }
            int rank = entry.u8("rank");
            if (rank < 1 || rank > LacunaFile.MAX_RANK) {
                throw entry.failAt(entry.offset() - 1, "rank " + rank + " outside 1.." + LacunaFile.MAX_RANK);
            }
            int[] shape = new int[rank];
            long elements = 1;
            for (int d = 0; d < rank; d++) {
                long dim = entry.u32("dimension " + d);
                elements *= Math.max(dim, 1);
                if (dim < 1 || elements >= Integer.MAX_VALUE) {
                    throw entry.failAt(entry.offset() - 4, "tensor '" + name + "' dimension " + dim
                            + " is zero or makes the tensor too large");
                }
                shape[d] = (int) dim;
            }
            int flags = entry.u8("flags");
            int layoutId = entry.u8("layout id");
            int valueId = entry.u8("value coding id");
            ValueCoding coding = ValueCoding.forId(valueId);
            // A file is stamped with the minor version that defines every id it uses (format.md §8); an id newer
            // than the stamp means the preamble or the entry is wrong.
            if (coding != null && coding.minorVersion() > minor) {
                throw entry.failAt(entry.offset() - 1, "tensor '" + name + "' uses value coding " + coding.label()
                        + " (id " + valueId + ") of format " + LacunaFile.MAJOR + "." + coding.minorVersion()
                        + ", but the file says it is format " + LacunaFile.MAJOR + "." + minor);
            }
            long offsetField = entry.offset();
            long offset = entry.u64("payload offset");
            long length = entry.u64("payload length");
            int crc = (int) entry.u32("payload CRC32C");
            // Fields appended by a later minor version end before entryLength and are skipped (format.md §8).
            if (offset != expectedOffset) {
                throw entry.failAt(offsetField, "payload of '" + name + "' must start at byte " + expectedOffset
                        + ", the directory says " + offset);
            }
            if (length > size - offset) {
                throw entry.failAt(offsetField + 8, "payload of '" + name + "' is " + length + " bytes but the file"
                        + " ends " + (size - offset) + " bytes after its start (truncated?)");
            }
            requireZeroPadding(regionEnd, offset);
            regionEnd = offset + length;
            expectedOffset = LacunaFile.align(regionEnd);
            entries.add(new LacunaFile.Entry(name, shape, flags, layoutId, valueId, offset, length, crc));
        }
        in.expectEnd();
        if (regionEnd != size) {
            throw new BadFileException(file, "end of file at byte " + regionEnd + ": " + (size - regionEnd)
                    + " bytes follow the last payload");
        }
        return entries;
    }

    private Result decode(HeaderJson.Content header, List<LacunaFile.Entry> entries, long size) {
        Architecture arch = header.architecture();
        if (header.vocabulary().size() != arch.vocabSize()) {
            throw new BadFileException(file, "header: vocabulary has " + header.vocabulary().size()
                    + " symbols but the architecture expects " + arch.vocabSize());
        }
        Map<String, LacunaFile.Entry> byName = new LinkedHashMap<>();
        entries.forEach(e -> byName.put(e.name(), e));
        long totalElements = 0;
        for (TensorSpec spec : arch.tensors()) {
            LacunaFile.Entry e = byName.get(spec.name());
            if (e == null) {
                throw new BadFileException(file, "directory: missing tensor '" + spec.name() + "' of shape "
                        + Arrays.toString(spec.shape()) + " required by the architecture");
            }
            if (!Arrays.equals(e.shape(), spec.shape())) {
                throw new BadFileException(file, "directory: tensor '" + spec.name() + "' has shape "
                        + Arrays.toString(e.shape()) + ", the architecture needs " + Arrays.toString(spec.shape()));
            }
            totalElements += spec.elementCount();
        }
        if (byName.size() != arch.tensors().size()) {
            for (String name : byName.keySet()) {
                if (arch.tensors().stream().noneMatch(s -> s.name().equals(name))) {
                    throw new BadFileException(file, "directory: unexpected tensor '" + name + "' for a "
                            + arch.cell().id() + " model with " + arch.layers() + " layer(s)");
                }
            }
        }
        // The architecture comes from the file; refuse before allocating a model the heap cannot hold.
        if (totalElements * 5 > Runtime.getRuntime().maxMemory()) {
            throw new BadFileException(file, "header: the architecture declares " + totalElements
                    + " parameters, more than this JVM's heap can hold");
        }

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, boolean[]> masks = new HashMap<>();
        List<TensorReport> reports = new ArrayList<>();
        for (LacunaFile.Entry e : entries) {
            TensorDecoder.Decoded t = TensorDecoder.decode(file, e, payload(e));
            tensors.put(e.name(), new Tensor(e.name(), e.shape(), t.data()));
            if (t.mask() != null) {
                masks.put(e.name(), t.mask());
            }
            reports.add(t.report());
        }
        Model model;
        try {
            model = new Model(arch, header.vocabulary(), tensors);
        } catch (IllegalArgumentException ex) {
            throw new BadFileException(file, ex.getMessage(), ex);
        }
        for (TensorSpec spec : arch.tensors()) {
            boolean[] keep = masks.get(spec.name());
            if (keep != null) {
                model.setMask(spec.name(), keep);
            }
        }
        model.metadata().putAll(header.metadata());
        return new Result(model, new LacunaFileReport(size, 4 * totalElements, header.precision(), reports));
    }

    private Cursor payload(LacunaFile.Entry e) {
        Cursor in = section("tensor " + e.name(), e.offset(), e.length());
        CRC32C crc = new CRC32C();
        crc.update(content.slice((int) e.offset(), (int) e.length()));
        if ((int) crc.getValue() != e.crc()) {
            throw in.failAt(e.offset(), "CRC32C mismatch (payload damaged)");
        }
        return in;
    }

    private void requireZeroPadding(long from, long to) {
        for (long i = from; i < to; i++) {
            if (content.get((int) i) != 0) {
                throw new BadFileException(file, "padding at byte " + i + ": must be zero, found "
                        + (content.get((int) i) & 0xFF));
            }
        }
    }

    private void checkCrc(Cursor where, long start, int length, int stored, long crcOffset) {
        CRC32C crc = new CRC32C();
        crc.update(content.slice((int) start, length));
        if ((int) crc.getValue() != stored) {
            throw where.failAt(crcOffset, "CRC32C mismatch (section damaged)");
        }
    }

    private Cursor section(String name, long start, long length) {
        return new Cursor(file, name, content.slice((int) start, (int) length), start);
    }

    private static void requireUtf8(Cursor where, byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw where.fail("text is not valid UTF-8");
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) {
            s.append(String.format("%02X", b & 0xFF));
        }
        return s.toString();
    }
}
