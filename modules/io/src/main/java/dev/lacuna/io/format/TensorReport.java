package dev.lacuna.io.format;

/**
 * How one tensor is stored in a {@code .lacuna} file and what it costs.
 *
 * @param name          tensor name
 * @param shape         dimensions
 * @param masked        whether the tensor carries a pruning mask
 * @param layout        position layout: {@code all}, {@code bitmap} or {@code relative}
 * @param values        value coding: {@code f32}, {@code f16}, {@code f16planes} or {@code codebook<bits>}
 * @param elements      number of elements
 * @param stored        stored elements (kept weights of a masked tensor, else the non-zero ones; all for
 *                      {@code all})
 * @param fillers       filler symbols of the relative indices (gaps wider than the index width)
 * @param payloadBytes  bytes of the payload (position block plus value block)
 * @param positionBytes bytes of the position block, tables included
 * @param valueBytes    bytes of the value block, codebooks and tables included
 * @param indexStream   the relative-index stream, or null
 * @param codeStream    the value block's symbol stream (codebook codes, or the high bytes of f16 planes), or null
 */
public record TensorReport(String name, int[] shape, boolean masked, String layout, String values, long elements,
                           long stored, long fillers, long payloadBytes, long positionBytes, long valueBytes,
                           StreamStats indexStream, StreamStats codeStream) {
    public TensorReport {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorReport t && name.equals(t.name) && java.util.Arrays.equals(shape, t.shape)
                && masked == t.masked && layout.equals(t.layout) && values.equals(t.values) && elements == t.elements
                && stored == t.stored && fillers == t.fillers && payloadBytes == t.payloadBytes
                && positionBytes == t.positionBytes && valueBytes == t.valueBytes
                && java.util.Objects.equals(indexStream, t.indexStream)
                && java.util.Objects.equals(codeStream, t.codeStream);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(payloadBytes);
    }

    @Override
    public String toString() {
        return name + java.util.Arrays.toString(shape) + " " + encoding() + ", " + stored + " of " + elements
                + " stored, " + payloadBytes + " bytes";
    }

    /** Layout and value coding with their stream codings, e.g. {@code relative/huffman + codebook5/huffman}. */
    public String encoding() {
        return layout + (indexStream == null ? "" : "/" + indexStream.coding()) + " + " + values
                + (codeStream == null ? "" : "/" + codeStream.coding());
    }

    /** Bits of the value block (codebooks and tables included) per stored element. */
    public double bitsPerWeight() {
        return stored == 0 ? 0 : 8.0 * valueBytes / stored;
    }

    /** Bits of the position block (fillers and tables included) per stored element. */
    public double bitsPerIndex() {
        return stored == 0 ? 0 : 8.0 * positionBytes / stored;
    }

    /** Dense float32 size over payload size. */
    public double ratio() {
        return payloadBytes == 0 ? Double.POSITIVE_INFINITY : 4.0 * elements / payloadBytes;
    }
}
