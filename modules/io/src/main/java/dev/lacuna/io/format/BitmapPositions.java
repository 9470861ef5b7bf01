package dev.lacuna.io.format;

/** One bit per element: cheapest when most elements are stored but not all (low sparsity). */
final class BitmapPositions implements PositionLayout {
    static final int ID = 1;
    static final BitmapPositions INSTANCE = new BitmapPositions();

    private BitmapPositions() {
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String label() {
        return "bitmap";
    }

    @Override
    public Encoded encode(int[] positions, int elementCount) {
        byte[] bits = new byte[(elementCount + 7) / 8];
        if (positions == null) {
            for (int i = 0; i < elementCount; i++) {
                bits[i >>> 3] |= (byte) (1 << (i & 7));
            }
        } else {
            for (int p : positions) {
                bits[p >>> 3] |= (byte) (1 << (p & 7));
            }
        }
        return new Encoded(bits, null, 0);
    }

    @Override
    public Decoded decode(Cursor in, int elementCount) {
        long start = in.offset();
        byte[] bits = in.bytes((elementCount + 7) / 8, "bitmap of " + elementCount + " elements");
        int stored = 0;
        for (byte b : bits) {
            stored += Integer.bitCount(b & 0xFF);
        }
        int tail = elementCount & 7;
        if (tail != 0 && (bits[bits.length - 1] & 0xFF) >>> tail != 0) {
            throw in.failAt(start + bits.length - 1, "bitmap bits past the last element must be zero");
        }
        int[] positions = new int[stored];
        int k = 0;
        for (int i = 0; i < elementCount; i++) {
            if ((bits[i >>> 3] & (1 << (i & 7))) != 0) {
                positions[k++] = i;
            }
        }
        return new Decoded(positions, stored, null, 0);
    }
}
