package dev.lacuna.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.BadFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The content of a safetensors file: named raw tensors and the string metadata of {@code __metadata__}.
 *
 * <p>Layout (safetensors spec): an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an optional {@code "__metadata__"}
 * string map, then the data buffer. Offsets are relative to the buffer, which the tensors must cover exactly,
 * without holes or overlaps.
 *
 * <p>The reader trusts nothing it reads: every declared size is checked against the bytes the file really has
 * before anything is allocated, and every violation raises a {@link BadFileException} that names the file, the
 * tensor or offset, what was expected and what was found.
 */
public final class SafetensorsFile {
    /** Key of the free-form string map in the header. */
    public static final String METADATA_KEY = "__metadata__";

    /** Largest header Lacuna reads (the reference implementation uses the same bound against header bombs). */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private final Path path;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsFile(Path path, Map<String, String> metadata, Map<String, SafetensorsTensor> tensors) {
        this.path = path;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /**
     * Reads and validates a whole safetensors file.
     *
     * @throws BadFileException when the file is missing, unreadable or malformed
     */
    public static SafetensorsFile read(Path file) {
        if (Files.isDirectory(file)) {
            throw new BadFileException(file, "is a directory, expected a safetensors file");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return new Parser(file, channel).parse();
        } catch (NoSuchFileException e) {
            throw new BadFileException(file, "no such file");
        } catch (AccessDeniedException e) {
            throw new BadFileException(file, "permission denied", e);
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The file this content was read from. */
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} entries in file order (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors, in the order of their data in the file. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    /**
     * The values of a floating-point tensor as float32 (F64, F16 and BF16 are converted).
     *
     * @throws BadFileException when the tensor is absent or not of a floating type
     */
    public float[] floats(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new BadFileException(path, "no tensor named '" + name + "'");
        }
        if (!t.dtype().isFloating()) {
            throw new BadFileException(path, "tensor '" + name + "': expected a floating type (F32, F16, BF16, F64), "
                    + "found " + t.dtype());
        }
        return t.toFloats();
    }

    /** One validated header entry; offsets are relative to the data buffer. */
    private record Entry(String name, SafetensorsDType dtype, int[] shape, long begin, long end) {
    }

    /** Reads one file; all validation lives here so that every message can name the file. */
    private static final class Parser {
        private final Path file;
        private final FileChannel channel;

        Parser(Path file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }

        SafetensorsFile parse() throws IOException {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw bad("file has " + fileSize + " bytes, expected at least the 8-byte header length of a "
                        + "safetensors file");
            }
            long headerLength = readBytes(0, 8).getLong();
            // u64 on disk: a negative long is a length above 2^63, far beyond any file.
            if (headerLength < 0 || headerLength > fileSize - 8) {
                throw bad("header length field declares " + Long.toUnsignedString(headerLength) + " bytes, but only "
                        + (fileSize - 8) + " bytes follow it");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw bad("header length field declares " + headerLength + " bytes, more than the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            String header = decodeUtf8(readBytes(8, (int) headerLength));
            long bufferLength = fileSize - 8 - headerLength;

            Map<String, JsonNode> fields = parseTopLevel(header);
            Map<String, String> metadata = parseMetadata(fields.remove(METADATA_KEY));
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<String, JsonNode> f : fields.entrySet()) {
                entries.add(parseEntry(f.getKey(), f.getValue(), bufferLength));
            }
            checkCoverage(entries, bufferLength);

            Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
            long dataStart = 8 + headerLength;
            for (Entry e : entries) {
                int length = (int) (e.end() - e.begin());
                byte[] data = new byte[length];
                readFully(ByteBuffer.wrap(data), dataStart + e.begin());
                tensors.put(e.name(), new SafetensorsTensor(e.name(), e.dtype(), e.shape(), data));
            }
            return new SafetensorsFile(file, metadata, tensors);
        }

        private String decodeUtf8(ByteBuffer bytes) {
            // Strict decoding: Jackson alone would guess UTF-16/32 from the first bytes and accept them.
            CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            try {
                CharBuffer chars = decoder.decode(bytes);
                return chars.toString();
            } catch (CharacterCodingException e) {
                throw bad("header is not valid UTF-8 (invalid bytes at file offset " + (8 + bytes.position()) + ")");
            }
        }

        private Map<String, JsonNode> parseTopLevel(String header) {
            if (header.isEmpty() || header.charAt(0) != '{') {
                String start = header.isEmpty() ? "an empty header"
                        : "'" + header.substring(0, Math.min(20, header.length())) + "'";
                throw bad("header must be a JSON object starting with '{', found " + start);
            }
            // Streamed at the top level so that a repeated tensor name is reported as such (a tree would keep the
            // last one silently); FAIL_ON_READING_DUP_TREE_KEY covers repeated fields inside each entry.
            Map<String, JsonNode> fields = new LinkedHashMap<>();
            try (JsonParser p = JSON.createParser(header)) {
                p.nextToken();
                JsonToken token;
                while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    JsonNode value = p.readValueAsTree();
                    if (fields.putIfAbsent(name, value) != null) {
                        throw bad("duplicate tensor name '" + name + "' in the header");
                    }
                }
                if (token != JsonToken.END_OBJECT) {
                    throw bad("header is not a complete JSON object");
                }
                if (p.nextToken() != null) {
                    throw bad("header has content after its JSON object (only space padding is allowed)");
                }
            } catch (JacksonException e) {
                throw bad("header is not valid JSON: " + e.getOriginalMessage() + " (header line "
                        + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
            } catch (IOException e) {
                throw bad("header is not valid JSON: " + e.getMessage());
            }
            return fields;
        }

        private Map<String, String> parseMetadata(JsonNode node) {
            Map<String, String> metadata = new LinkedHashMap<>();
            if (node == null) {
                return metadata;
            }
            if (!node.isObject()) {
                throw bad(METADATA_KEY + ": expected an object of strings, found " + kind(node));
            }
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (!e.getValue().isTextual()) {
                    throw bad(METADATA_KEY + " entry '" + e.getKey() + "': expected a string, found "
                            + kind(e.getValue()));
                }
                metadata.put(e.getKey(), e.getValue().textValue());
            }
            return metadata;
        }

        private Entry parseEntry(String name, JsonNode node, long bufferLength) {
            String where = "tensor '" + name + "'";
            if (!node.isObject()) {
                throw bad(where + ": expected an object with dtype, shape and data_offsets, found " + kind(node));
            }
            JsonNode dtypeNode = required(node, "dtype", where);
            if (!dtypeNode.isTextual()) {
                throw bad(where + ": field 'dtype' must be a string, found " + kind(dtypeNode));
            }
            SafetensorsDType dtype = SafetensorsDType.fromHeader(dtypeNode.textValue());
            if (dtype == null) {
                throw bad(where + ": unknown dtype '" + dtypeNode.textValue() + "', expected one of "
                        + Arrays.toString(SafetensorsDType.values()));
            }

            JsonNode shapeNode = required(node, "shape", where);
            if (!shapeNode.isArray()) {
                throw bad(where + ": field 'shape' must be an array of integers, found " + kind(shapeNode));
            }
            int[] shape = new int[shapeNode.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.isIntegralNumber() || d.bigIntegerValue().signum() < 0) {
                    throw bad(where + ": shape dimension " + i + " must be a non-negative integer, found " + d);
                }
                if (!d.canConvertToInt()) {
                    throw bad(where + ": shape dimension " + i + " is " + d + ", more than Lacuna supports ("
                            + Integer.MAX_VALUE + ")");
                }
                shape[i] = d.intValue();
                try {
                    elements = Math.multiplyExact(elements, shape[i]);
                } catch (ArithmeticException overflow) {
                    throw bad(where + ": shape " + shapeNode + " holds more elements than any file can");
                }
            }
            long expectedBytes;
            try {
                expectedBytes = Math.multiplyExact(elements, dtype.byteSize());
            } catch (ArithmeticException overflow) {
                throw bad(where + ": shape " + shapeNode + " of " + dtype + " needs more bytes than any file can hold");
            }

            JsonNode offsets = required(node, "data_offsets", where);
            if (!offsets.isArray() || offsets.size() != 2) {
                throw bad(where + ": field 'data_offsets' must be [begin, end], found " + offsets);
            }
            long[] be = new long[2];
            for (int i = 0; i < 2; i++) {
                JsonNode o = offsets.get(i);
                if (!o.isIntegralNumber() || o.bigIntegerValue().signum() < 0 || !o.canConvertToLong()) {
                    throw bad(where + ": data_offsets must hold two non-negative 64-bit integers, found " + offsets);
                }
                be[i] = o.longValue();
            }
            long begin = be[0];
            long end = be[1];
            if (end < begin) {
                throw bad(where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
            }
            if (end > bufferLength) {
                throw bad(where + ": data_offsets [" + begin + ", " + end + "] reach beyond the data buffer, which has "
                        + bufferLength + " bytes");
            }
            if (end - begin != expectedBytes) {
                throw bad(where + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                        + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expectedBytes);
            }
            if (expectedBytes > Integer.MAX_VALUE - 8) {
                throw bad(where + ": " + expectedBytes + " bytes, more than Lacuna holds in one tensor (2 GiB)");
            }
            return new Entry(name, dtype, shape, begin, end);
        }

        private void checkCoverage(List<Entry> entries, long bufferLength) {
            entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
            long covered = 0;
            String previous = null;
            for (Entry e : entries) {
                if (e.begin() < covered) {
                    throw bad("tensor '" + e.name() + "': data_offsets begin at " + e.begin()
                            + ", inside tensor '" + previous + "' which ends at " + covered + " (overlap)");
                }
                if (e.begin() > covered) {
                    throw bad("tensor '" + e.name() + "': data_offsets begin at " + e.begin() + ", expected "
                            + covered + " (a hole of " + (e.begin() - covered) + " unused bytes)");
                }
                covered = e.end();
                previous = e.name();
            }
            if (covered != bufferLength) {
                throw bad("the data buffer has " + bufferLength + " bytes but the tensors cover " + covered
                        + " (" + (bufferLength - covered) + " unused bytes at the end)");
            }
        }

        private JsonNode required(JsonNode node, String field, String where) {
            JsonNode value = node.get(field);
            if (value == null) {
                throw bad(where + ": missing field '" + field + "'");
            }
            return value;
        }

        private ByteBuffer readBytes(long position, int length) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
            readFully(buffer, position);
            return buffer.flip();
        }

        private void readFully(ByteBuffer buffer, long position) throws IOException {
            long at = position;
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, at);
                if (n < 0) {
                    throw bad("file ended at byte " + at + " while reading data (was it truncated while reading?)");
                }
                at += n;
            }
        }

        private BadFileException bad(String problem) {
            return new BadFileException(file, problem);
        }

        private static String kind(JsonNode node) {
            return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + abbreviate(node.toString());
        }

        private static String abbreviate(String s) {
            return s.length() <= 40 ? s : s.substring(0, 40) + "...";
        }
    }
}
