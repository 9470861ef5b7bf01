package dev.lacuna.pipeline;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one JSON writer of the reports: compare/plan/sensitivity reports, the CLI's {@code --json} output and report
 * files, and JSON-valued provenance metadata.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            // AtomicFiles syncs the stream after the body returns, so Jackson must not close it.
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    private Json() {
    }

    /** Pretty-printed JSON. */
    public static String pretty(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new LacunaException("cannot render JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Compact JSON on one line, for metadata values. */
    public static String compact(Object value) {
        try {
            return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new LacunaException("cannot render JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * A numeric field of a JSON report, or null when the file or the field is absent.
     *
     * @throws BadFileException when the file exists but is not JSON
     */
    public static Double readNumber(Path file, String field) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode value = MAPPER.readTree(file.toFile()).get(field);
            return value != null && value.isNumber() ? value.asDouble() : null;
        } catch (IOException e) {
            throw new BadFileException(file, "is not a JSON report: " + e.getMessage(), e);
        }
    }

    /**
     * The JSON tree of a file this class wrote (a checkpoint that a resumed run reads back).
     *
     * @throws BadFileException when the file cannot be read or is not JSON
     */
    static JsonNode readTree(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new BadFileException(file, "is not JSON: " + e.getMessage(), e);
        }
    }

    /** A JSON object as nested maps and lists, as it was before {@link #write}; numbers keep their exact value. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> toMap(JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object, found " + node.getNodeType());
        }
        return MAPPER.convertValue(node, Map.class);
    }

    /** Writes {@code value} to {@code target} atomically, ending with a newline. */
    public static void write(Path target, Object value) {
        AtomicFiles.write(target, out -> {
            MAPPER.writeValue(out, value);
            out.write('\n');
        });
    }
}
