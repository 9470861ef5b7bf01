package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lacuna.core.CellType;
import org.junit.jupiter.api.Test;

class OnnxGateOrderTest {

    /** One row per gate block, hidden 1, holding the block's position in Lacuna's order. */
    private static float[] blocks(int gates) {
        float[] v = new float[gates];
        for (int i = 0; i < gates; i++) {
            v[i] = i;
        }
        return v;
    }

    @Test
    void lstmGoesFromIfgoToIofc() {
        // Lacuna i,f,g,o = 0,1,2,3; ONNX i,o,f,c must read i,o,f,g.
        assertArrayEquals(new float[] {0, 3, 1, 2}, OnnxGateOrder.toOnnx(CellType.LSTM, blocks(4), 1, 1));
    }

    @Test
    void gruGoesFromRznToZrh() {
        assertArrayEquals(new float[] {1, 0, 2}, OnnxGateOrder.toOnnx(CellType.GRU, blocks(3), 1, 1));
    }

    @Test
    void rnnIsUnchanged() {
        float[] w = {1, 2, 3, 4, 5, 6};
        assertArrayEquals(w, OnnxGateOrder.toOnnx(CellType.RNN, w, 2, 3));
    }

    @Test
    void fromOnnxInvertsToOnnxForWholeMatrices() {
        int hidden = 3;
        int columns = 2;
        for (CellType cell : CellType.values()) {
            float[] w = new float[cell.gates() * hidden * columns];
            for (int i = 0; i < w.length; i++) {
                w[i] = i * 0.5f - 3;
            }
            float[] onnx = OnnxGateOrder.toOnnx(cell, w, hidden, columns);
            assertArrayEquals(w, OnnxGateOrder.fromOnnx(cell, onnx, hidden, columns), cell.id());
            for (int k = 0; k < cell.gates(); k++) {
                int lacuna = OnnxGateOrder.lacunaBlockAt(cell, k);
                assertEquals(w[lacuna * hidden * columns], onnx[k * hidden * columns], cell.id() + " block " + k);
            }
        }
    }

    @Test
    void refusesAWrongNumberOfValues() {
        assertThrows(IllegalArgumentException.class, () -> OnnxGateOrder.toOnnx(CellType.LSTM, new float[7], 1, 1));
    }
}
