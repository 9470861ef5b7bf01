package dev.lacuna.onnx;

import com.google.protobuf.ByteString;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scatter storage of a tensor whose stored values come from a small set, as a quantized model's do (k-means
 * weight sharing, Deep Compression §3; docs/format.md §6.2): a float32 codebook, one narrow code per stored weight
 * and the positions as narrow gaps (Deep Compression §4(a) relative indices), all rebuilt by standard operators:
 *
 * <pre>
 *   gaps  --unpack, Cast int32--> CumSum                                     --> positions [m]
 *   codes --unpack, Cast int32--> (+ K·(position / blockLength)) --> Gather(codebook, ·) --> values [m]
 *   ConstantOfShape([size]) --ScatterElements(positions, values)--> Reshape(dims)
 * </pre>
 *
 * <p>Gap {@code g_0} is the first position, {@code g_i = p_i − p_(i−1)}, so an inclusive CumSum yields the positions.
 * A gap wider than the stream's largest symbol {@code 2^w − 1} is bridged by filler entries at intermediate
 * positions; a filler's code points at a {@code +0.0} codebook entry, and since a filler's position lies strictly
 * between two stored weights it is a position whose weight is {@code +0.0} anyway, so scattering it changes nothing
 * and all positions stay distinct (ScatterElements leaves the result of duplicate indices undefined).
 *
 * <p>Each integer stream is either plain ({@code uint8} or {@code uint16}, then Cast) or bit-packed: ⌊64/b⌋ codes of
 * b bits per {@code uint64} word, unpacked with two {@code BitShift}s (left by a per-column amount, so the wanted
 * code lands in the top b bits and the codes above it fall off, then right by 64 − b), Cast, Reshape and Slice.
 * BitShift exists from opset 11 on; {@code BitwiseAnd} (opset 18) is avoided so the default opset 17 works.
 *
 * <p>The gap width is chosen on the data: for each width 1..16 the fillers are counted and the payload of gaps and
 * codes computed (a packed stream's few extra nodes estimated at {@value #PACKED_OVERHEAD} bytes). One codebook for
 * the whole tensor or one per block is then decided on the exact serialized sizes, and so is, by the caller,
 * codebook against plain scatter against dense.
 */
final class CodebookStorage {
    /** Codebooks up to 2^16 entries, so codes fit a uint16 stream (per-gate 8-bit codebooks can exceed 256). */
    static final int MAX_CODEBOOK = 1 << 16;
    private static final int MAX_GAP_BITS = 16;
    private static final int WORD_BITS = Long.SIZE;
    private static final int INITIALIZER_FIELD = 5;
    private static final int NODE_FIELD = 1;
    /** Bytes the shift tables and BitShift/Reshape/Slice nodes of a packed stream add, roughly (400-600). */
    private static final long PACKED_OVERHEAD = 400;

    private CodebookStorage() {
    }

    /**
     * The codebook form of a tensor, or null when it does not apply: nothing stored, or the stored values are not
     * shared: more distinct values than {@link #MAX_CODEBOOK}, or more than half as many as stored values (then a
     * codebook stands for at most two weights per entry, which is not weight sharing but a reordered copy of the
     * values).
     *
     * @param positions ascending linear positions of the stored (non-zero bit pattern) values
     * @param blocks    number of equal consecutive blocks that may have codebooks of their own (the gate blocks
     *                  of a recurrent matrix, which a per-gate quantized model shares values within), or 1
     */
    static SparseStorage.Fragment build(String name, long[] dims, float[] values, int[] positions, int blocks) {
        if (positions.length == 0) {
            return null;
        }
        SparseStorage.Fragment best = build(name, dims, values, positions, 1, false);
        if (blocks > 1 && values.length % blocks == 0) {
            SparseStorage.Fragment blocked = build(name, dims, values, positions, blocks, true);
            if (best == null || blocked != null && blocked.bytes() < best.bytes()) {
                best = blocked;
            }
        }
        return best;
    }

    /**
     * False when {@link #build} returns null for these values whatever the blocks: it needs at most
     * {@link #MAX_CODEBOOK} − blocks distinct values over all blocks together, and at most half as many as stored
     * values. Per-block tables together hold at least the tensor's distinct values, so counting those (and stopping
     * at the limit) decides it cheaply.
     *
     * @param stored the number of stored (non-zero bit pattern) values
     */
    static boolean mightApply(DenseValues values, long stored) {
        long limit = Math.min(MAX_CODEBOOK - 1, Math.max(1, stored / 2));
        return stored > 0 && !values.moreDistinctThan((int) limit);
    }

    /**
     * One candidate: with {@code blocked}, the codes are local to each of {@code blocks} blocks and the codebook is
     * the blocks' tables one after another, each padded to the largest; the graph adds {@code K · (position /
     * blockLength)} to a code before the Gather. Narrower codes than one table over all blocks (a 5-bit per-gate
     * LSTM matrix holds 4·32 values: 8-bit codes for one table, 5 or 6 bits per block).
     */
    private static SparseStorage.Fragment build(String name, long[] dims, float[] values, int[] positions,
                                                int blocks, boolean blocked) {
        int[][] distinct = distinctBits(values, positions, blocks);
        if (distinct == null) {
            return null;
        }
        int perBlock = Arrays.stream(distinct).mapToInt(d -> d.length).max().orElse(0);
        Layout layout = cheapestLayout(positions, perBlock);
        Entries entries = entries(values, positions, distinct, values.length / blocks, layout.gapMax());

        Fragment out = new Fragment();
        String gaps = out.integerStream(name + ".gaps", entries.gaps(), layout.gapBits(), layout.gapsPacked());
        String codes = out.integerStream(name + ".codes", entries.codes(), entries.codeBits(),
                packedSmaller(entries.codes().length, entries.codeBits()));
        String positionsName = name + ".positions";
        out.node("CumSum", name + ".cumsum", List.of(gaps, out.scalarAxis(name + ".cumsum_axis")),
                List.of(positionsName));
        if (blocked) {
            String block = name + ".block";
            String offset = name + ".block_offset";
            String index = name + ".code_index";
            out.node("Div", name + ".block_of", List.of(positionsName,
                    out.int32Scalar(name + ".block_length", values.length / blocks)), List.of(block));
            out.node("Mul", name + ".block_start", List.of(block,
                    out.int32Scalar(name + ".block_entries", entries.tableSize())), List.of(offset));
            out.node("Add", name + ".global_code", List.of(codes, offset), List.of(index));
            codes = index;
        }
        String codebook = name + ".codebook";
        out.initializers.add(OnnxTensors.toProto(codebook, new long[] {entries.codebook().length},
                entries.codebook()));
        String gathered = name + ".values";
        out.node("Gather", name + ".decode", List.of(codebook, codes), List.of(gathered),
                OnnxGraphBuilder.attribute("axis", 0));

        boolean reshape = dims.length != 1;
        String flat = reshape ? name + ".flat" : name;
        String size = name + ".size";
        out.initializers.add(OnnxGraphBuilder.int64Tensor(size, values.length));
        String zeros = name + ".zeros";
        out.node("ConstantOfShape", name + ".zeros_node", List.of(size), List.of(zeros));
        out.node("ScatterElements", name + ".scatter", List.of(zeros, positionsName, gathered), List.of(flat),
                OnnxGraphBuilder.attribute("axis", 0));
        if (reshape) {
            String shape = name + ".shape";
            out.initializers.add(OnnxGraphBuilder.int64Tensor(shape, dims));
            out.node("Reshape", name + ".reshape", List.of(flat, shape), List.of(name));
        }
        return out.fragment(entries.codebook().length);
    }

    /**
     * Per block, the distinct raw bit patterns of its stored values, sorted; null when the values are not shared
     * (see {@link #build(String, long[], float[], int[], int)}).
     */
    private static int[][] distinctBits(float[] values, int[] positions, int blocks) {
        int blockLength = values.length / blocks;
        List<Set<Integer>> seen = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            seen.add(new HashSet<>());
        }
        long total = 0;
        for (int p : positions) {
            if (seen.get(p / blockLength).add(Float.floatToRawIntBits(values[p]))) {
                total++;
                // one slot per block stays free for the +0.0 entry fillers need
                if (total + blocks > MAX_CODEBOOK || total > 1 && 2 * total > positions.length) {
                    return null;
                }
            }
        }
        int[][] out = new int[blocks][];
        for (int b = 0; b < blocks; b++) {
            out[b] = seen.get(b).stream().mapToInt(Integer::intValue).sorted().toArray();
        }
        return out;
    }

    /** How the gap stream is laid out: its symbol width and whether it is bit-packed. */
    private record Layout(int gapBits, boolean gapsPacked) {
        long gapMax() {
            return (1L << gapBits) - 1;
        }
    }

    /**
     * The gap width and layout with the fewest payload bytes for gaps and codes together. Narrow gaps need more
     * fillers (each costing a gap and a code), wide gaps cost bits on every entry; the payload estimate is exact
     * for the data, the few nodes of a packed stream are counted as {@link #PACKED_OVERHEAD} bytes.
     */
    private static Layout cheapestLayout(int[] positions, int distinct) {
        Layout best = null;
        long bestBytes = Long.MAX_VALUE;
        for (int bits = 1; bits <= MAX_GAP_BITS; bits++) {
            long fillers = fillers(positions, (1L << bits) - 1);
            long m = positions.length + fillers;
            int codeBits = bitsFor(distinct + (fillers > 0 ? 1 : 0));
            long codeBytes = Math.min(plainBytes(m, codeBits), packedBytes(m, codeBits));
            long packed = packedBytes(m, bits) + codeBytes;
            if (packed < bestBytes) {
                bestBytes = packed;
                best = new Layout(bits, true);
            }
            if (bits == Byte.SIZE || bits == Short.SIZE) {
                long plain = plainBytes(m, bits) + codeBytes;
                if (plain <= bestBytes) {
                    bestBytes = plain;
                    best = new Layout(bits, false);
                }
            }
        }
        return best;
    }

    private static long fillers(int[] positions, long max) {
        long count = 0;
        long previous = 0;
        for (int p : positions) {
            long gap = p - previous;
            if (gap > max) {
                count += (gap - 1) / max;
            }
            previous = p;
        }
        return count;
    }

    /**
     * Gaps, codes and codebook of every entry, fillers included; the codebook is {@code blocks} tables of
     * {@code tableSize} entries.
     */
    private record Entries(int[] gaps, int[] codes, float[] codebook, int tableSize, int codeBits) {
    }

    private static Entries entries(float[] values, int[] positions, int[][] distinct, int blockLength, long gapMax) {
        boolean fillers = fillers(positions, gapMax) > 0;
        int tableSize = Arrays.stream(distinct).mapToInt(d -> d.length).max().orElse(0) + (fillers ? 1 : 0);
        float[] codebook = new float[Math.multiplyExact(distinct.length, tableSize)];
        List<Map<Integer, Integer>> codeOf = new ArrayList<>();
        for (int b = 0; b < distinct.length; b++) {
            int[] table = fillers ? withZero(distinct[b]) : distinct[b];
            Map<Integer, Integer> codes = new HashMap<>();
            for (int i = 0; i < table.length; i++) {
                codebook[b * tableSize + i] = Float.intBitsToFloat(table[i]);
                codes.put(table[i], i);
            }
            codeOf.add(codes); // entries past the table's end stay +0.0 and are never addressed
        }
        int m = Math.toIntExact(positions.length + fillers(positions, gapMax));
        int[] gaps = new int[m];
        int[] codes = new int[m];
        int k = 0;
        long previous = 0;
        for (int p : positions) {
            long gap = p - previous;
            while (gap > gapMax) {
                previous += gapMax;
                gaps[k] = (int) gapMax;
                codes[k++] = codeOf.get((int) (previous / blockLength)).get(0);
                gap -= gapMax;
            }
            gaps[k] = (int) gap;
            codes[k++] = codeOf.get(p / blockLength).get(Float.floatToRawIntBits(values[p]));
            previous = p;
        }
        return new Entries(gaps, codes, codebook, tableSize, bitsFor(tableSize));
    }

    private static int[] withZero(int[] distinct) {
        int[] out = Arrays.copyOf(distinct, distinct.length + 1);
        out[distinct.length] = 0; // +0.0; never among the stored values, which have non-zero bit patterns
        Arrays.sort(out);
        return out;
    }

    /** Bits that address {@code count} codebook entries (at least 1). */
    static int bitsFor(int count) {
        return Math.max(1, Integer.SIZE - Integer.numberOfLeadingZeros(count - 1));
    }

    private static long plainBytes(long count, int bits) {
        return count * (bits <= Byte.SIZE ? 1 : 2);
    }

    private static long packedBytes(long count, int bits) {
        long perWord = WORD_BITS / bits;
        return (count + perWord - 1) / perWord * Long.BYTES + PACKED_OVERHEAD;
    }

    private static boolean packedSmaller(int count, int bits) {
        return packedBytes(count, bits) < plainBytes(count, bits);
    }

    /** The initializers and nodes of one codebook tensor under construction. */
    private static final class Fragment {
        private final List<Onnx.TensorProto> initializers = new ArrayList<>();
        private final List<Onnx.NodeProto> nodes = new ArrayList<>();

        void node(String opType, String nodeName, List<String> inputs, List<String> outputs,
                  Onnx.AttributeProto... attributes) {
            nodes.add(OnnxGraphBuilder.node(opType, nodeName, inputs, outputs, List.of(attributes)));
        }

        /** A 0-D int32 initializer, the operand of an element-wise operation on int32 positions and codes. */
        String int32Scalar(String scalarName, int value) {
            initializers.add(Onnx.TensorProto.newBuilder().setName(scalarName)
                    .setDataType(Onnx.TensorProto.DataType.INT32_VALUE).addInt32Data(value).build());
            return scalarName;
        }

        /** A 0-D int64 initializer holding 0, the axis input CumSum takes. */
        String scalarAxis(String axisName) {
            initializers.add(Onnx.TensorProto.newBuilder().setName(axisName)
                    .setDataType(Onnx.TensorProto.DataType.INT64_VALUE).addInt64Data(0).build());
            return axisName;
        }

        /**
         * Adds {@code values} (each below 2^bits) as a stream and the nodes that decode it; returns the name of
         * the decoded int32 [count] tensor.
         */
        String integerStream(String stream, int[] values, int bits, boolean packed) {
            String decoded = stream + ".int32";
            Onnx.AttributeProto toInt32 = OnnxGraphBuilder.attribute("to", Onnx.TensorProto.DataType.INT32_VALUE);
            if (!packed) {
                initializers.add(unsignedTensor(stream, values, bits <= Byte.SIZE ? 1 : 2));
                node("Cast", stream + ".cast", List.of(stream), List.of(decoded), toInt32);
                return decoded;
            }
            int perWord = WORD_BITS / bits;
            int words = (values.length + perWord - 1) / perWord;
            long[] packedWords = new long[words];
            for (int i = 0; i < values.length; i++) {
                packedWords[i / perWord] |= (long) values[i] << (i % perWord * bits);
            }
            long[] leftShifts = new long[perWord];
            for (int j = 0; j < perWord; j++) {
                leftShifts[j] = WORD_BITS - (long) (j + 1) * bits;
            }
            initializers.add(uint64Tensor(stream, new long[] {words, 1}, packedWords));
            initializers.add(uint64Tensor(stream + ".left", new long[] {perWord}, leftShifts));
            initializers.add(uint64Tensor(stream + ".right", new long[] {1}, new long[] {WORD_BITS - bits}));
            // [words, 1] << [perWord] broadcasts to [words, perWord]: column j holds code j of each word on top
            node("BitShift", stream + ".align", List.of(stream, stream + ".left"), List.of(stream + ".aligned"),
                    OnnxGraphBuilder.attribute("direction", "LEFT"));
            node("BitShift", stream + ".unpack", List.of(stream + ".aligned", stream + ".right"),
                    List.of(stream + ".unpacked"), OnnxGraphBuilder.attribute("direction", "RIGHT"));
            String cast = stream + ".unpacked_int32";
            node("Cast", stream + ".cast", List.of(stream + ".unpacked"), List.of(cast), toInt32);
            boolean padded = (long) words * perWord != values.length;
            String flat = padded ? stream + ".padded" : decoded;
            node("Reshape", stream + ".flatten", List.of(cast, int64s(stream + ".flat_shape", -1)), List.of(flat));
            if (padded) {
                node("Slice", stream + ".trim", List.of(flat, int64s(stream + ".starts", 0),
                        int64s(stream + ".ends", values.length)), List.of(decoded));
            }
            return decoded;
        }

        private String int64s(String tensorName, long... values) {
            initializers.add(OnnxGraphBuilder.int64Tensor(tensorName, values));
            return tensorName;
        }

        SparseStorage.Fragment fragment(int codebookSize) {
            long bytes = 0;
            for (Onnx.TensorProto t : initializers) {
                bytes += OnnxGraphBuilder.fieldBytes(INITIALIZER_FIELD, t);
            }
            for (Onnx.NodeProto n : nodes) {
                bytes += OnnxGraphBuilder.fieldBytes(NODE_FIELD, n);
            }
            return new SparseStorage.Fragment(List.copyOf(initializers), List.copyOf(nodes), null, bytes,
                    codebookSize);
        }
    }

    /** A 1-D UINT8 or UINT16 tensor, raw little-endian. */
    private static Onnx.TensorProto unsignedTensor(String name, int[] values, int bytesPerValue) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, bytesPerValue))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            if (bytesPerValue == 1) {
                bytes.put((byte) v);
            } else {
                bytes.putShort((short) v);
            }
        }
        int type = bytesPerValue == 1 ? Onnx.TensorProto.DataType.UINT8_VALUE : Onnx.TensorProto.DataType.UINT16_VALUE;
        return Onnx.TensorProto.newBuilder().setName(name).setDataType(type).addDims(values.length)
                .setRawData(ByteString.copyFrom(bytes.array())).build();
    }

    private static Onnx.TensorProto uint64Tensor(String name, long[] dims, long[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Long.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(Onnx.TensorProto.DataType.UINT64_VALUE).setRawData(ByteString.copyFrom(bytes.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }
}
