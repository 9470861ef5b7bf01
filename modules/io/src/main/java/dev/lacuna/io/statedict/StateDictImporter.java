package dev.lacuna.io.statedict;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.npz.NpzModelFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the tensors of a PyTorch {@code state_dict} (from safetensors or npz) into a Lacuna {@link Model}.
 *
 * <p>Expected: an embedding {@code [V, E]} (or none, for one-hot input), an {@code nn.RNN}/{@code nn.GRU}/
 * {@code nn.LSTM} whose parameters are {@code <prefix>weight_ih_l<k>[_reverse]}, {@code weight_hh_…},
 * {@code bias_ih_…}, {@code bias_hh_…}, and a linear head {@code [V, H·dirs]} with its bias. The architecture is
 * inferred from names and shapes:
 * <ul>
 *   <li>hidden size H = the columns of {@code weight_hh_l0}; cell from its rows: H → RNN, 3H → GRU, 4H → LSTM;</li>
 *   <li>layers from the contiguous {@code _l<k>} indices; bidirectional from {@code _reverse} tensors;</li>
 *   <li>vocabulary size V from the head's rows; embedding width from the embedding, or 0 when there is no
 *       embedding and layer 0 reads V features (one-hot input).</li>
 * </ul>
 * What cannot be inferred comes from an optional architecture JSON with {@code lacuna.architecture}'s field names
 * (any subset; inferred fields are checked against it): an RNN's {@code activation} (default tanh, as
 * {@code nn.RNN}) and a GRU's {@code linear_before_reset} (default true, what {@code nn.GRU} computes).
 *
 * <p>Names: the recurrent prefix is detected when exactly one prefix carries {@code weight_ih_l0} ({@code rnn.},
 * {@code lstm.}, {@code encoder.rnn.}, ...); the embedding and head are found under common names
 * ({@link #EMBEDDING_CANDIDATES}, {@link #HEAD_CANDIDATES}) when exactly one is present; each can be set instead.
 * Tensors are renamed to Lacuna's canonical names ({@code rnn.}, {@code embedding.weight}, {@code head.*}).
 * Absent biases (PyTorch's {@code bias=False}) become zeros. Masks are taken from {@code <name>_mask} tensors, and
 * {@code torch.nn.utils.prune}'s {@code <name>_orig} + {@code <name>_mask} pairs become the masked weight. Any other
 * tensor is an error, since dropping it silently would change what the model computes.
 *
 * <p>Vocabulary: a Lacuna vocabulary (JSON array of code points, {@code lacuna.vocabulary} in the file's metadata
 * or {@link #withVocabulary}) when present. Otherwise a placeholder of V code points from Unicode's private use
 * area (U+E000 upwards, then U+F0000 upwards), which no real text contains, so that running the model on text fails
 * clearly instead of silently mapping characters to the wrong classes; such a model carries
 * {@value #PLACEHOLDER_VOCABULARY_KEY} = {@code true} in its metadata. Conversions between formats work either way.
 *
 * <p>Instances are immutable; the {@code with…} methods return changed copies.
 */
public final class StateDictImporter {
    /** Metadata key set to {@code true} on a model whose vocabulary is the private-use placeholder. */
    public static final String PLACEHOLDER_VOCABULARY_KEY = "lacuna.vocabulary_placeholder";
    /** Metadata key naming the file a plain state_dict was imported from. */
    public static final String IMPORTED_FROM_KEY = "lacuna.imported_from";
    /** Names tried for the embedding when none is set. */
    public static final List<String> EMBEDDING_CANDIDATES = List.of("embedding.weight", "embed.weight",
            "embeddings.weight", "emb.weight", "encoder.weight", "embed_tokens.weight");
    /** Module names tried for the head ({@code <name>.weight} and {@code <name>.bias}) when none is set. */
    public static final List<String> HEAD_CANDIDATES = List.of("head", "fc", "decoder", "linear", "out", "output",
            "proj", "lm_head", "classifier");

    private static final Pattern RECURRENT = Pattern.compile(
            "^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\\d+)(_reverse)?$");
    private static final String MASK_SUFFIX = ModelCheckpoint.MASK_SUFFIX;
    private static final String ORIG_SUFFIX = "_orig";
    /** Private use areas: the BMP's (6,400 code points), then plane 15's (65,534). */
    private static final int BMP_PRIVATE_USE = 0xE000;
    private static final int BMP_PRIVATE_USE_SIZE = 6400;
    private static final int PLANE15_PRIVATE_USE = 0xF0000;
    private static final int PLANE15_PRIVATE_USE_SIZE = 65534;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String rnnPrefix;
    private final String embeddingName;
    private final String headWeightName;
    private final String headBiasName;
    private final String architectureJson;
    private final Vocabulary vocabulary;

    private StateDictImporter(String rnnPrefix, String embeddingName, String headWeightName, String headBiasName,
                              String architectureJson, Vocabulary vocabulary) {
        this.rnnPrefix = rnnPrefix;
        this.embeddingName = embeddingName;
        this.headWeightName = headWeightName;
        this.headBiasName = headBiasName;
        this.architectureJson = architectureJson;
        this.vocabulary = vocabulary;
    }

    /** An importer that detects every name and takes PyTorch's defaults for what it cannot infer. */
    public static StateDictImporter defaults() {
        return new StateDictImporter(null, null, null, null, null, null);
    }

    /** Uses this prefix of the recurrent tensors (e.g. {@code "encoder.lstm."}; may be empty) instead of detecting. */
    public StateDictImporter withRnnPrefix(String prefix) {
        return new StateDictImporter(prefix, embeddingName, headWeightName, headBiasName, architectureJson,
                vocabulary);
    }

    /** Uses this tensor as the embedding instead of detecting one. */
    public StateDictImporter withEmbedding(String name) {
        return new StateDictImporter(rnnPrefix, name, headWeightName, headBiasName, architectureJson, vocabulary);
    }

    /** Uses these tensors as the head's weight and bias (the bias may be absent from the file: zeros). */
    public StateDictImporter withHead(String weightName, String biasName) {
        return new StateDictImporter(rnnPrefix, embeddingName, weightName, biasName, architectureJson, vocabulary);
    }

    /**
     * States architecture fields as a JSON object with {@code lacuna.architecture}'s field names, any subset, e.g.
     * {@code {"activation": "relu"}} or {@code {"linear_before_reset": false}}.
     *
     * @throws InvalidOptionException (option {@code --architecture}) when the JSON is malformed
     */
    public StateDictImporter withArchitectureJson(String json) {
        ArchitectureHints.parse(json, problem -> new InvalidOptionException("--architecture", problem));
        return new StateDictImporter(rnnPrefix, embeddingName, headWeightName, headBiasName, json, vocabulary);
    }

    /** Uses this vocabulary (it must have V symbols) instead of the file's or a placeholder. */
    public StateDictImporter withVocabulary(Vocabulary vocabulary) {
        return new StateDictImporter(rnnPrefix, embeddingName, headWeightName, headBiasName, architectureJson,
                vocabulary);
    }

    /**
     * Reads a {@code .safetensors} or {@code .npz} file. A Lacuna checkpoint (safetensors whose metadata has
     * {@code lacuna.architecture}) loads through {@link ModelCheckpoint#load} unchanged, ignoring this importer's
     * settings; a Lacuna npz keeps its stored architecture, vocabulary, masks and metadata.
     *
     * @throws InvalidOptionException when the extension is neither
     * @throws BadFileException       naming the file (and tensor) when it cannot be imported
     */
    public Model read(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            return new SafetensorsModelFormat(this).read(file);
        }
        if (name.endsWith(".npz")) {
            return new NpzModelFormat(this).read(file);
        }
        throw new InvalidOptionException("model file", file + ": a state_dict must be a .safetensors or .npz file");
    }

    /**
     * Builds a model from named tensors.
     *
     * @param source   the file they came from, named in every error
     * @param tensors  the {@code state_dict}, by key
     * @param metadata the file's string metadata: {@code lacuna.architecture} and {@code lacuna.vocabulary} are used
     *                 when present (a Lacuna file: the model keeps the other entries as its metadata); other entries
     *                 are copied to the model's metadata
     * @throws BadFileException naming {@code source} and the tensor when the tensors do not form a model
     */
    public Model importTensors(Path source, Map<String, StateDictTensor> tensors, Map<String, String> metadata) {
        return new Import(source, tensors, metadata).run();
    }

    /** One import; holds the file for messages and the tensors not yet claimed. */
    private final class Import {
        private final Path file;
        private final Map<String, String> metadata;
        private final Map<String, StateDictTensor> weights = new LinkedHashMap<>();
        private final Map<String, StateDictTensor> masks = new LinkedHashMap<>();
        private final Set<String> unclaimed = new LinkedHashSet<>();
        private final boolean lacunaFile;

        Import(Path file, Map<String, StateDictTensor> tensors, Map<String, String> metadata) {
            this.file = file;
            this.metadata = metadata;
            this.lacunaFile = metadata.containsKey(ModelCheckpoint.ARCHITECTURE_KEY);
            splitMasks(tensors);
            unclaimed.addAll(weights.keySet());
        }

        Model run() {
            ArchitectureHints hints = hints();
            Map<String, String> canonicalToSource = new LinkedHashMap<>();
            String prefix = recurrentPrefix();
            Recurrent rnn = recurrent(prefix, canonicalToSource);
            int vocab = head(rnn, canonicalToSource);
            int embedDim = embedding(rnn.inputWidth, vocab, canonicalToSource);
            if (!unclaimed.isEmpty()) {
                throw bad("unexpected tensor(s) " + unclaimed + ": not part of an embedding → "
                        + rnn.cell.id() + " → linear head model (set the names explicitly if they are the embedding "
                        + "or head, or remove them)");
            }

            Architecture arch = architecture(hints, rnn, vocab, embedDim);
            Map<String, Tensor> model = new LinkedHashMap<>();
            for (TensorSpec spec : arch.tensors()) {
                String sourceName = canonicalToSource.get(spec.name());
                float[] values = sourceName == null ? new float[(int) spec.elementCount()] // bias=False: zeros
                        : weights.get(sourceName).values().clone();
                model.put(spec.name(), new Tensor(spec.name(), spec.shape(), values));
            }
            Model result;
            try {
                result = new Model(arch, vocabulary(vocab), model);
            } catch (IllegalArgumentException e) {
                throw bad(e.getMessage());
            }
            applyMasks(result, canonicalToSource);
            copyMetadata(result);
            return result;
        }

        /** Claims the head weight (and bias, if present) and returns the vocabulary size, its rows. */
        private int head(Recurrent rnn, Map<String, String> canonicalToSource) {
            int headInputs = rnn.hidden * rnn.directions();
            String headWeight = headWeightName != null ? require(headWeightName, "head weight")
                    : detect(HEAD_CANDIDATES.stream().map(m -> m + ".weight").toList(), "head");
            if (headWeight == null) {
                throw bad("no head found (looked for " + String.join(", ", HEAD_CANDIDATES.stream()
                        .map(m -> m + ".weight").toList()) + "); set its name explicitly");
            }
            int[] hw = shape(headWeight);
            if (hw.length != 2 || hw[1] != headInputs) {
                throw bad("tensor '" + headWeight + "': expected the head [vocab, " + headInputs + "] (hidden "
                        + rnn.hidden + " × " + rnn.directions() + " directions), found " + Arrays.toString(hw));
            }
            int vocab = hw[0];
            claim(headWeight, Architecture.HEAD_WEIGHT, canonicalToSource);
            String headBias = headBiasName != null ? headBiasName
                    : headWeight.endsWith("weight")
                    ? headWeight.substring(0, headWeight.length() - "weight".length()) + "bias" : null;
            if (headBias != null && weights.containsKey(headBias)) {
                expectShape(headBias, vocab);
                claim(headBias, Architecture.HEAD_BIAS, canonicalToSource);
            }
            return vocab;
        }

        /** Separates {@code X_mask} tensors; {@code X_orig} (torch.nn.utils.prune) becomes {@code X}. */
        private void splitMasks(Map<String, StateDictTensor> tensors) {
            for (Map.Entry<String, StateDictTensor> e : tensors.entrySet()) {
                String name = e.getKey();
                if (name.endsWith(MASK_SUFFIX)) {
                    String base = name.substring(0, name.length() - MASK_SUFFIX.length());
                    if (tensors.containsKey(base) || tensors.containsKey(base + ORIG_SUFFIX)) {
                        masks.put(base, e.getValue());
                        continue;
                    }
                }
                if (name.endsWith(ORIG_SUFFIX)) {
                    String base = name.substring(0, name.length() - ORIG_SUFFIX.length());
                    if (tensors.containsKey(base + MASK_SUFFIX)) {
                        if (tensors.containsKey(base)) {
                            throw bad("both '" + base + "' and '" + name + "' are present; expected one weight");
                        }
                        weights.put(base, e.getValue());
                        continue;
                    }
                }
                weights.put(name, e.getValue());
            }
            for (StateDictTensor t : weights.values()) {
                if (!t.floating()) {
                    throw bad("tensor '" + t.name() + "' has type " + t.dtype() + "; weights must be floating point "
                            + "(float16, float32, float64, bfloat16)");
                }
            }
        }

        private ArchitectureHints hints() {
            if (architectureJson != null) {
                return ArchitectureHints.parse(architectureJson,
                        problem -> new InvalidOptionException("--architecture", problem));
            }
            String stored = metadata.get(ModelCheckpoint.ARCHITECTURE_KEY);
            if (stored != null) {
                return ArchitectureHints.parse(stored, problem -> bad(ModelCheckpoint.ARCHITECTURE_KEY + ": "
                        + problem));
            }
            return ArchitectureHints.NONE;
        }

        private String recurrentPrefix() {
            Set<String> prefixes = new TreeSet<>();
            for (String name : weights.keySet()) {
                Matcher m = RECURRENT.matcher(name);
                if (m.matches()) {
                    if (m.group(2).equals("weight_hr")) {
                        throw bad("tensor '" + name + "': LSTM projections (proj_size) are not supported");
                    }
                    prefixes.add(m.group(1));
                }
            }
            if (rnnPrefix != null) {
                if (!weights.containsKey(rnnPrefix + "weight_ih_l0")) {
                    throw bad("no tensor '" + rnnPrefix + "weight_ih_l0' for the recurrent prefix '" + rnnPrefix
                            + "'" + (prefixes.isEmpty() ? "" : " (prefixes found: " + quoted(prefixes) + ")"));
                }
                return rnnPrefix;
            }
            if (prefixes.isEmpty()) {
                throw bad("no recurrent layer found: expected tensors named like 'rnn.weight_ih_l0' and "
                        + "'rnn.weight_hh_l0' (PyTorch nn.RNN/GRU/LSTM), found " + quoted(weights.keySet()));
            }
            if (prefixes.size() > 1) {
                throw bad("recurrent tensors under several prefixes " + quoted(prefixes)
                        + "; Lacuna imports one recurrent stack, set its prefix explicitly");
            }
            return prefixes.iterator().next();
        }

        /** Reads the recurrent stack under {@code prefix}, checking every shape against H, G and the layer inputs. */
        private Recurrent recurrent(String prefix, Map<String, String> canonicalToSource) {
            String hh0 = require(prefix + "weight_hh_l0", "recurrent weight");
            int[] s = shape(hh0);
            if (s.length != 2 || s[1] < 1 || s[0] % s[1] != 0) {
                throw bad("tensor '" + hh0 + "': expected [G·H, H] with H the hidden size, found "
                        + Arrays.toString(s));
            }
            int hidden = s[1];
            int gates = s[0] / hidden;
            CellType cell = switch (gates) {
                case 1 -> CellType.RNN;
                case 3 -> CellType.GRU;
                case 4 -> CellType.LSTM;
                default -> throw bad("tensor '" + hh0 + "': " + s[0] + " rows are " + gates + " × its hidden size "
                        + hidden + "; expected 1 (RNN), 3 (GRU) or 4 (LSTM)");
            };
            boolean bidirectional = weights.containsKey(prefix + "weight_ih_l0_reverse");
            int layers = 0;
            while (weights.containsKey(prefix + "weight_ih_l" + layers)) {
                layers++;
            }
            String ih0 = require(prefix + "weight_ih_l0", "input weight");
            int[] in0 = shape(ih0);
            if (in0.length != 2) {
                throw bad("tensor '" + ih0 + "': expected a matrix, found shape " + Arrays.toString(in0));
            }
            Boolean hasBias = null;
            int rows = gates * hidden;
            int directions = bidirectional ? 2 : 1;
            for (int l = 0; l < layers; l++) {
                for (int d = 0; d < directions; d++) {
                    boolean reverse = d == 1;
                    String suffix = Architecture.suffix(l, reverse);
                    int input = l == 0 ? in0[1] : hidden * directions;
                    String ih = require(prefix + "weight_ih" + suffix, "input weight of layer " + l);
                    String hh = require(prefix + "weight_hh" + suffix, "recurrent weight of layer " + l);
                    expectShape(ih, rows, input);
                    expectShape(hh, rows, hidden);
                    claim(ih, Architecture.weightIh(l, reverse), canonicalToSource);
                    claim(hh, Architecture.weightHh(l, reverse), canonicalToSource);
                    for (String kind : new String[] {"bias_ih", "bias_hh"}) {
                        String bias = prefix + kind + suffix;
                        boolean present = weights.containsKey(bias);
                        if (hasBias == null) {
                            hasBias = present;
                        } else if (hasBias != present) {
                            throw bad("tensor '" + bias + "' is " + (present ? "present" : "missing")
                                    + " although other recurrent biases are " + (present ? "missing" : "present")
                                    + "; expected all (bias=True) or none (bias=False)");
                        }
                        if (present) {
                            expectShape(bias, rows);
                            claim(bias, "rnn." + kind + suffix, canonicalToSource);
                        }
                    }
                }
            }
            for (String name : unclaimed) {
                Matcher m = RECURRENT.matcher(name);
                if (m.matches() && m.group(1).equals(prefix)) {
                    throw bad("tensor '" + name + "' does not fit a " + layers + "-layer "
                            + (bidirectional ? "bidirectional" : "unidirectional") + " stack (is a layer or "
                            + "direction missing?)");
                }
            }
            return new Recurrent(cell, hidden, layers, bidirectional, in0[1]);
        }

        /** Claims the embedding, if any, and returns the embedding width (0 for one-hot input). */
        private int embedding(int inputWidth, int vocab, Map<String, String> canonicalToSource) {
            String name = embeddingName != null ? require(embeddingName, "embedding")
                    : detect(EMBEDDING_CANDIDATES, "embedding");
            if (name == null) {
                if (inputWidth != vocab) {
                    throw bad("layer 0 reads " + inputWidth + " features but no embedding was found (looked for "
                            + String.join(", ", EMBEDDING_CANDIDATES) + ") and the vocabulary has " + vocab
                            + " symbols, so it is not one-hot input either; set the embedding's name explicitly");
                }
                return 0;
            }
            expectShape(name, vocab, inputWidth);
            claim(name, Architecture.EMBEDDING, canonicalToSource);
            return inputWidth;
        }

        private Architecture architecture(ArchitectureHints hints, Recurrent rnn, int vocab, int embedDim) {
            check("cell", hints.cell(), rnn.cell, "the rows of the recurrent weights");
            check("vocab_size", hints.vocabSize(), vocab, "the rows of the head weight");
            check("embed_dim", hints.embedDim(), embedDim, "the embedding (0: none, one-hot input)");
            check("hidden_size", hints.hiddenSize(), rnn.hidden, "the columns of the recurrent weights");
            check("layers", hints.layers(), rnn.layers, "the _l<k> tensors");
            check("bidirectional", hints.bidirectional(), rnn.bidirectional, "the _reverse tensors");
            RnnActivation activation = hints.activation() != null ? hints.activation() : RnnActivation.TANH;
            boolean linearBeforeReset = hints.linearBeforeReset() == null || hints.linearBeforeReset();
            return new Architecture(rnn.cell, vocab, embedDim, rnn.hidden, rnn.layers, rnn.bidirectional,
                    activation, linearBeforeReset);
        }

        private <T> void check(String field, T stated, T inferred, String from) {
            if (stated != null && !stated.equals(inferred)) {
                String shown = inferred instanceof CellType c ? c.id() : String.valueOf(inferred);
                String said = stated instanceof CellType c ? c.id() : String.valueOf(stated);
                throw bad("the architecture says " + field + " = " + said + " but " + from + " give " + shown);
            }
        }

        private Vocabulary vocabulary(int vocab) {
            Vocabulary v = vocabulary;
            String where = "the given vocabulary";
            if (v == null && metadata.containsKey(ModelCheckpoint.VOCABULARY_KEY)) {
                v = parseVocabulary(metadata.get(ModelCheckpoint.VOCABULARY_KEY));
                where = ModelCheckpoint.VOCABULARY_KEY;
            }
            if (v == null) {
                return placeholderVocabulary(vocab);
            }
            if (v.size() != vocab) {
                throw bad(where + " has " + v.size() + " symbols but the head predicts " + vocab + " classes");
            }
            return v;
        }

        private Vocabulary placeholderVocabulary(int vocab) {
            if (vocab > BMP_PRIVATE_USE_SIZE + PLANE15_PRIVATE_USE_SIZE) {
                throw bad("a vocabulary of " + vocab + " symbols needs an explicit vocabulary (the placeholder "
                        + "covers at most " + (BMP_PRIVATE_USE_SIZE + PLANE15_PRIVATE_USE_SIZE) + ")");
            }
            int[] codePoints = new int[vocab];
            for (int i = 0; i < vocab; i++) {
                codePoints[i] = i < BMP_PRIVATE_USE_SIZE ? BMP_PRIVATE_USE + i
                        : PLANE15_PRIVATE_USE + (i - BMP_PRIVATE_USE_SIZE);
            }
            return new Vocabulary(codePoints);
        }

        private Vocabulary parseVocabulary(String text) {
            String key = ModelCheckpoint.VOCABULARY_KEY;
            JsonNode node;
            try {
                node = JSON.readTree(text);
            } catch (JsonProcessingException e) {
                throw bad(key + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isArray()) {
                throw bad(key + ": expected a JSON array of code points");
            }
            int[] codePoints = new int[node.size()];
            for (int i = 0; i < codePoints.length; i++) {
                JsonNode cp = node.get(i);
                if (!cp.isInt() || !Character.isValidCodePoint(cp.intValue())) {
                    throw bad(key + ": entry " + i + " must be a Unicode code point, found " + cp);
                }
                codePoints[i] = cp.intValue();
                // class i is the i-th code point in ascending order: an unsorted list would remap the classes
                if (i > 0 && codePoints[i] <= codePoints[i - 1]) {
                    throw bad(key + ": code points must be strictly ascending, found " + codePoints[i]
                            + " after " + codePoints[i - 1]);
                }
            }
            return new Vocabulary(codePoints);
        }

        private void applyMasks(Model model, Map<String, String> canonicalToSource) {
            Map<String, String> sourceToCanonical = new LinkedHashMap<>();
            canonicalToSource.forEach((canonical, source) -> sourceToCanonical.put(source, canonical));
            for (Map.Entry<String, StateDictTensor> e : masks.entrySet()) {
                String canonical = sourceToCanonical.get(e.getKey());
                StateDictTensor mask = e.getValue();
                String where = "mask '" + mask.name() + "'";
                if (canonical == null) {
                    throw bad(where + " belongs to no imported tensor");
                }
                Tensor t = model.tensor(canonical);
                if (!Arrays.equals(mask.shape(), t.shape())) {
                    throw bad(where + ": expected the shape of its tensor " + Arrays.toString(t.shape())
                            + ", found " + Arrays.toString(mask.shape()));
                }
                float[] v = mask.values();
                boolean[] keep = new boolean[v.length];
                for (int i = 0; i < v.length; i++) {
                    if (v[i] != 0f && v[i] != 1f) {
                        throw bad(where + ": expected only 0 (pruned) and 1 (kept), found " + v[i]
                                + " at element " + i);
                    }
                    keep[i] = v[i] == 1f;
                }
                model.setMask(canonical, keep);
            }
            model.applyMasks();
        }

        private void copyMetadata(Model model) {
            Set<String> reserved = Set.of(ModelCheckpoint.FORMAT_KEY, ModelCheckpoint.ARCHITECTURE_KEY,
                    ModelCheckpoint.VOCABULARY_KEY);
            metadata.forEach((key, value) -> {
                // "format": "pt" is what safetensors.torch writes; it describes the container, not the model
                if (!reserved.contains(key) && !(key.equals("format") && !lacunaFile)) {
                    model.metadata().put(key, value);
                }
            });
            if (!lacunaFile) {
                Path name = file.getFileName();
                model.metadata().put(IMPORTED_FROM_KEY, name == null ? file.toString() : name.toString());
                if (vocabulary == null && !metadata.containsKey(ModelCheckpoint.VOCABULARY_KEY)) {
                    model.metadata().put(PLACEHOLDER_VOCABULARY_KEY, "true");
                }
            }
        }

        /** The one candidate present, null when none is, an error when several are. */
        private String detect(List<String> candidates, String what) {
            List<String> present = new ArrayList<>();
            for (String c : candidates) {
                if (unclaimed.contains(c)) {
                    present.add(c);
                }
            }
            if (present.size() > 1) {
                throw bad("several tensors could be the " + what + ": " + quoted(present) + "; set the name explicitly");
            }
            return present.isEmpty() ? null : present.get(0);
        }

        private String require(String name, String role) {
            if (!weights.containsKey(name)) {
                throw bad("missing tensor '" + name + "' (" + role + ")");
            }
            return name;
        }

        private void claim(String source, String canonical, Map<String, String> canonicalToSource) {
            unclaimed.remove(source);
            canonicalToSource.put(canonical, source);
        }

        private int[] shape(String name) {
            return weights.get(name).shape();
        }

        private void expectShape(String name, int... expected) {
            int[] actual = shape(name);
            if (!Arrays.equals(actual, expected)) {
                throw bad("tensor '" + name + "': expected shape " + Arrays.toString(expected) + ", found "
                        + Arrays.toString(actual) + " (pass an architecture JSON if the model is not an embedding → "
                        + "RNN/GRU/LSTM → linear head)");
            }
        }

        private BadFileException bad(String problem) {
            return new BadFileException(file, problem);
        }
    }

    private static String quoted(java.util.Collection<String> names) {
        List<String> q = names.stream().map(n -> "'" + n + "'").toList();
        return q.size() <= 12 ? String.join(", ", q) : String.join(", ", q.subList(0, 12)) + ", ...";
    }

    private record Recurrent(CellType cell, int hidden, int layers, boolean bidirectional, int inputWidth) {
        int directions() {
            return bidirectional ? 2 : 1;
        }
    }
}
