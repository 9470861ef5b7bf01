package dev.lacuna.io.statedict;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.CellType;
import dev.lacuna.core.RnnActivation;
import java.util.Iterator;
import java.util.Set;
import java.util.function.Function;

/**
 * The architecture fields a user (or a Lacuna file's {@code lacuna.architecture}) states, any subset of them, with
 * the field names of {@code ModelCheckpoint}'s architecture JSON. Absent fields are null. Fields that can be
 * inferred from the tensors are asserted against them; {@code activation} and {@code linear_before_reset}, which
 * cannot, are taken from here.
 */
record ArchitectureHints(CellType cell, Integer vocabSize, Integer embedDim, Integer hiddenSize, Integer layers,
                         Boolean bidirectional, RnnActivation activation, Boolean linearBeforeReset) {
    static final ArchitectureHints NONE = new ArchitectureHints(null, null, null, null, null, null, null, null);
    private static final Set<String> FIELDS = Set.of("cell", "vocab_size", "embed_dim", "hidden_size", "layers",
            "bidirectional", "activation", "linear_before_reset");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Parses the JSON; {@code problem} turns a message into the exception to throw (an option error for user input,
     * a file error for a file's metadata).
     */
    static ArchitectureHints parse(String text, Function<String, RuntimeException> problem) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw problem.apply("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw problem.apply("expected a JSON object such as {\"cell\": \"rnn\", \"activation\": \"relu\"}, found "
                    + text);
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw problem.apply("unknown field '" + name + "' (known: " + String.join(", ", FIELDS.stream()
                        .sorted().toList()) + ")");
            }
        }
        Reader r = new Reader(node, problem);
        String cell = r.text("cell");
        String activation = r.text("activation");
        CellType cellType = null;
        RnnActivation act = null;
        try {
            cellType = cell == null ? null : CellType.parse("cell", cell);
            act = activation == null ? null : RnnActivation.parse("activation", activation);
        } catch (RuntimeException e) {
            throw problem.apply(e.getMessage());
        }
        return new ArchitectureHints(cellType, r.integer("vocab_size", 1), r.integer("embed_dim", 0),
                r.integer("hidden_size", 1), r.integer("layers", 1), r.bool("bidirectional"), act,
                r.bool("linear_before_reset"));
    }

    private record Reader(JsonNode node, Function<String, RuntimeException> problem) {
        String text(String field) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isTextual()) {
                throw problem.apply("field '" + field + "' must be a string, found " + v);
            }
            return v.textValue();
        }

        Integer integer(String field, int min) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isInt() || v.intValue() < min) {
                throw problem.apply("field '" + field + "' must be an integer of at least " + min + ", found " + v);
            }
            return v.intValue();
        }

        Boolean bool(String field) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isBoolean()) {
                throw problem.apply("field '" + field + "' must be true or false, found " + v);
            }
            return v.booleanValue();
        }
    }
}
