package dev.lacuna.io.format;

/** Every element is stored: the dense layout, which costs nothing. */
final class AllPositions implements PositionLayout {
    static final int ID = 0;
    static final AllPositions INSTANCE = new AllPositions();

    private AllPositions() {
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String label() {
        return "all";
    }

    @Override
    public Encoded encode(int[] positions, int elementCount) {
        if (positions != null && positions.length != elementCount) {
            throw new IllegalArgumentException("the dense layout stores every element");
        }
        return new Encoded(new byte[0], null, 0);
    }

    @Override
    public Decoded decode(Cursor in, int elementCount) {
        return new Decoded(null, elementCount, null, 0);
    }
}
