"""Writes token-echo.onnx: a stand-in with the input signature of a Lacuna ONNX export (one int64 input
`tokens` [time, batch]) and a float output, so that the bench command's ONNX Runtime path can be tested without
the exporter. Run with /usr/bin/python3 (Debian python3-onnx)."""
import onnx
from onnx import TensorProto, helper

tokens = helper.make_tensor_value_info("tokens", TensorProto.INT64, ["time", "batch"])
logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["time", "batch"])
graph = helper.make_graph([helper.make_node("Cast", ["tokens"], ["logits"], to=TensorProto.FLOAT)],
                          "token_echo", [tokens], [logits])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="lacuna-test")
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, "token-echo.onnx")
