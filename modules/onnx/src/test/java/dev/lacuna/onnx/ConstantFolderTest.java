package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Each evaluated op against values worked out by hand from the ONNX operator spec. */
class ConstantFolderTest {
    /** 0..5 as a [2, 3] matrix. */
    private static final Onnx.TensorProto X = OnnxTensors.toProto("x", new long[] {2, 3}, new float[] {0, 1, 2, 3, 4, 5});

    @Test
    void transposeSwapsAxes() {
        ConstValue v = fold(node("Transpose", "y", "x").addAttribute(ints("perm", 1, 0)));
        assertArrayEquals(new int[] {3, 2}, v.dims());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, v.floats());
    }

    @Test
    void sliceWithInputsNegativeIndicesAndSteps() {
        // x[:, ::-2] → columns 2 and 0
        ConstValue v = fold(node("Slice", "y", "x", "starts", "ends", "axes", "steps"),
                longs("starts", -1), longs("ends", Long.MIN_VALUE), longs("axes", 1), longs("steps", -2));
        assertArrayEquals(new int[] {2, 2}, v.dims());
        assertArrayEquals(new float[] {2, 0, 5, 3}, v.floats());
        // rows 1.. with ends past the end clamped
        ConstValue rows = fold(node("Slice", "y", "x", "starts", "ends", "axes"),
                longs("starts", 1), longs("ends", 100), longs("axes", 0));
        assertArrayEquals(new float[] {3, 4, 5}, rows.floats());
    }

    @Test
    void opset9SliceTakesAttributes() {
        ConstValue v = fold(node("Slice", "y", "x").addAttribute(ints("starts", 1)).addAttribute(ints("ends", 3))
                .addAttribute(ints("axes", 1)));
        assertArrayEquals(new float[] {1, 2, 4, 5}, v.floats());
    }

    @Test
    void concatGatherAndSplit() {
        ConstValue c = fold(node("Concat", "y", "x", "x").addAttribute(intAttr("axis", -1)));
        assertArrayEquals(new int[] {2, 6}, c.dims());
        assertArrayEquals(new float[] {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}, c.floats());
        ConstValue g = fold(node("Gather", "y", "x", "idx").addAttribute(intAttr("axis", 1)), longs("idx", 2, -3));
        assertArrayEquals(new float[] {2, 0, 5, 3}, g.floats());
        Onnx.NodeProto.Builder split = node("Split", "a", "x").addOutput("b").addAttribute(intAttr("axis", 1))
                .addAttribute(ints("split", 1, 2));
        assertArrayEquals(new float[] {1, 2, 4, 5}, fold(split.build(), "b").floats());
    }

    @Test
    void shapeOnlyOps() {
        ConstValue r = fold(node("Reshape", "y", "x", "shape"), longs("shape", 0, -1, 1));
        assertArrayEquals(new int[] {2, 3, 1}, r.dims());
        ConstValue u = fold(node("Unsqueeze", "y", "x", "axes"), longs("axes", 0));
        assertArrayEquals(new int[] {1, 2, 3}, u.dims());
        ConstValue s = fold(node("Squeeze", "y", "x").addAttribute(ints("axes", 0)), OnnxTensors.toProto("x",
                new long[] {1, 3}, new float[] {7, 8, 9}));
        assertArrayEquals(new int[] {3}, s.dims());
    }

    @Test
    void ifWithAConstantConditionTakesItsBranch() {
        Onnx.GraphProto then = Onnx.GraphProto.newBuilder().setName("then")
                .addNode(node("Identity", "t_out", "x")) // reads the outer scope's x
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("t_out")).build();
        Onnx.GraphProto otherwise = Onnx.GraphProto.newBuilder().setName("else")
                .addInitializer(OnnxTensors.toProto("e", new long[] {1}, new float[] {-1}))
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("e")).build();
        Onnx.NodeProto.Builder ifNode = node("If", "y", "cond")
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("then_branch").setG(then))
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("else_branch").setG(otherwise));
        Onnx.TensorProto yes = Onnx.TensorProto.newBuilder().setName("cond").setDataType(OnnxTensors.BOOL)
                .addInt32Data(1).build();
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, fold(ifNode, yes).floats());
        Onnx.TensorProto no = yes.toBuilder().setInt32Data(0, 0).build();
        assertArrayEquals(new float[] {-1}, fold(ifNode, no).floats());
    }

    @Test
    void runtimeInputsAreNotConstant() {
        Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().addInput(Onnx.ValueInfoProto.newBuilder().setName("in"))
                .addNode(node("Transpose", "y", "in")).build();
        assertNull(new ConstantFolder(graph, Path.of("m.onnx")).root().value("y"));
    }

    @Test
    void malformedOperandsNameTheNode() {
        BadFileException e = assertThrows(BadFileException.class,
                () -> fold(node("Transpose", "y", "x").addAttribute(ints("perm", 0, 0))));
        assertTrue(e.getMessage().contains("Transpose node 'Transpose_y'"), e.getMessage());
        assertThrows(BadFileException.class, () -> fold(node("Reshape", "y", "x", "shape"), longs("shape", 4, 2)));
        assertThrows(BadFileException.class, () -> fold(node("Gather", "y", "x", "idx"), longs("idx", 5)));
    }

    private static ConstValue fold(Onnx.NodeProto.Builder node, Onnx.TensorProto... extra) {
        return fold(node.build(), node.getOutput(0), extra);
    }

    private static ConstValue fold(Onnx.NodeProto node, String output, Onnx.TensorProto... extra) {
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().addNode(node);
        boolean replacesX = false;
        for (Onnx.TensorProto t : extra) {
            graph.addInitializer(t);
            replacesX |= t.getName().equals("x");
        }
        if (!replacesX) {
            graph.addInitializer(X);
        }
        return new ConstantFolder(graph.build(), Path.of("m.onnx")).root().value(output);
    }

    private static Onnx.NodeProto.Builder node(String op, String output, String... inputs) {
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(op + "_" + output)
                .addOutput(output);
        for (String in : inputs) {
            n.addInput(in);
        }
        return n;
    }

    private static Onnx.TensorProto longs(String name, long... values) {
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(OnnxTensors.INT64).addDims(values.length);
        for (long v : values) {
            t.addInt64Data(v);
        }
        return t.build();
    }

    private static Onnx.AttributeProto ints(String name, long... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static Onnx.AttributeProto intAttr(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setI(value)
                .setType(Onnx.AttributeProto.AttributeType.INT).build();
    }
}
