package dev.lacuna.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

/** Writes small tar archives byte by byte (POSIX ustar layout), so the reader is tested against the format. */
final class TestArchives {
    private TestArchives() {
    }

    /** A ustar header block with a valid checksum. */
    static byte[] header(String name, String prefix, long size, char type) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644\0");
        put(h, 108, "0000000\0");
        put(h, 116, "0000000\0");
        put(h, 124, String.format("%011o\0", size));
        put(h, 136, "00000000000\0");
        h[156] = (byte) type;
        put(h, 257, "ustar\0");
        put(h, 263, "00");
        put(h, 345, prefix);
        Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o\0 ", sum));
        return h;
    }

    private static void put(byte[] block, int offset, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, block, offset, b.length);
    }

    /** A header, the data, and zero padding to the next 512-byte block. */
    static void entry(OutputStream tar, byte[] header, byte[] data) throws IOException {
        tar.write(header);
        tar.write(data);
        tar.write(new byte[(512 - data.length % 512) % 512]);
    }

    /** A one-file archive with its end-of-archive marker. */
    static byte[] singleFile(String name, byte[] data) throws IOException {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        entry(tar, header(name, "", data.length, '0'), data);
        tar.write(new byte[1024]);
        return tar.toByteArray();
    }

    static Path gzip(Path file, byte[] tar) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(tar);
        }
        return file;
    }
}
