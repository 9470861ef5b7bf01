package dev.lacuna.io.npz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the header of an NPY file (numpy's {@code format.py}, "NPY format" NEP 1): the magic {@code \x93NUMPY}, a
 * major and minor version byte, the header length (2 bytes little-endian in version 1.0, 4 bytes in 2.0 and 3.0),
 * and a Python dict literal with the keys {@code descr}, {@code fortran_order} and {@code shape}.
 *
 * @param dtype        the element type
 * @param fortranOrder whether the data is stored column-major
 * @param shape        dimensions
 * @param dataOffset   where the data starts in the NPY bytes
 */
record NpyHeader(NpyDType dtype, boolean fortranOrder, int[] shape, int dataOffset) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** Parses a header; every problem is an {@link IllegalArgumentException} whose message the caller prefixes. */
    static NpyHeader parse(byte[] npy) {
        if (npy.length < MAGIC.length + 4) {
            throw new IllegalArgumentException("too short for an NPY header (" + npy.length + " bytes)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (npy[i] != MAGIC[i]) {
                throw new IllegalArgumentException("not an NPY array: expected the magic \\x93NUMPY");
            }
        }
        int major = npy[6] & 0xFF;
        int minor = npy[7] & 0xFF;
        if (major < 1 || major > 3 || minor != 0) {
            throw new IllegalArgumentException("NPY version " + major + "." + minor
                    + " is not supported (1.0, 2.0 and 3.0 are)");
        }
        ByteBuffer b = ByteBuffer.wrap(npy).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = major == 1 ? b.getShort(8) & 0xFFFF : b.getInt(8) & 0xFFFF_FFFFL;
        int start = major == 1 ? 10 : 12;
        if (headerLength > npy.length - start) {
            throw new IllegalArgumentException("header length " + headerLength + " reaches beyond the "
                    + npy.length + " bytes of the entry");
        }
        // Versions 1.0 and 2.0 store the dict as latin-1, 3.0 as UTF-8 (for unicode field names).
        String text = new String(npy, start, (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict = new DictParser(text).parseDict();
        Object descr = required(dict, "descr");
        Object fortran = required(dict, "fortran_order");
        Object shapeValue = required(dict, "shape");
        if (!(descr instanceof String descrText)) {
            throw new IllegalArgumentException("descr " + descr + " is a structured type; only plain numeric "
                    + "arrays are supported");
        }
        NpyDType dtype = NpyDType.parse(descrText);
        if (dtype == null) {
            throw new IllegalArgumentException("descr '" + descrText + "' is not a supported type (float f2/f4/f8, "
                    + "integers i1..i8, u1..u8, bool b1, with byte order '<', '>' or '|')");
        }
        if (!(fortran instanceof Boolean fortranOrder)) {
            throw new IllegalArgumentException("fortran_order must be True or False, found " + fortran);
        }
        if (!(shapeValue instanceof List<?> dims)) {
            throw new IllegalArgumentException("shape must be a tuple of integers, found " + shapeValue);
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + dims + ": dimension " + i
                        + " must be an integer from 0 to " + Integer.MAX_VALUE);
            }
            shape[i] = (int) (long) d;
        }
        return new NpyHeader(dtype, fortranOrder, shape, start + (int) headerLength);
    }

    private static Object required(Map<String, Object> dict, String key) {
        Object value = dict.get(key);
        if (value == null) {
            throw new IllegalArgumentException("header dict has no '" + key + "'");
        }
        return value;
    }

    /**
     * The subset of Python literal syntax numpy writes: a dict of string keys whose values are strings, True/False,
     * integers and tuples (or lists) of those.
     */
    private static final class DictParser {
        private final String text;
        private int at;

        DictParser(String text) {
            this.text = text;
        }

        Map<String, Object> parseDict() {
            expect('{');
            Map<String, Object> dict = new LinkedHashMap<>();
            while (!peek('}')) {
                Object key = value();
                if (!(key instanceof String k)) {
                    throw error("dict keys must be strings");
                }
                expect(':');
                if (dict.put(k, value()) != null) {
                    throw error("key '" + k + "' appears twice");
                }
                if (!peek('}')) {
                    expect(',');
                }
            }
            expect('}');
            skipSpace();
            if (at != text.length()) {
                throw error("unexpected text after the dict");
            }
            return dict;
        }

        private Object value() {
            skipSpace();
            if (at >= text.length()) {
                throw error("header ended early");
            }
            char c = text.charAt(at);
            if (c == '\'' || c == '"') {
                return string(c);
            }
            if (c == '(' || c == '[') {
                return sequence(c == '(' ? ')' : ']');
            }
            if (c == '-' || Character.isDigit(c)) {
                return integer();
            }
            if (text.startsWith("True", at)) {
                at += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("False", at)) {
                at += 5;
                return Boolean.FALSE;
            }
            throw error("unexpected '" + c + "'");
        }

        private String string(char quote) {
            int end = text.indexOf(quote, at + 1);
            if (end < 0) {
                throw error("unterminated string");
            }
            String s = text.substring(at + 1, end);
            at = end + 1;
            return s;
        }

        private List<Object> sequence(char close) {
            at++;
            List<Object> items = new ArrayList<>();
            while (!peek(close)) {
                items.add(value());
                if (!peek(close)) {
                    expect(',');
                }
            }
            expect(close);
            return items;
        }

        private Long integer() {
            int start = at;
            if (text.charAt(at) == '-') {
                at++;
            }
            while (at < text.length() && Character.isDigit(text.charAt(at))) {
                at++;
            }
            String digits = text.substring(start, at);
            if (at < text.length() && text.charAt(at) == 'L') {
                at++; // Python 2 long literal, found in old files
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("'" + digits + "' is not a 64-bit integer");
            }
        }

        private boolean peek(char c) {
            skipSpace();
            return at < text.length() && text.charAt(at) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        private void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private IllegalArgumentException error(String problem) {
            String shown = text.strip();
            if (shown.length() > 120) {
                shown = shown.substring(0, 120) + "...";
            }
            return new IllegalArgumentException("malformed header dict at character " + at + " (" + problem + "): "
                    + shown);
        }
    }
}
