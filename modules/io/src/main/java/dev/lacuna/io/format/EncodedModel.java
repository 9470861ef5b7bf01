package dev.lacuna.io.format;

import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A model encoded as a {@code .lacuna} file, not yet written: its size report, the exact model a reader will get back
 * ({@link #decoded()}), and the bytes ({@link #write(Path)}).
 */
public final class EncodedModel {
    private final Model source;
    private final byte[] header;
    private final byte[] directory;
    private final List<TensorEncoder.Result> tensors;
    private final long[] offsets;
    private final long size;
    private final String precision;
    private final int minor;

    EncodedModel(Model source, byte[] header, String precision, List<TensorEncoder.Result> tensors) {
        this.source = source;
        this.precision = precision;
        this.header = header;
        this.tensors = List.copyOf(tensors);
        int directoryBytes = 4;
        for (TensorEncoder.Result t : tensors) {
            directoryBytes += 4 + entryBytes(t);
        }
        this.offsets = new long[tensors.size()];
        long end = LacunaFile.PREAMBLE_BYTES + header.length + 4L + directoryBytes + 4L;
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = LacunaFile.align(end);
            end = offsets[i] + tensors.get(i).payload().length;
        }
        this.size = end;
        this.directory = directory(directoryBytes);
        // The oldest minor version that defines every coding used (format.md §8), so that readers of 1.0 keep
        // reading every file that does not need 1.1.
        this.minor = tensors.stream().mapToInt(t -> t.values().minorVersion()).max().orElse(0);
    }

    /**
     * The format version the file is stamped with: {@code 1.0} unless a tensor uses an encoding introduced later
     * (f16 planes came with {@code 1.1}).
     */
    public String formatVersion() {
        return LacunaFile.MAJOR + "." + minor;
    }

    /** Size of the file in bytes. */
    public long sizeBytes() {
        return size;
    }

    /** Per-tensor and overall size accounting. */
    public LacunaFileReport report() {
        List<TensorReport> reports = new ArrayList<>();
        long elements = 0;
        for (TensorEncoder.Result t : tensors) {
            reports.add(t.report());
            elements += t.report().elements();
        }
        return new LacunaFileReport(size, 4 * elements, precision, reports);
    }

    /**
     * The model exactly as {@link LacunaFormat#read} will return it: quantized or rounded weights, masks,
     * architecture, vocabulary and metadata. Computed from the encoder's own values, not by decoding the bytes.
     */
    public Model decoded() {
        Map<String, Tensor> decoded = new LinkedHashMap<>();
        for (TensorEncoder.Result t : tensors) {
            decoded.put(t.name(), new Tensor(t.name(), t.shape(), t.decodedData()));
        }
        Model model = new Model(source.architecture(), source.vocabulary(), decoded);
        for (TensorEncoder.Result t : tensors) {
            boolean[] keep = t.decodedMask();
            if (keep != null) {
                model.setMask(t.name(), keep);
            }
        }
        model.metadata().putAll(source.metadata());
        return model;
    }

    /** Writes the file atomically (a temporary file beside {@code target}, then a move). */
    public void write(Path target) {
        AtomicFiles.write(target, this::writeTo);
    }

    void writeTo(OutputStream out) throws IOException {
        ByteBuffer preamble = ByteBuffer.allocate(LacunaFile.PREAMBLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        preamble.put(LacunaFile.MAGIC).putShort((short) LacunaFile.MAJOR).putShort((short) minor)
                .putInt(header.length).putInt(directory.length);
        preamble.putInt(crc(preamble.array(), 0, 20));
        out.write(preamble.array());
        out.write(header);
        out.write(le32(crc(header, 0, header.length)));
        out.write(directory);
        out.write(le32(crc(directory, 0, directory.length)));
        long position = LacunaFile.PREAMBLE_BYTES + header.length + 4L + directory.length + 4L;
        byte[] zeros = new byte[LacunaFile.ALIGNMENT];
        for (int i = 0; i < tensors.size(); i++) {
            out.write(zeros, 0, (int) (offsets[i] - position));
            byte[] payload = tensors.get(i).payload();
            out.write(payload);
            position = offsets[i] + payload.length;
        }
    }

    private byte[] directory(int length) {
        ByteBuffer d = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        d.putInt(tensors.size());
        for (int i = 0; i < tensors.size(); i++) {
            TensorEncoder.Result t = tensors.get(i);
            byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
            d.putInt(entryBytes(t));
            d.putShort((short) name.length).put(name);
            d.put((byte) t.shape().length);
            for (int dim : t.shape()) {
                d.putInt(dim);
            }
            d.put((byte) (t.masked() ? LacunaFile.FLAG_MASKED : 0));
            d.put((byte) t.layout().id()).put((byte) t.values().id());
            d.putLong(offsets[i]).putLong(t.payload().length);
            d.putInt(crc(t.payload(), 0, t.payload().length));
        }
        return d.array();
    }

    /** Bytes of an entry after its length field. */
    private static int entryBytes(TensorEncoder.Result t) {
        int nameBytes = t.name().getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > 0xFFFF) {
            throw new IllegalArgumentException("tensor name longer than 65535 bytes: " + t.name());
        }
        return 2 + nameBytes + 1 + 4 * t.shape().length + 3 + 8 + 8 + 4;
    }

    static int crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    private static byte[] le32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }
}
