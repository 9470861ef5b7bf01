package dev.lacuna.io.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON header of format.md §4: architecture, vocabulary, metadata and provenance. */
final class HeaderJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HeaderJson() {
    }

    /** What a reader needs from the header. */
    record Content(Architecture architecture, Vocabulary vocabulary, Map<String, String> metadata, String precision) {
    }

    static byte[] write(Model model, EncodingOptions options) {
        ObjectNode root = JSON.createObjectNode();
        Architecture a = model.architecture();
        ObjectNode arch = root.putObject("architecture");
        arch.put("cell", a.cell().id());
        arch.put("vocab_size", a.vocabSize());
        arch.put("embed_dim", a.embedDim());
        arch.put("hidden_size", a.hiddenSize());
        arch.put("layers", a.layers());
        arch.put("bidirectional", a.bidirectional());
        arch.put("activation", a.activation().id());
        arch.put("linear_before_reset", a.linearBeforeReset());
        ArrayNode vocabulary = root.putArray("vocabulary");
        for (int cp : model.vocabulary().codePoints()) {
            vocabulary.add(cp);
        }
        ObjectNode metadata = root.putObject("metadata");
        model.metadata().forEach(metadata::put);

        Map<String, String> meta = model.metadata();
        ObjectNode provenance = root.putObject("provenance");
        provenance.put("toolkit_version", meta.getOrDefault("lacuna.version", "unknown"));
        provenance.put("method", meta.get("lacuna.method"));
        provenance.set("hyperparameters", jsonOrText(meta.get("lacuna.hyperparameters")));
        provenance.set("bpc", number(meta.get("lacuna.bpc_val")));
        provenance.put("sparsity", storedSparsity(model));
        ObjectNode encoding = provenance.putObject("encoding");
        encoding.put("precision", options.precision().id());
        encoding.put("bits", options.bits());
        encoding.put("huffman", options.huffman());
        encoding.put("index_bits", options.indexBits());
        encoding.put("codebook", options.perGateCodebooks() ? "gate" : "tensor");
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render the header", e);
        }
    }

    static Content read(Cursor in, byte[] bytes) {
        JsonNode root;
        try {
            root = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw in.fail("not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw in.fail("expected a JSON object");
        }
        Fields f = new Fields(in, root);
        JsonNode archNode = f.object(root, "architecture");
        Fields arch = new Fields(in, archNode);
        Architecture architecture;
        try {
            architecture = new Architecture(CellType.parse("cell", arch.text("cell")), arch.integer("vocab_size", 1),
                    arch.integer("embed_dim", 0), arch.integer("hidden_size", 1), arch.integer("layers", 1),
                    arch.bool("bidirectional"), RnnActivation.parse("activation", arch.text("activation")),
                    arch.bool("linear_before_reset"));
        } catch (InvalidOptionException e) {
            throw in.fail("architecture: " + e.getMessage());
        }
        JsonNode vocabNode = root.get("vocabulary");
        if (vocabNode == null || !vocabNode.isArray()) {
            throw in.fail("field 'vocabulary' must be an array of code points");
        }
        int[] codePoints = new int[vocabNode.size()];
        for (int i = 0; i < codePoints.length; i++) {
            JsonNode cp = vocabNode.get(i);
            if (!cp.isInt() || cp.intValue() < 0 || cp.intValue() > Character.MAX_CODE_POINT
                    || (i > 0 && cp.intValue() <= codePoints[i - 1])) {
                throw in.fail("vocabulary entry " + i + " must be a code point above the previous one, found " + cp);
            }
            codePoints[i] = cp.intValue();
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode metaNode = f.object(root, "metadata");
        for (var e : metaNode.properties()) {
            if (!e.getValue().isTextual()) {
                throw in.fail("metadata '" + e.getKey() + "' must be a string, found " + e.getValue());
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        JsonNode precision = root.path("provenance").path("encoding").path("precision");
        return new Content(architecture, new Vocabulary(codePoints), metadata,
                precision.isTextual() ? precision.textValue() : "unknown");
    }

    /** Sparsity over the prunable tensors as stored (masked-out weights count as zeros), without copying them. */
    private static double storedSparsity(Model model) {
        long total = 0;
        long zeros = 0;
        for (TensorSpec spec : model.prunable(model.mask(Architecture.EMBEDDING) != null)) {
            float[] data = model.tensor(spec.name()).data();
            boolean[] keep = model.mask(spec.name());
            total += data.length;
            for (int i = 0; i < data.length; i++) {
                if (data[i] == 0f || (keep != null && !keep[i])) {
                    zeros++;
                }
            }
        }
        return total == 0 ? 0 : (double) zeros / total;
    }

    private static JsonNode jsonOrText(String text) {
        if (text == null) {
            return JSON.nullNode();
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(text);
        }
    }

    private static JsonNode number(String text) {
        try {
            return text == null ? JSON.nullNode() : JSON.getNodeFactory().numberNode(Double.parseDouble(text));
        } catch (NumberFormatException e) {
            return JSON.nullNode();
        }
    }

    /** Typed access to required fields, naming the field in every error. */
    private record Fields(Cursor in, JsonNode node) {
        JsonNode object(JsonNode parent, String name) {
            JsonNode value = parent.get(name);
            if (value == null || !value.isObject()) {
                throw in.fail("field '" + name + "' must be a JSON object");
            }
            return value;
        }

        String text(String name) {
            JsonNode value = node.get(name);
            if (value == null || !value.isTextual()) {
                throw in.fail("architecture field '" + name + "' must be a string, found " + value);
            }
            return value.textValue();
        }

        int integer(String name, int min) {
            JsonNode value = node.get(name);
            if (value == null || !value.isInt() || value.intValue() < min) {
                throw in.fail("architecture field '" + name + "' must be an integer of at least " + min + ", found "
                        + value);
            }
            return value.intValue();
        }

        boolean bool(String name) {
            JsonNode value = node.get(name);
            if (value == null || !value.isBoolean()) {
                throw in.fail("architecture field '" + name + "' must be true or false, found " + value);
            }
            return value.booleanValue();
        }
    }
}
