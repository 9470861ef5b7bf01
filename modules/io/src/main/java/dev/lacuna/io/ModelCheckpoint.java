package dev.lacuna.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Lacuna's checkpoint format ({@value #FORMAT}): a safetensors file holding a whole {@link Model}.
 *
 * <ul>
 *   <li>every tensor under its model name as F32;</li>
 *   <li>every mask as a U8 tensor (1 keep, 0 pruned) named {@code <tensor>_mask}, the name
 *       {@code torch.nn.utils.prune} gives its mask buffers;</li>
 *   <li>{@code __metadata__}: {@value #FORMAT_KEY}, {@value #ARCHITECTURE_KEY} (a JSON object with cell, vocab_size,
 *       embed_dim, hidden_size, layers, bidirectional, activation, linear_before_reset), {@value #VOCABULARY_KEY} (a
 *       JSON array of code points in ascending order), and every entry of {@link Model#metadata()} as is.</li>
 * </ul>
 */
public final class ModelCheckpoint {
    /** Value of {@value #FORMAT_KEY} this version writes and reads. */
    public static final String FORMAT = "lacuna-checkpoint/1";
    public static final String FORMAT_KEY = "lacuna.format";
    public static final String ARCHITECTURE_KEY = "lacuna.architecture";
    public static final String VOCABULARY_KEY = "lacuna.vocabulary";
    /** Suffix of a mask tensor's name. */
    public static final String MASK_SUFFIX = "_mask";

    private static final Set<String> RESERVED_KEYS = Set.of(FORMAT_KEY, ARCHITECTURE_KEY, VOCABULARY_KEY);
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelCheckpoint() {
    }

    /**
     * Saves a model atomically. Stored weights agree with the masks (masked-out weights are written as zeros); the
     * model itself is not changed. Entries of the model's metadata under the three reserved keys are replaced by the
     * values describing the model.
     *
     * @throws BadFileException naming {@code target} when it cannot be written
     */
    public static void save(Model model, Path target) {
        SafetensorsWriter writer = new SafetensorsWriter();
        for (Map.Entry<String, Tensor> e : model.tensors().entrySet()) {
            String name = e.getKey();
            Tensor tensor = e.getValue();
            boolean[] keep = model.mask(name);
            writer.addF32(name, tensor.shape(), keep == null ? tensor.data() : masked(tensor.data(), keep));
            if (keep != null) {
                writer.addU8(name + MASK_SUFFIX, tensor.shape(), maskBytes(keep));
            }
        }
        writer.putMetadata(model.metadata());
        writer.putMetadata(FORMAT_KEY, FORMAT);
        writer.putMetadata(ARCHITECTURE_KEY, architectureJson(model.architecture()));
        writer.putMetadata(VOCABULARY_KEY, vocabularyJson(model.vocabulary()));
        writer.write(target);
    }

    /**
     * Loads a checkpoint written by {@link #save}. F16, BF16 and F64 weights are accepted and converted to float32;
     * masks may be U8 or BOOL. Masks are applied after loading.
     *
     * @throws BadFileException naming {@code file} when it is missing, not a Lacuna checkpoint, or inconsistent
     */
    public static Model load(Path file) {
        SafetensorsFile content = SafetensorsFile.read(file);
        Map<String, String> meta = content.metadata();
        String architectureText = meta.get(ARCHITECTURE_KEY);
        if (architectureText == null) {
            throw new BadFileException(file, "not a Lacuna checkpoint: its metadata has no " + ARCHITECTURE_KEY
                    + " (a plain PyTorch state_dict is read with the import command, which takes the architecture "
                    + "as options)");
        }
        String format = meta.get(FORMAT_KEY);
        if (!FORMAT.equals(format)) {
            throw new BadFileException(file, FORMAT_KEY + ": expected '" + FORMAT + "', found "
                    + (format == null ? "no entry" : "'" + format + "'"));
        }
        Architecture architecture = new ArchitectureParser(file).parse(architectureText);
        // Every layer and direction stores four tensors, so the file bounds the depth it may declare; checked before
        // Architecture.tensors() builds a list of that length (a 1 KB file can declare 2^31 - 1 layers).
        long layerTensors = 4L * architecture.layers() * architecture.directions();
        if (layerTensors > content.tensors().size()) {
            throw new BadFileException(file, ARCHITECTURE_KEY + " declares " + architecture.layers() + " layer(s) ("
                    + layerTensors + " recurrent tensors), but the file holds only " + content.tensors().size()
                    + " tensors");
        }
        Vocabulary vocabulary = parseVocabulary(file, meta.get(VOCABULARY_KEY));

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (TensorSpec spec : architecture.tensors()) {
            SafetensorsTensor t = content.tensors().get(spec.name());
            if (t == null) {
                throw new BadFileException(file, "missing tensor '" + spec.name() + "' of shape "
                        + Arrays.toString(spec.shape()) + " required by the architecture");
            }
            if (!Arrays.equals(t.shape(), spec.shape())) {
                throw new BadFileException(file, "tensor '" + spec.name() + "': expected shape "
                        + Arrays.toString(spec.shape()) + ", found " + Arrays.toString(t.shape()));
            }
            tensors.put(spec.name(), new Tensor(spec.name(), spec.shape(), content.floats(spec.name())));
        }
        for (String name : content.tensors().keySet()) {
            boolean known = tensors.containsKey(name) || (name.endsWith(MASK_SUFFIX)
                    && tensors.containsKey(name.substring(0, name.length() - MASK_SUFFIX.length())));
            if (!known) {
                throw new BadFileException(file, "unexpected tensor '" + name + "' for a " + architecture.cell().id()
                        + " model with " + architecture.layers() + " layer(s)");
            }
        }

        Model model;
        try {
            model = new Model(architecture, vocabulary, tensors);
        } catch (IllegalArgumentException e) {
            throw new BadFileException(file, e.getMessage(), e);
        }
        for (String name : tensors.keySet()) {
            SafetensorsTensor mask = content.tensors().get(name + MASK_SUFFIX);
            if (mask != null) {
                model.setMask(name, readMask(file, mask, tensors.get(name)));
            }
        }
        model.applyMasks();
        meta.forEach((key, value) -> {
            if (!RESERVED_KEYS.contains(key)) {
                model.metadata().put(key, value);
            }
        });
        return model;
    }

    private static float[] masked(float[] values, boolean[] keep) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            if (!keep[i]) {
                out[i] = 0f;
            }
        }
        return out;
    }

    private static byte[] maskBytes(boolean[] keep) {
        byte[] out = new byte[keep.length];
        for (int i = 0; i < keep.length; i++) {
            out[i] = keep[i] ? (byte) 1 : (byte) 0;
        }
        return out;
    }

    private static boolean[] readMask(Path file, SafetensorsTensor mask, Tensor tensor) {
        String where = "mask '" + mask.name() + "'";
        if (mask.dtype() != SafetensorsDType.U8 && mask.dtype() != SafetensorsDType.BOOL) {
            throw new BadFileException(file, where + ": expected dtype U8 or BOOL, found " + mask.dtype());
        }
        if (!Arrays.equals(mask.shape(), tensor.shape())) {
            throw new BadFileException(file, where + ": expected the shape of its tensor "
                    + Arrays.toString(tensor.shape()) + ", found " + Arrays.toString(mask.shape()));
        }
        ByteBuffer bytes = mask.data();
        boolean[] keep = new boolean[mask.elementCount()];
        for (int i = 0; i < keep.length; i++) {
            byte b = bytes.get(i);
            if (b != 0 && b != 1) {
                throw new BadFileException(file, where + ": expected only 0 (pruned) and 1 (kept), found "
                        + (b & 0xFF) + " at element " + i);
            }
            keep[i] = b == 1;
        }
        return keep;
    }

    /** The {@code lacuna.architecture} JSON every Lacuna format stores: one spelling of the fields everywhere. */
    public static String architectureJson(Architecture a) {
        ObjectNode node = JSON.createObjectNode();
        node.put("cell", a.cell().id());
        node.put("vocab_size", a.vocabSize());
        node.put("embed_dim", a.embedDim());
        node.put("hidden_size", a.hiddenSize());
        node.put("layers", a.layers());
        node.put("bidirectional", a.bidirectional());
        node.put("activation", a.activation().id());
        node.put("linear_before_reset", a.linearBeforeReset());
        return toJson(node);
    }

    /** The {@code lacuna.vocabulary} JSON: the code points in ascending order (class i = the i-th). */
    public static String vocabularyJson(Vocabulary v) {
        ArrayNode node = JSON.createArrayNode();
        for (int cp : v.codePoints()) {
            node.add(cp);
        }
        return toJson(node);
    }

    private static String toJson(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Vocabulary parseVocabulary(Path file, String text) {
        if (text == null) {
            throw new BadFileException(file, "metadata has no " + VOCABULARY_KEY);
        }
        JsonNode node = parseJson(file, VOCABULARY_KEY, text);
        if (!node.isArray()) {
            throw new BadFileException(file, VOCABULARY_KEY + ": expected a JSON array of code points, found " + text);
        }
        int[] codePoints = new int[node.size()];
        for (int i = 0; i < codePoints.length; i++) {
            JsonNode cp = node.get(i);
            if (!cp.isInt() || cp.intValue() < 0 || cp.intValue() > Character.MAX_CODE_POINT) {
                throw new BadFileException(file, VOCABULARY_KEY + ": entry " + i
                        + " must be a Unicode code point (0 to 1114111), found " + cp);
            }
            codePoints[i] = cp.intValue();
            // Class i of the head is the i-th code point in ascending order; an unsorted list would silently
            // remap the classes, so it is rejected rather than sorted.
            if (i > 0 && codePoints[i] <= codePoints[i - 1]) {
                throw new BadFileException(file, VOCABULARY_KEY + ": code points must be strictly ascending, found "
                        + codePoints[i] + " after " + codePoints[i - 1] + " at entry " + i);
            }
        }
        return new Vocabulary(codePoints);
    }

    private static JsonNode parseJson(Path file, String key, String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new BadFileException(file, key + ": not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** Reads {@value #ARCHITECTURE_KEY}, naming the offending field in every error. */
    private static final class ArchitectureParser {
        private final Path file;
        private JsonNode node;

        ArchitectureParser(Path file) {
            this.file = file;
        }

        Architecture parse(String text) {
            node = parseJson(file, ARCHITECTURE_KEY, text);
            if (!node.isObject()) {
                throw bad("expected a JSON object, found " + text);
            }
            CellType cell = parseEnum("cell", () -> CellType.parse("cell", text("cell")));
            RnnActivation activation = parseEnum("activation",
                    () -> RnnActivation.parse("activation", text("activation")));
            try {
                return new Architecture(cell, atLeast("vocab_size", 1), atLeast("embed_dim", 0),
                        atLeast("hidden_size", 1), atLeast("layers", 1), bool("bidirectional"), activation,
                        bool("linear_before_reset"));
            } catch (InvalidOptionException e) {
                throw bad(e.getMessage());
            }
        }

        private <T> T parseEnum(String field, java.util.function.Supplier<T> parse) {
            try {
                return parse.get();
            } catch (InvalidOptionException e) {
                throw bad("field '" + field + "': " + e.getMessage().substring(e.option().length() + 2));
            }
        }

        private JsonNode field(String name) {
            JsonNode value = node.get(name);
            if (value == null) {
                throw bad("missing field '" + name + "'");
            }
            return value;
        }

        private String text(String name) {
            JsonNode value = field(name);
            if (!value.isTextual()) {
                throw bad("field '" + name + "' must be a string, found " + value);
            }
            return value.textValue();
        }

        private int atLeast(String name, int min) {
            JsonNode value = field(name);
            if (!value.isInt() || value.intValue() < min) {
                throw bad("field '" + name + "' must be an integer of at least " + min + ", found " + value);
            }
            return value.intValue();
        }

        private boolean bool(String name) {
            JsonNode value = field(name);
            if (!value.isBoolean()) {
                throw bad("field '" + name + "' must be true or false, found " + value);
            }
            return value.booleanValue();
        }

        private BadFileException bad(String problem) {
            return new BadFileException(file, ARCHITECTURE_KEY + ": " + problem);
        }
    }
}
