package dev.lacuna.io.format;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Takes a valid file apart and puts it back together with consistent offsets and checksums, so tests can forge
 * files that are well-formed except for the one thing under test (a newer minor version, an unknown encoding id, a
 * lying count).
 *
 * @param prefixes each directory entry up to (not including) its payload offset field
 */
record FileSurgery(int major, int minor, byte[] header, List<byte[]> prefixes, List<byte[]> payloads) {

    static FileSurgery parse(byte[] file) {
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        in.position(8);
        int major = in.getShort() & 0xFFFF;
        int minor = in.getShort() & 0xFFFF;
        int headerLength = in.getInt();
        in.getInt(); // directory length
        in.getInt(); // preamble CRC
        byte[] header = new byte[headerLength];
        in.get(header);
        in.getInt();
        int count = in.getInt();
        List<byte[]> prefixes = new ArrayList<>();
        List<byte[]> payloads = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int entryLength = in.getInt();
            byte[] prefix = new byte[entryLength - 20];
            in.get(prefix);
            long offset = in.getLong();
            long length = in.getLong();
            in.getInt();
            byte[] payload = new byte[(int) length];
            System.arraycopy(file, (int) offset, payload, 0, (int) length);
            prefixes.add(prefix);
            payloads.add(payload);
        }
        return new FileSurgery(major, minor, header, prefixes, payloads);
    }

    /** The file, with {@code entryExtra} appended to every directory entry (fields of a later minor version). */
    byte[] build(byte[] entryExtra) {
        int directoryLength = 4;
        for (byte[] prefix : prefixes) {
            directoryLength += 4 + prefix.length + 20 + entryExtra.length;
        }
        long position = LacunaFile.PREAMBLE_BYTES + header.length + 4L + directoryLength + 4L;
        long[] offsets = new long[payloads.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = LacunaFile.align(position);
            position = offsets[i] + payloads.get(i).length;
        }
        ByteBuffer directory = ByteBuffer.allocate(directoryLength).order(ByteOrder.LITTLE_ENDIAN);
        directory.putInt(prefixes.size());
        for (int i = 0; i < prefixes.size(); i++) {
            byte[] payload = payloads.get(i);
            directory.putInt(prefixes.get(i).length + 20 + entryExtra.length).put(prefixes.get(i));
            directory.putLong(offsets[i]).putLong(payload.length)
                    .putInt(EncodedModel.crc(payload, 0, payload.length)).put(entryExtra);
        }
        ByteBuffer preamble = ByteBuffer.allocate(LacunaFile.PREAMBLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        preamble.put(LacunaFile.MAGIC).putShort((short) major).putShort((short) minor).putInt(header.length)
                .putInt(directoryLength);
        preamble.putInt(EncodedModel.crc(preamble.array(), 0, 20));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(preamble.array());
        out.writeBytes(header);
        out.writeBytes(le32(EncodedModel.crc(header, 0, header.length)));
        out.writeBytes(directory.array());
        out.writeBytes(le32(EncodedModel.crc(directory.array(), 0, directoryLength)));
        for (int i = 0; i < payloads.size(); i++) {
            while (out.size() < offsets[i]) {
                out.write(0);
            }
            out.writeBytes(payloads.get(i));
        }
        return out.toByteArray();
    }

    private static byte[] le32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }
}
