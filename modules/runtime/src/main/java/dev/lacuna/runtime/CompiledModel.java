package dev.lacuna.runtime;

import dev.lacuna.core.Activations;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelFiles;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * A {@link Model} prepared for fast inference in plain Java: each weight matrix is stored sparse (compressed rows,
 * 16-bit indices) or dense, chosen per matrix by {@link KernelChoice}, and the model's dense arrays are not kept.
 *
 * <p>It computes exactly what the trainer's network computes (PyTorch's cell equations, gates packed LSTM i,f,g,o and
 * GRU r,z,n, both GRU {@code linear_before_reset} variants, tanh or ReLU RNN, embedding or one-hot input, stacked
 * layers), with masked-out weights treated as zero.
 *
 * <ul>
 *   <li>Step API ({@link #step(RecurrentState, int, float[])}): one character in, next-character logits out; the
 *       state carries the sequence. Unidirectional models only.</li>
 *   <li>{@link #score(String)}: bits per character of a text.</li>
 *   <li>{@link #generate(String, int, long, double)}: sample a continuation. Unidirectional models only.</li>
 * </ul>
 *
 * <p>A bidirectional model is a cloze model (see {@link Architecture}): it predicts each character from both sides,
 * so it can score text but cannot step or generate.
 *
 * <p>Characters outside the model's vocabulary are refused with an {@link InvalidOptionException} naming the
 * character and its offset. Mapping them to some "unknown" symbol would feed the model a class it never saw in that
 * place and silently distort the score, and a character model has no unknown symbol of its own.
 *
 * <p>Immutable and thread-safe; per-sequence buffers live in each {@link RecurrentState}.
 */
public final class CompiledModel {
    /**
     * Positions {@link #score} processes together (and the chunk after which a bidirectional model's right-to-left
     * state restarts), equal to the trainer's evaluation chunk so that scores agree with
     * {@code Evaluator.bpc(model, ids, 1, 100)}.
     */
    public static final int SCORE_WINDOW = 100;

    private static final double LN2 = Math.log(2);

    private final Architecture arch;
    private final Vocabulary vocabulary;
    private final KernelChoice choice;
    private final int threads;
    private final int hidden;
    /** Row-major {@code [vocab, embed]}, or null for one-hot input. */
    private final float[] embedding;
    private final Direction[][] directions;
    private final MatVec head;
    private final float[] headBias;

    /** The matrices and folded biases of one layer in one direction. */
    private static final class Direction {
        /**
         * RNN and LSTM layers whose W_ih and W_hh are both stored sparse (not a one-hot layer 0): both in one
         * matrix over [x; h], and then {@link #input} and {@link #recurrent} are null.
         */
        FusedSparseMatrix fused;
        /** Input matrix for an embedded or upper layer, or null when {@link #oneHot} or {@link #fused} is used. */
        MatVec input;
        OneHotInput oneHot;
        /** All gate rows of W_hh, except for a GRU: its reset and update rows only. Null when fused. */
        MatVec recurrent;
        /** GRU: the candidate rows of W_hh (applied to h or r ⊙ h); null otherwise. */
        MatVec candidate;
        /** b_ih + b_hh, except for a GRU candidate row, whose recurrent bias sits inside the reset product. */
        float[] inputBias;
        /** GRU: b_hn. */
        float[] candidateBias;
    }

    private CompiledModel(Model model, KernelChoice choice, int threads) {
        this.arch = model.architecture();
        this.vocabulary = model.vocabulary();
        this.choice = choice;
        this.threads = threads;
        this.hidden = arch.hiddenSize();
        this.embedding = arch.embedDim() > 0 ? masked(model, Architecture.EMBEDDING) : null;
        this.directions = new Direction[arch.layers()][arch.directions()];
        for (int l = 0; l < arch.layers(); l++) {
            for (int d = 0; d < arch.directions(); d++) {
                directions[l][d] = compile(model, l, d == 1);
            }
        }
        this.head = matrix(model, Architecture.HEAD_WEIGHT, 0, arch.vocabSize());
        this.headBias = model.tensor(Architecture.HEAD_BIAS).data().clone();
    }

    /** Compiles a model with {@link KernelChoice#AUTO}. */
    public static CompiledModel of(Model model) {
        return of(model, KernelChoice.AUTO);
    }

    /** Compiles a model for one thread; the model is copied, later changes to it are not seen. */
    public static CompiledModel of(Model model, KernelChoice choice) {
        return of(model, choice, 1);
    }

    /**
     * Compiles a model whose large products split their rows over up to {@code threads} threads: the calling thread
     * and {@code threads - 1} helper threads shared by all models compiled for that count (daemon threads that park
     * when idle). Products too small to gain stay on the calling thread. The results are the same for every thread
     * count. The model is copied, later changes to it are not seen.
     */
    public static CompiledModel of(Model model, KernelChoice choice, int threads) {
        if (model == null || choice == null) {
            throw new IllegalArgumentException("model and choice must be given");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive, found " + threads);
        }
        return new CompiledModel(model, choice, threads);
    }

    /**
     * Loads and compiles a model file of any format {@link ModelFiles} reads by extension: a compact
     * {@code .lacuna} file, a checkpoint, an {@code .npz} (and {@code .onnx} when lacuna-onnx is on the class path).
     *
     * @throws dev.lacuna.core.BadFileException when the file is missing or corrupt
     */
    public static CompiledModel load(Path file, KernelChoice choice) {
        return load(file, choice, 1);
    }

    /** Loads a model like {@link #load(Path, KernelChoice)} and compiles it for {@code threads} threads. */
    public static CompiledModel load(Path file, KernelChoice choice, int threads) {
        return of(ModelFiles.read(file), choice, threads);
    }

    private Direction compile(Model model, int layer, boolean reverse) {
        Direction dir = new Direction();
        int gateRows = arch.cell().gates() * hidden;
        String ih = Architecture.weightIh(layer, reverse);
        String hh = Architecture.weightHh(layer, reverse);
        boolean oneHot = layer == 0 && arch.embedDim() == 0;
        if (oneHot) {
            dir.oneHot = OneHotInput.of(model.tensor(ih).data(), model.mask(ih), gateRows, arch.vocabSize(), choice);
        } else if (fuses(model, ih, hh, layer)) {
            dir.fused = FusedSparseMatrix.of(model.tensor(ih).data(), model.mask(ih), model.tensor(hh).data(),
                    model.mask(hh), gateRows, arch.inputSize(layer), hidden, RowThreads.of(threads));
        } else {
            dir.input = matrix(model, ih, 0, gateRows);
        }
        float[] bIh = model.tensor(Architecture.biasIh(layer, reverse)).data();
        float[] bHh = model.tensor(Architecture.biasHh(layer, reverse)).data();
        dir.inputBias = new float[gateRows];
        if (arch.cell() == CellType.GRU) {
            dir.recurrent = matrix(model, hh, 0, 2 * hidden);
            dir.candidate = matrix(model, hh, 2 * hidden, 3 * hidden);
            for (int r = 0; r < gateRows; r++) {
                dir.inputBias[r] = r < 2 * hidden ? bIh[r] + bHh[r] : bIh[r];
            }
            dir.candidateBias = java.util.Arrays.copyOfRange(bHh, 2 * hidden, 3 * hidden);
        } else {
            if (dir.fused == null) {
                dir.recurrent = matrix(model, hh, 0, gateRows);
            }
            for (int r = 0; r < gateRows; r++) {
                dir.inputBias[r] = bIh[r] + bHh[r];
            }
        }
        return dir;
    }

    /**
     * Whether a layer's W_ih and W_hh go into one {@link FusedSparseMatrix}: both stored sparse, and a cell whose
     * recurrent product covers every gate row with h (a GRU's candidate rows multiply r ⊙ h, or are scaled by r,
     * so its recurrent matrix is split and stays apart).
     */
    private boolean fuses(Model model, String ih, String hh, int layer) {
        return arch.cell() != CellType.GRU && FusedSparseMatrix.fits(arch.inputSize(layer), hidden)
                && SparseMatrix.chosen(model.tensor(ih).data(), model.mask(ih), choice)
                && SparseMatrix.chosen(model.tensor(hh).data(), model.mask(hh), choice);
    }

    /** Rows {@code from..to-1} of a weight matrix, with its mask, as a kernel. */
    private MatVec matrix(Model model, String name, int from, int to) {
        int cols = model.tensor(name).dim(1);
        float[] data = model.tensor(name).data();
        boolean[] keep = model.mask(name);
        int lo = from * cols;
        int hi = to * cols;
        boolean whole = lo == 0 && hi == data.length;
        return MatVec.of(whole ? data : java.util.Arrays.copyOfRange(data, lo, hi),
                keep == null || whole ? keep : java.util.Arrays.copyOfRange(keep, lo, hi), to - from, cols, choice,
                threads);
    }

    private static float[] masked(Model model, String name) {
        float[] data = model.tensor(name).data().clone();
        boolean[] keep = model.mask(name);
        if (keep != null) {
            for (int i = 0; i < data.length; i++) {
                if (!keep[i]) {
                    data[i] = 0f;
                }
            }
        }
        return data;
    }

    public Architecture architecture() {
        return arch;
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public KernelChoice kernelChoice() {
        return choice;
    }

    /** Most threads one product uses. */
    public int threads() {
        return threads;
    }

    // ------------------------------------------------------------------------------------------- step API

    /** A zero state (the start of a sequence) with its own step buffers. */
    public RecurrentState newState() {
        return new RecurrentState(this, arch.cell(), arch.layers(), hidden);
    }

    /**
     * Reads one character and writes the logits of the next one.
     *
     * @param state  carried state, updated in place
     * @param token  class id of the character ({@link Vocabulary#indexOf})
     * @param logits receives {@code vocabSize} unnormalised log-probabilities
     * @throws LacunaException for a bidirectional model
     */
    public void step(RecurrentState state, int token, float[] logits) {
        checkStep(state, logits);
        if (token < 0 || token >= arch.vocabSize()) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary of "
                    + arch.vocabSize());
        }
        Workspace ws = stepWorkspace(state);
        ws.token[0] = token;
        window(ws.token, 0, null, 1, state, ws);
        System.arraycopy(ws.logits, 0, logits, 0, arch.vocabSize());
    }

    /**
     * Reads one input vector (an embedding row for an embedding model, any vector over the vocabulary for a one-hot
     * model, i.e. {@code architecture().inputSize(0)} values) and writes the logits of the next character.
     */
    public void step(RecurrentState state, float[] input, float[] logits) {
        checkStep(state, logits);
        if (input.length != arch.inputSize(0)) {
            throw new IllegalArgumentException("input has " + input.length + " values, the model reads "
                    + arch.inputSize(0));
        }
        Workspace ws = stepWorkspace(state);
        window(null, 0, input, 1, state, ws);
        System.arraycopy(ws.logits, 0, logits, 0, arch.vocabSize());
    }

    private void checkStep(RecurrentState state, float[] logits) {
        requireUnidirectional("step");
        if (state.owner != this) {
            throw new IllegalArgumentException("the state belongs to another model; create it with newState()");
        }
        if (logits.length != arch.vocabSize()) {
            throw new IllegalArgumentException("logits need " + arch.vocabSize() + " entries, got " + logits.length);
        }
    }

    private Workspace stepWorkspace(RecurrentState state) {
        if (state.stepWorkspace == null) {
            state.stepWorkspace = new Workspace(arch, 1);
        }
        return state.stepWorkspace;
    }

    private void requireUnidirectional(String what) {
        if (arch.bidirectional()) {
            throw new LacunaException("cannot " + what + " with a bidirectional model: it is a cloze model that"
                    + " predicts each character from both sides, so it can only score text");
        }
    }

    // ------------------------------------------------------------------------------------------- sequences

    /**
     * Class ids of a text.
     *
     * @throws InvalidOptionException (option {@code text}) naming the first character outside the vocabulary
     */
    public int[] encode(String text) {
        int[] ids = new int[text.codePointCount(0, text.length())];
        int n = 0;
        for (int offset = 0; offset < text.length(); ) {
            int cp = text.codePointAt(offset);
            int id = vocabulary.indexOf(cp);
            if (id < 0) {
                throw new InvalidOptionException("text", String.format(java.util.Locale.ROOT,
                        "character %s (U+%04X) at offset %d is not in the model's vocabulary of %d symbols",
                        printable(cp), cp, n, vocabulary.size()));
            }
            ids[n++] = id;
            offset += Character.charCount(cp);
        }
        return ids;
    }

    private static String printable(int cp) {
        return Character.isISOControl(cp) || Character.isWhitespace(cp) ? "" : "'" + Character.toString(cp) + "'";
    }

    /** Bits per character of a text; see {@link #score(int[])}. */
    public double score(String text) {
        return score(encode(text));
    }

    /**
     * Bits per character: the mean of −log₂ p(character) over every predicted position. A unidirectional model
     * predicts each character from the ones before it (all but the first are predicted); a bidirectional model
     * predicts every character from both sides within windows of {@link #SCORE_WINDOW} (its left-to-right state
     * carries across windows, its right-to-left state restarts), exactly as the trainer's evaluator does with one
     * stream.
     *
     * @throws InvalidOptionException (option {@code text}) when no character can be predicted
     */
    public double score(int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= arch.vocabSize()) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + arch.vocabSize());
            }
        }
        boolean cloze = arch.bidirectional();
        int positions = cloze ? ids.length : ids.length - 1;
        if (positions < 1) {
            throw new InvalidOptionException("text", "needs at least " + (cloze ? 1 : 2)
                    + " characters to score, found " + ids.length);
        }
        int shift = cloze ? 0 : 1;
        Workspace ws = new Workspace(arch, Math.min(SCORE_WINDOW, positions));
        RecurrentState state = newState();
        int vocab = arch.vocabSize();
        double nats = 0;
        for (int from = 0; from < positions; from += SCORE_WINDOW) {
            int len = Math.min(SCORE_WINDOW, positions - from);
            window(ids, from, null, len, state, ws);
            for (int t = 0; t < len; t++) {
                nats += crossEntropy(ws.logits, t, len, vocab, ids[from + t + shift]);
            }
        }
        return nats / positions / LN2;
    }

    /** −log softmax(logits)[target] at position t of an interleaved block, max-shifted, in double. */
    private static double crossEntropy(float[] logits, int t, int len, int vocab, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits[v * len + t]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            sum += Math.exp(logits[v * len + t] - max);
        }
        return max + Math.log(sum) - logits[target * len + t];
    }

    /**
     * Logits of every position of one sequence read from the zero state as a single window: {@code [t][vocab]}. For
     * a unidirectional model row t predicts character t+1; for a bidirectional one it predicts character t (cloze).
     */
    public float[][] sequenceLogits(int[] ids) {
        return sequenceLogits(ids, newState());
    }

    /**
     * As {@link #sequenceLogits(int[])}, with the left-to-right directions starting from {@code state}, which is
     * updated to the state after the last position.
     */
    public float[][] sequenceLogits(int[] ids, RecurrentState state) {
        if (state.owner != this) {
            throw new IllegalArgumentException("the state belongs to another model; create it with newState()");
        }
        if (ids.length == 0) {
            return new float[0][];
        }
        for (int id : ids) {
            if (id < 0 || id >= arch.vocabSize()) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + arch.vocabSize());
            }
        }
        int len = ids.length;
        Workspace ws = new Workspace(arch, len);
        window(ids, 0, null, len, state, ws);
        float[][] out = new float[len][arch.vocabSize()];
        for (int t = 0; t < len; t++) {
            for (int v = 0; v < arch.vocabSize(); v++) {
                out[t][v] = ws.logits[v * len + t];
            }
        }
        return out;
    }

    /**
     * Continues a text by sampling {@code n} characters.
     *
     * @param prefix      at least one character, all in the vocabulary
     * @param temperature 0 picks the most likely character every time; otherwise logits are divided by it
     * @param seed        same seed, same continuation
     * @throws InvalidOptionException for an empty prefix, negative n or temperature, unknown characters
     * @throws LacunaException        for a bidirectional model
     */
    public String generate(String prefix, int n, long seed, double temperature) {
        requireUnidirectional("generate text");
        if (n < 0) {
            throw new InvalidOptionException("--generate", "must not be negative, found " + n);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new InvalidOptionException("--temperature", "must be a finite number >= 0, found " + temperature);
        }
        int[] ids = encode(prefix);
        if (ids.length == 0) {
            throw new InvalidOptionException("text", "generation needs at least one character to start from");
        }
        RecurrentState state = newState();
        float[] logits = new float[arch.vocabSize()];
        for (int id : ids) {
            step(state, id, logits);
        }
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int next = sample(logits, temperature, random);
            out.appendCodePoint(vocabulary.codePoint(next));
            if (i + 1 < n) {
                step(state, next, logits);
            }
        }
        return out.toString();
    }

    static int sample(float[] logits, double temperature, SplittableRandom random) {
        int best = 0;
        for (int v = 1; v < logits.length; v++) {
            if (logits[v] > logits[best]) {
                best = v;
            }
        }
        if (temperature == 0) {
            return best;
        }
        double max = logits[best];
        double[] weights = new double[logits.length];
        double sum = 0;
        for (int v = 0; v < logits.length; v++) {
            weights[v] = Math.exp((logits[v] - max) / temperature);
            sum += weights[v];
        }
        double u = random.nextDouble() * sum;
        for (int v = 0; v < logits.length; v++) {
            u -= weights[v];
            if (u < 0) {
                return v;
            }
        }
        return best; // only reachable through rounding at the top end
    }

    // ------------------------------------------------------------------------------------------- the network

    /**
     * Runs {@code len} positions through every layer, layer by layer, and leaves their logits in
     * {@code ws.logits} ({@code [v * len + t]}). The input is either {@code ids[from..from+len)} or, for a single
     * step, one input vector. Left-to-right directions start from and update {@code state}; right-to-left
     * directions start from zero at the end of the window. Input projections and the head run as one batched
     * product over the window: each stored weight is read once for all positions.
     */
    private void window(int[] ids, int from, float[] vector, int len, RecurrentState state, Workspace ws) {
        float[] input = null;
        if (vector == null && embedding != null) {
            int embed = arch.embedDim();
            for (int t = 0; t < len; t++) {
                int row = ids[from + t] * embed;
                for (int e = 0; e < embed; e++) {
                    ws.embedded[e * len + t] = embedding[row + e];
                }
            }
            input = ws.embedded;
        }
        float[] output = null;
        for (int l = 0; l < arch.layers(); l++) {
            output = ws.layerOutputs[l & 1];
            // null only for a one-hot layer 0 reading ids, which gathers columns instead
            float[] layerInput = l == 0 && vector != null ? vector : input;
            for (int d = 0; d < directions[l].length; d++) {
                Direction dir = directions[l][d];
                if (!fusedStep(dir, len)) {
                    float[] p = ws.projections;
                    broadcast(dir.inputBias, p, len);
                    if (dir.oneHot != null) {
                        if (vector != null) {
                            dir.oneHot.multiplyAdd(vector, p);
                        } else {
                            for (int t = 0; t < len; t++) {
                                dir.oneHot.addColumn(ids[from + t], p, t, len);
                            }
                        }
                    } else if (dir.fused != null) {
                        dir.fused.multiplyAddInput(layerInput, p, len);
                    } else {
                        dir.input.multiplyAdd(layerInput, p, len);
                    }
                }
                recur(dir, l, d, len, layerInput, state, ws, output);
            }
            input = output;
        }
        float[] features = output;
        if (arch.bidirectional()) {
            features = clozeFeatures(output, len, ws.features);
        }
        broadcast(headBias, ws.logits, len);
        head.multiplyAdd(features, ws.logits, len);
    }

    /** {@code out[r * len + t] = bias[r]} for every position t: a bias for each vector of an interleaved batch. */
    private static void broadcast(float[] bias, float[] out, int len) {
        if (len == 1) {
            System.arraycopy(bias, 0, out, 0, bias.length); // the step path: one copy, not one fill per row
            return;
        }
        for (int r = 0; r < bias.length; r++) {
            java.util.Arrays.fill(out, r * len, (r + 1) * len, bias[r]);
        }
    }

    /** The cloze head input at t: left-to-right output at t−1 and right-to-left output at t+1, zero past an edge. */
    private float[] clozeFeatures(float[] top, int len, float[] features) {
        for (int i = 0; i < hidden; i++) {
            int left = i * len;
            features[left] = 0f;
            System.arraycopy(top, left, features, left + 1, len - 1);
            int right = (hidden + i) * len;
            System.arraycopy(top, right + 1, features, right, len - 1);
            features[right + len - 1] = 0f;
        }
        return features;
    }

    /**
     * A single position through a fused layer: its input and recurrent products run as one pass in
     * {@link #recur}, and the batched input projection is skipped.
     */
    private static boolean fusedStep(Direction dir, int len) {
        return dir.fused != null && len == 1;
    }

    /**
     * The recurrence of one layer and direction over the window; outputs go to rows {@code d·H ..} of out. The
     * input projections are already in {@code ws.projections}, except for a {@link #fusedStep}, which reads
     * {@code layerInput} itself.
     */
    private void recur(Direction dir, int layer, int d, int len, float[] layerInput, RecurrentState state,
            Workspace ws, float[] out) {
        boolean reverse = d == 1;
        float[] h = ws.h;
        float[] c = ws.c;
        if (reverse) {
            java.util.Arrays.fill(h, 0f);
            java.util.Arrays.fill(c, 0f);
        } else {
            System.arraycopy(state.h[layer], 0, h, 0, hidden);
            if (state.c != null) {
                System.arraycopy(state.c[layer], 0, c, 0, hidden);
            }
        }
        float[] z = ws.gates;
        int gateRows = z.length;
        float[] p = ws.projections;
        int row0 = d * hidden;
        float[] xh = ws.inputAndHidden;
        boolean fusedStep = fusedStep(dir, len);
        for (int step = 0; step < len; step++) {
            int t = reverse ? len - 1 - step : step;
            if (fusedStep) {
                int inputCols = dir.fused.inputCols();
                System.arraycopy(dir.inputBias, 0, z, 0, gateRows);
                System.arraycopy(layerInput, 0, xh, 0, inputCols);
                System.arraycopy(h, 0, xh, inputCols, hidden);
                dir.fused.multiplyAdd(xh, z);
            } else {
                for (int r = 0; r < gateRows; r++) {
                    z[r] = p[r * len + t];
                }
                if (dir.fused != null) {
                    System.arraycopy(h, 0, xh, dir.fused.inputCols(), hidden);
                    dir.fused.multiplyAddRecurrent(xh, z);
                } else {
                    dir.recurrent.multiplyAdd(h, z); // for a GRU its reset and update rows only
                }
            }
            switch (arch.cell()) {
                case RNN -> rnnStep(z, h, ws);
                case LSTM -> lstmStep(z, h, c, ws);
                case GRU -> gruStep(dir, z, h, ws);
            }
            for (int i = 0; i < hidden; i++) {
                out[(row0 + i) * len + t] = h[i];
            }
        }
        if (!reverse) {
            System.arraycopy(h, 0, state.h[layer], 0, hidden);
            if (state.c != null) {
                System.arraycopy(c, 0, state.c[layer], 0, hidden);
            }
        }
    }

    private void rnnStep(float[] z, float[] h, Workspace ws) {
        if (arch.activation() == RnnActivation.RELU) {
            for (int i = 0; i < hidden; i++) {
                h[i] = Math.max(z[i], 0f);
            }
        } else {
            Activations.tanh(z, 0, hidden, ws.activationWork);
            System.arraycopy(z, 0, h, 0, hidden);
        }
    }

    /** Gate nonlinearities one array pass each (see {@link Activations}), then the cell update. */
    private void lstmStep(float[] z, float[] h, float[] c, Workspace ws) {
        int n = hidden;
        float[] work = ws.activationWork;
        Activations.sigmoid(z, 0, 2 * n, work); // input and forget gates
        Activations.tanh(z, 2 * n, 3 * n, work); // cell candidate
        Activations.sigmoid(z, 3 * n, 4 * n, work); // output gate
        float[] cellTanh = ws.cellTanh;
        for (int i = 0; i < n; i++) {
            c[i] = z[n + i] * c[i] + z[i] * z[2 * n + i];
            cellTanh[i] = c[i];
        }
        Activations.tanh(cellTanh, 0, n, work);
        for (int i = 0; i < n; i++) {
            h[i] = z[3 * n + i] * cellTanh[i];
        }
    }

    private void gruStep(Direction dir, float[] z, float[] h, Workspace ws) {
        int n = hidden;
        float[] work = ws.activationWork;
        Activations.sigmoid(z, 0, 2 * n, work); // reset and update gates
        float[] recurrentCandidate = ws.candidate;
        System.arraycopy(dir.candidateBias, 0, recurrentCandidate, 0, n);
        if (arch.linearBeforeReset()) {
            // PyTorch/cuDNN: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
            dir.candidate.multiplyAdd(h, recurrentCandidate);
            for (int i = 0; i < n; i++) {
                z[2 * n + i] += z[i] * recurrentCandidate[i];
            }
        } else {
            // ONNX default: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
            float[] resetHidden = ws.resetHidden;
            for (int i = 0; i < n; i++) {
                resetHidden[i] = z[i] * h[i];
            }
            dir.candidate.multiplyAdd(resetHidden, recurrentCandidate);
            for (int i = 0; i < n; i++) {
                z[2 * n + i] += recurrentCandidate[i];
            }
        }
        Activations.tanh(z, 2 * n, 3 * n, work);
        for (int i = 0; i < n; i++) {
            float candidate = z[2 * n + i];
            h[i] = candidate + z[n + i] * (h[i] - candidate);
        }
    }

    // ------------------------------------------------------------------------------------------- accounting

    /** Stored non-zero weights over all matrices and the embedding. */
    public long nonZeroWeights() {
        long n = embedding == null ? 0 : countNonZero(embedding);
        n += head.nonZeros();
        for (Direction[] layer : directions) {
            for (Direction dir : layer) {
                if (dir.fused != null) {
                    n += dir.fused.nonZeros();
                } else {
                    n += (dir.input != null ? dir.input.nonZeros() : dir.oneHot.nonZeros()) + dir.recurrent.nonZeros();
                }
                n += dir.candidate != null ? dir.candidate.nonZeros() : 0;
            }
        }
        return n;
    }

    /** Bytes held for weights, indices and biases (array payloads); activations are per state or per call. */
    public long weightBytes() {
        long bytes = (embedding == null ? 0 : 4L * embedding.length) + head.bytes() + 4L * headBias.length;
        for (Direction[] layer : directions) {
            for (Direction dir : layer) {
                if (dir.fused != null) {
                    bytes += dir.fused.bytes();
                } else {
                    bytes += (dir.input != null ? dir.input.bytes() : dir.oneHot.bytes()) + dir.recurrent.bytes();
                }
                bytes += (dir.candidate != null ? dir.candidate.bytes() + 4L * dir.candidateBias.length : 0)
                        + 4L * dir.inputBias.length;
            }
        }
        return bytes;
    }

    /**
     * Number of weight matrices stored sparse (out of every input, recurrent and head matrix); a fused layer counts
     * as its two matrices.
     */
    public int sparseMatrices() {
        int n = head.sparse() ? 1 : 0;
        for (Direction[] layer : directions) {
            for (Direction dir : layer) {
                if (dir.fused != null) {
                    n += 2;
                } else {
                    n += (dir.input != null ? dir.input.sparse() : dir.oneHot.sparse()) ? 1 : 0;
                    n += dir.recurrent.sparse() ? 1 : 0;
                }
                n += dir.candidate != null && dir.candidate.sparse() ? 1 : 0;
            }
        }
        return n;
    }

    private static long countNonZero(float[] a) {
        long n = 0;
        for (float v : a) {
            if (v != 0f) {
                n++;
            }
        }
        return n;
    }
}
