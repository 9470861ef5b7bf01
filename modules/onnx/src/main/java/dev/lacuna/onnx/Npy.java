package dev.lacuna.onnx;

import dev.lacuna.core.BadFileException;
import dev.lacuna.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Single NumPy {@code .npy} arrays (numpy's NEP 1 "NPY format") for {@code lacuna verify}'s inputs and expected
 * outputs: float32/float64 values are read as float32, int32/int64 (and int8/int16/uint8) as int64. C order only.
 *
 * <p>The header is checked against the file before anything is allocated: the data must hold exactly the bytes the
 * shape and type declare.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Arrays are read whole into Java arrays, which hold at most this many elements. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([fiub])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /**
     * Reads an array.
     *
     * @throws BadFileException naming the file when it is missing, not NPY, of an unsupported type or order, or its
     *                          data does not match the header
     */
    public static NdArray read(Path file) {
        ByteBuffer bytes;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE) {
                throw new BadFileException(file, "is " + size + " bytes; .npy inputs are limited to 2 GiB");
            }
            bytes = ByteBuffer.allocate((int) size);
            while (bytes.hasRemaining() && channel.read(bytes) >= 0) {
                // read until full: the size was checked above
            }
            bytes.flip();
        } catch (NoSuchFileException e) {
            throw new BadFileException(file, "no such file");
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read: " + e.getMessage(), e);
        }
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new BadFileException(file, e.getMessage(), e);
        }
    }

    static NdArray parse(ByteBuffer bytes) {
        if (bytes.remaining() < MAGIC.length + 4) {
            throw new IllegalArgumentException("too short for an NPY file (" + bytes.remaining() + " bytes)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes.get(i) != MAGIC[i]) {
                throw new IllegalArgumentException("not an NPY file: expected the magic \\x93NUMPY");
            }
        }
        int major = bytes.get(6) & 0xFF;
        if (major < 1 || major > 3) {
            throw new IllegalArgumentException("NPY version " + major + " is not supported (1, 2 and 3 are)");
        }
        ByteBuffer le = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int start = major == 1 ? 10 : 12;
        long headerLength = major == 1 ? le.getShort(8) & 0xFFFF : le.getInt(8) & 0xFFFF_FFFFL;
        if (headerLength > bytes.limit() - start) {
            throw new IllegalArgumentException("header length " + headerLength + " exceeds the file");
        }
        String header = new String(bytes.array(), start, (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher descr = require(DESCR, header, "a supported 'descr' (float f4/f8, int i1..i8 or u1, b1)");
        Matcher fortran = require(FORTRAN, header, "'fortran_order'");
        Matcher shapeText = require(SHAPE, header, "a 'shape' tuple");
        if (fortran.group(1).equals("True")) {
            throw new IllegalArgumentException("Fortran-ordered arrays are not supported; save with C order");
        }
        ByteOrder order = descr.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        char kind = descr.group(2).charAt(0);
        int itemSize = Integer.parseInt(descr.group(3));
        long[] shape = parseShape(shapeText.group(1));
        long count = 1;
        for (long d : shape) {
            count = Math.multiplyExact(count, d);
            if (count > MAX_ELEMENTS) {
                throw new IllegalArgumentException("shape holds more than " + MAX_ELEMENTS + " elements");
            }
        }
        long dataBytes = bytes.limit() - start - headerLength;
        if (!supported(kind, itemSize)) {
            throw new IllegalArgumentException("type '" + descr.group(2) + itemSize
                    + "' is not supported (float f4/f8, int i1/i2/i4/i8, u1, b1)");
        }
        if (count * itemSize != dataBytes) {
            throw new IllegalArgumentException("shape " + shapeText.group(0) + " of " + itemSize + "-byte items needs "
                    + count * itemSize + " data bytes, the file holds " + dataBytes);
        }
        ByteBuffer data = bytes.duplicate().position(start + (int) headerLength).slice().order(order);
        int n = (int) count;
        if (kind == 'f') {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = itemSize == 4 ? data.getFloat(i * 4) : (float) data.getDouble(i * 8);
            }
            return NdArray.ofFloats(shape, values);
        }
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
            values[i] = switch (itemSize) {
                case 1 -> kind == 'i' ? data.get(i) : data.get(i) & 0xFF;
                case 2 -> data.getShort(i * 2);
                case 4 -> data.getInt(i * 4);
                default -> data.getLong(i * 8);
            };
        }
        return NdArray.ofLongs(shape, values);
    }

    private static boolean supported(char kind, int itemSize) {
        return switch (kind) {
            case 'f' -> itemSize == 4 || itemSize == 8;
            case 'i' -> itemSize == 1 || itemSize == 2 || itemSize == 4 || itemSize == 8;
            case 'u', 'b' -> itemSize == 1;
            default -> false;
        };
    }

    private static Matcher require(Pattern pattern, String header, String what) {
        Matcher m = pattern.matcher(header);
        if (!m.find()) {
            throw new IllegalArgumentException("NPY header has no " + what + ": " + header.strip());
        }
        return m;
    }

    private static long[] parseShape(String text) {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.strip();
            if (p.endsWith("L")) {
                p = p.substring(0, p.length() - 1); // Python 2 longs
            }
            if (p.isEmpty()) {
                continue;
            }
            long d;
            try {
                d = Long.parseLong(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("shape dimension '" + part.strip() + "' is not an integer");
            }
            if (d < 0) {
                throw new IllegalArgumentException("shape dimension " + d + " is negative");
            }
            dims.add(d);
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /** Writes an array as NPY 1.0 ({@code <f4} or {@code <i8}, C order), atomically. */
    public static void write(Path target, NdArray array) {
        long[] dims = array.shape();
        String shape = "(" + Arrays.stream(dims).mapToObj(Long::toString).collect(Collectors.joining(", "))
                + (dims.length == 1 ? "," : "") + ")";
        String dict = String.format(Locale.ROOT, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                array.isFloat() ? "<f4" : "<i8", shape);
        // NEP 1: magic, version and header together are padded with spaces to a multiple of 64, ending in '\n'
        int unpadded = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        int itemSize = array.isFloat() ? 4 : 8;
        ByteBuffer out = ByteBuffer.allocate(10 + header.length() + array.size() * itemSize)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        out.put(header.getBytes(StandardCharsets.ISO_8859_1));
        if (array.isFloat()) {
            out.asFloatBuffer().put(array.floats());
        } else {
            out.asLongBuffer().put(array.longs());
        }
        AtomicFiles.write(target, stream -> stream.write(out.array()));
    }
}
