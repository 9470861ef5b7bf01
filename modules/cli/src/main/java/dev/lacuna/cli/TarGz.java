package dev.lacuna.cli;

import dev.lacuna.core.BadFileException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads one regular file out of a gzip-compressed tar archive (an npm package tarball): ustar headers (POSIX.1-1988
 * with the 155-byte name prefix), pax extended headers ({@code path=} records) and GNU long names. Every header's
 * checksum is verified; sizes are checked against a limit before anything is allocated.
 */
final class TarGz {
    private static final int BLOCK = 512;
    // Pax and GNU long-name records hold a path, never more than a few KB in practice.
    private static final int MAX_NAME_RECORD = 1 << 16;

    private TarGz() {
    }

    /**
     * The bytes of entry {@code name}.
     *
     * @throws BadFileException naming the archive when it is not gzip, is truncated, has a corrupt header, lacks the
     *                          entry, or the entry exceeds {@code maxBytes}
     */
    static byte[] readEntry(Path archive, String name, long maxBytes) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(
                new GZIPInputStream(Files.newInputStream(archive), 1 << 16)))) {
            byte[] header = new byte[BLOCK];
            String longName = null;
            while (true) {
                in.readFully(header);
                if (isZero(header)) {
                    throw new BadFileException(archive, "no entry " + name + " in the archive");
                }
                verifyChecksum(archive, header);
                long size = octal(archive, header, 124, 12);
                char type = (char) header[156];
                String entryName = longName != null ? longName : headerName(header);
                longName = null;
                if (type == 'x' || type == 'L') {
                    byte[] record = readData(archive, in, size, MAX_NAME_RECORD, "extended header");
                    longName = type == 'x' ? paxPath(record) : cString(record, 0, record.length);
                } else if ((type == '0' || type == '\0') && entryName.equals(name)) {
                    return readData(archive, in, size, maxBytes, name);
                } else {
                    skipData(in, size);
                }
            }
        } catch (EOFException e) {
            throw new BadFileException(archive, "truncated archive (no end-of-archive marker before " + name + ")");
        } catch (IOException e) {
            throw new BadFileException(archive, "not a readable .tgz: " + e.getMessage(), e);
        }
    }

    private static byte[] readData(Path archive, DataInputStream in, long size, long limit, String what)
            throws IOException {
        if (size > limit) {
            throw new BadFileException(archive, what + " declares " + size + " bytes, more than the " + limit
                    + " expected");
        }
        byte[] data = new byte[(int) size];
        in.readFully(data);
        skipPadding(in, size);
        return data;
    }

    private static void skipData(DataInputStream in, long size) throws IOException {
        long remaining = padded(size);
        while (remaining > 0) {
            long skipped = in.skip(remaining);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException();
                }
                skipped = 1;
            }
            remaining -= skipped;
        }
    }

    private static void skipPadding(DataInputStream in, long size) throws IOException {
        in.readFully(new byte[(int) (padded(size) - size)]);
    }

    private static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    // POSIX: the checksum is the sum of the header's unsigned bytes with the checksum field read as spaces.
    private static void verifyChecksum(Path archive, byte[] header) {
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : header[i] & 0xff;
        }
        long stored = octal(archive, header, 148, 8);
        if (stored != sum) {
            throw new BadFileException(archive, "corrupt tar header (checksum " + stored + ", computed " + sum + ")");
        }
    }

    private static long octal(Path archive, byte[] header, int offset, int length) {
        long value = 0;
        boolean digits = false;
        for (int i = offset; i < offset + length; i++) {
            int c = header[i] & 0xff;
            if (c == 0 || (c == ' ' && digits)) {
                break;
            }
            if (c == ' ') {
                continue;
            }
            if (c < '0' || c > '7' || value > (Long.MAX_VALUE >> 3)) {
                // Includes GNU base-256 sizes (high bit set): only files over 8 GB use them.
                throw new BadFileException(archive, "corrupt tar header (bad octal field at offset " + offset + ")");
            }
            value = (value << 3) + (c - '0');
            digits = true;
        }
        return value;
    }

    private static String headerName(byte[] header) {
        String name = cString(header, 0, 100);
        boolean ustar = new String(header, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
        String prefix = ustar ? cString(header, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static String cString(byte[] bytes, int offset, int length) {
        int end = offset;
        while (end < offset + length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** The {@code path} of a pax record set: lines {@code "<length> <key>=<value>\n"}. */
    private static String paxPath(byte[] record) {
        String path = null;
        for (String line : new String(record, StandardCharsets.UTF_8).split("\n")) {
            int space = line.indexOf(' ');
            int equals = line.indexOf('=');
            if (space > 0 && equals > space && line.substring(space + 1, equals).equals("path")) {
                path = line.substring(equals + 1);
            }
        }
        return path;
    }
}
