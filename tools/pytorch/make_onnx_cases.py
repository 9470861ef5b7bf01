#!/usr/bin/python3
"""Write small PyTorch-exported ONNX character models, their state_dict twins and reference outputs.

Every case is a model with the structure of Lacuna's Architecture (embedding or one-hot input -> nn.RNN/GRU/LSTM
stack -> nn.Linear head over the vocabulary; a bidirectional model's head reads the cloze features described in
the javadoc of dev.lacuna.core.Architecture). For each case the script writes, into testdata/onnx:

    <case>.onnx          the exported graph (some cases are edited or built by hand with onnx.helper)
    <case>.onnx.data     external tensor data (only the external-data case)
    <case>.safetensors   the torch state_dict, as safetensors (written here; the safetensors package may be absent)
    <case>.npz           the torch state_dict, as numpy.savez would write it (fixed zip timestamps)
    <case>.json          architecture, vocabulary, exporter settings, input token ids, the logits and final
                         states PyTorch computed

Run with Debian's interpreter, which has torch 1.13, onnx 1.12 and numpy:
    /usr/bin/python3 tools/pytorch/make_onnx_cases.py [--out testdata/onnx]

Deterministic: each case seeds torch from its own fixed seed, computation runs on one thread, and the npz and
safetensors writers use fixed timestamps and a fixed order. See testdata/onnx/README.md for the case list.
"""
import argparse
import io
import json
import os
import sys
import zipfile

# One BLAS thread keeps summation order, and so the reference outputs, identical from run to run.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from charmodel import CharModel  # noqa: E402
from refjson import to_json, write_atomically  # noqa: E402

VOCAB, EMBED, HIDDEN, TIME, BATCH = 12, 6, 8, 7, 2
# Class i of the head is the i-th code point in ascending order (Lacuna's Vocabulary).
SYMBOLS = "\n .aehinorst"
assert len(SYMBOLS) == VOCAB and sorted(SYMBOLS) == list(SYMBOLS)
# PyTorch's default init keeps pre-activations where tanh and sigmoid are nearly linear; doubled weights make
# a wrong gate order or activation visible in the outputs (as in make_parity_cases.py).
WEIGHT_SCALE = 2.0


class ExportedModel(CharModel):
    """The shared CharModel with the flat signature torch.onnx.export traces: token ids in [T, B] (or [B, T] when
    batch_first) and optional initial states in; logits and final states out."""

    def __init__(self, cell, embed_dim, layers, bidirectional, activation, batch_first):
        super().__init__(cell, VOCAB, HIDDEN, embed_dim, layers, bidirectional, activation, batch_first)

    def forward(self, tokens, *initial_state):
        state = None
        if initial_state:
            state = tuple(initial_state) if self.cell == "lstm" else initial_state[0]
        logits, final = super().forward(tokens, state)
        if self.cell == "lstm":
            return logits, final[0], final[1]
        return logits, final


# ------------------------------------------------------------------------------------------------- cases

def case(seed, cell, opset, folded, layers=1, bidirectional=False, activation="tanh", embed_dim=EMBED,
         batch_first=False, initial_state_inputs=False, edit=None):
    return dict(seed=seed, cell=cell, opset=opset, folded=folded, layers=layers, bidirectional=bidirectional,
                activation=activation, embed_dim=embed_dim, batch_first=batch_first,
                initial_state_inputs=initial_state_inputs, edit=edit)


# name -> settings; each case has its own seed so that adding one leaves the others unchanged. Every cell kind
# appears at least once in each of: opset 14 folded, opset 17 unfolded, bidirectional, two layers.
CASES = {
    "lstm_o14_folded": case(1, "lstm", 14, True),
    "gru_o14_folded": case(2, "gru", 14, True),
    "rnn_tanh_o14_folded": case(3, "rnn", 14, True),
    "rnn_relu_o14_folded": case(4, "rnn", 14, True, activation="relu"),
    "lstm_o17_unfolded": case(5, "lstm", 17, False),
    "gru_o17_unfolded": case(6, "gru", 17, False),
    "rnn_tanh_o17_unfolded": case(7, "rnn", 17, False),
    "rnn_relu_o17_unfolded": case(8, "rnn", 17, False, activation="relu"),
    "lstm_bidir_o14_unfolded": case(9, "lstm", 14, False, bidirectional=True),
    "gru_bidir_o17_folded": case(10, "gru", 17, True, bidirectional=True),
    "rnn_tanh_bidir_o17_folded": case(11, "rnn", 17, True, bidirectional=True),
    "rnn_relu_bidir_o14_unfolded": case(12, "rnn", 14, False, bidirectional=True, activation="relu"),
    "lstm_2layer_o17_folded": case(13, "lstm", 17, True, layers=2),
    "gru_2layer_batchfirst_o14_folded": case(14, "gru", 14, True, layers=2, batch_first=True),
    "rnn_tanh_2layer_o14_unfolded": case(15, "rnn", 14, False, layers=2),
    "rnn_relu_2layer_o17_unfolded": case(16, "rnn", 17, False, layers=2, activation="relu"),
    "lstm_onehot_o14_folded": case(17, "lstm", 14, True, embed_dim=0),
    "lstm_h0c0_o14_folded": case(18, "lstm", 14, True, initial_state_inputs=True),
    "gru_h0_2layer_o17_unfolded": case(19, "gru", 17, False, layers=2, initial_state_inputs=True),
    "lstm_seqlens_o14_folded": case(20, "lstm", 14, True, edit="sequence_lens"),
    "lstm_if_head_o14_folded": case(21, "lstm", 14, True, edit="if_head"),
    "gru_constants_o14_folded": case(22, "gru", 14, True, edit="constants"),
    "lstm_external_o14_folded": case(23, "lstm", 14, True, edit="external_data"),
    "keras_lstm_o14": case(24, "lstm", 14, True, edit="keras"),
}

EDIT_NOTES = {
    None: "exported by torch.onnx.export",
    "sequence_lens": "torch export; the LSTM node's sequence_lens input bound by hand to graph input 'seq_lens' "
                     "(int32 [B]); feed the full length T for every row to get the reference outputs",
    "if_head": "torch export; the head weight (the MatMul's [H, V] operand) is produced by an If node on a "
               "constant-true initializer 'use_then': then_branch holds it in a Constant node, else_branch as an "
               "initializer (same values)",
    "constants": "torch export; every initializer moved into a Constant node",
    "external_data": "torch export saved with every tensor in <case>.onnx.data (size_threshold 0)",
    "keras": "built with onnx.helper in Keras/ONNX layout: Gather -> one LSTM node with ONNX gate order i,o,f,c, "
             "B [1, 8H] -> Squeeze -> MatMul (kernel [H, V]) -> Add; Keras-style tensor names",
}


# ------------------------------------------------------------------------------------------------ helpers

def build_model(spec):
    torch.manual_seed(spec["seed"])
    model = ExportedModel(spec["cell"], spec["embed_dim"], spec["layers"], spec["bidirectional"], spec["activation"],
                      spec["batch_first"])
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("embedding."):  # N(0,1) embeddings are already of order one
                p.mul_(WEIGHT_SCALE)
    model.eval()
    return model


def make_inputs(spec):
    tokens = torch.randint(VOCAB, (TIME, BATCH))  # canonical time-major ids
    state = []
    if spec["initial_state_inputs"]:
        shape = (spec["layers"] * (2 if spec["bidirectional"] else 1), BATCH, HIDDEN)
        # Uniform in ±0.8: clearly non-zero, so an importer that drops the state inputs fails the comparison.
        state.append((torch.rand(shape) * 2 - 1) * 0.8)
        if spec["cell"] == "lstm":
            state.append((torch.rand(shape) * 2 - 1) * 0.8)
    return tokens, state


def graph_io_names(spec):
    inputs = ["tokens"]
    if spec["initial_state_inputs"]:
        inputs += ["h0", "c0"] if spec["cell"] == "lstm" else ["h0"]
    outputs = ["logits", "h_n"] + (["c_n"] if spec["cell"] == "lstm" else [])
    return inputs, outputs


def export(model, spec, tokens, state, path):
    graph_tokens = tokens.t().contiguous() if spec["batch_first"] else tokens
    inputs, outputs = graph_io_names(spec)
    torch.onnx.export(model, (graph_tokens, *state), path, opset_version=spec["opset"],
                      do_constant_folding=spec["folded"], input_names=inputs, output_names=outputs)
    return onnx.load(path)


def reference(model, spec, tokens, state):
    graph_tokens = tokens.t().contiguous() if spec["batch_first"] else tokens
    with torch.no_grad():
        out = model(graph_tokens, *state)
    logits = out[0].transpose(0, 1) if spec["batch_first"] else out[0]  # always [T, B, V] in the JSON
    return logits, list(out[1:])


def value_info_of(array, name):
    return helper.make_tensor_value_info(name, numpy_helper.mapping.NP_TYPE_TO_TENSOR_TYPE[array.dtype],
                                         list(array.shape))


def edit_sequence_lens(m):
    nodes = [n for n in m.graph.node if n.op_type == "LSTM"]
    assert len(nodes) == 1, "sequence_lens case expects one LSTM node"
    node = nodes[0]
    while len(node.input) < 5:
        node.input.append("")
    node.input[4] = "seq_lens"
    m.graph.input.append(helper.make_tensor_value_info("seq_lens", TensorProto.INT32, [BATCH]))
    return m


def edit_if_head(m):
    initializers = {t.name: t for t in m.graph.initializer}
    matmuls = [n for n in m.graph.node if n.op_type == "MatMul" and n.input[1] in initializers]
    assert len(matmuls) == 1, "if_head case expects one MatMul reading an initializer (the head)"
    weight_name = matmuls[0].input[1]
    weight = numpy_helper.to_array(initializers[weight_name])
    m.graph.initializer.remove(initializers[weight_name])
    then_graph = helper.make_graph(
        [helper.make_node("Constant", [], ["head_w_then"], value=numpy_helper.from_array(weight, "head_w_then"))],
        "then_head", [], [value_info_of(weight, "head_w_then")])
    else_graph = helper.make_graph(
        [helper.make_node("Identity", ["head_w_else"], ["head_w_else_out"])],
        "else_head", [], [value_info_of(weight, "head_w_else_out")],
        initializer=[numpy_helper.from_array(weight, "head_w_else")])
    m.graph.initializer.append(numpy_helper.from_array(np.array(True), "use_then"))
    if_node = helper.make_node("If", ["use_then"], [weight_name], name="head_weight_if",
                               then_branch=then_graph, else_branch=else_graph)
    m.graph.node.insert(0, if_node)
    return m


def edit_constants(m):
    constants = [helper.make_node("Constant", [], [t.name], name="const_" + t.name.replace(":", "_"), value=t)
                 for t in m.graph.initializer]
    del m.graph.initializer[:]
    for i, node in enumerate(constants):
        m.graph.node.insert(i, node)
    # Initializers may also be listed as graph inputs (IR < 4 style); a Constant cannot be one.
    names = {n.output[0] for n in constants}
    kept = [i for i in m.graph.input if i.name not in names]
    del m.graph.input[:]
    m.graph.input.extend(kept)
    return m


def keras_lstm(model):
    """An LSTM graph in ONNX's own layout, as Keras converters write it: gates i,o,f,c, one B of [1, 8H]."""
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}

    def onnx_gates(w):  # PyTorch packs i,f,g,o; ONNX LSTM expects i,o,f,c (c is PyTorch's g)
        i, f, g, o = np.split(w, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    w = onnx_gates(sd["rnn.weight_ih_l0"])[None]
    r = onnx_gates(sd["rnn.weight_hh_l0"])[None]
    b = np.concatenate([onnx_gates(sd["rnn.bias_ih_l0"]), onnx_gates(sd["rnn.bias_hh_l0"])])[None]
    inits = [
        numpy_helper.from_array(sd["embedding.weight"], "sequential/embedding/embeddings:0"),
        numpy_helper.from_array(w, "sequential/lstm/W:0"),
        numpy_helper.from_array(r, "sequential/lstm/R:0"),
        numpy_helper.from_array(b, "sequential/lstm/B:0"),
        numpy_helper.from_array(np.ascontiguousarray(sd["head.weight"].T), "sequential/dense/kernel:0"),
        numpy_helper.from_array(sd["head.bias"], "sequential/dense/bias:0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axes"),
    ]
    nodes = [
        helper.make_node("Gather", ["sequential/embedding/embeddings:0", "tokens"], ["embedded"],
                         name="sequential/embedding/Gather"),
        helper.make_node("LSTM", ["embedded", "sequential/lstm/W:0", "sequential/lstm/R:0", "sequential/lstm/B:0"],
                         ["lstm_y", "h_n_full", "c_n_full"], name="sequential/lstm/LSTM", hidden_size=HIDDEN,
                         direction="forward"),
        helper.make_node("Squeeze", ["lstm_y", "squeeze_axes"], ["lstm_out"], name="sequential/lstm/Squeeze"),
        helper.make_node("MatMul", ["lstm_out", "sequential/dense/kernel:0"], ["dense_mm"],
                         name="sequential/dense/MatMul"),
        helper.make_node("Add", ["dense_mm", "sequential/dense/bias:0"], ["logits"], name="sequential/dense/Add"),
        helper.make_node("Identity", ["h_n_full"], ["h_n"]),
        helper.make_node("Identity", ["c_n_full"], ["c_n"]),
    ]
    graph = helper.make_graph(
        nodes, "keras_like_lstm",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, [TIME, BATCH])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [TIME, BATCH, VOCAB]),
         helper.make_tensor_value_info("h_n", TensorProto.FLOAT, [1, BATCH, HIDDEN]),
         helper.make_tensor_value_info("c_n", TensorProto.FLOAT, [1, BATCH, HIDDEN])],
        initializer=inits)
    m = helper.make_model(graph, producer_name="lacuna make_onnx_cases.py (keras-like)",
                          opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 7
    return m


def write_safetensors(state_dict, path):
    """safetensors: 8-byte little-endian header length, JSON header, raw little-endian data (state_dict order)."""
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in state_dict.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data buffer starts 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for c in chunks:
            f.write(c)


def write_npz(state_dict, path):
    """What numpy.savez writes (STORED entries '<name>.npy', zip64 extras), with fixed timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, t in state_dict.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, t.detach().contiguous().numpy(), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with z.open(info, "w", force_zip64=True) as entry:
                entry.write(buffer.getvalue())


def make_case(name, spec, out):
    model = build_model(spec)
    tokens, state = make_inputs(spec)
    logits, finals = reference(model, spec, tokens, state)
    onnx_path = os.path.join(out, name + ".onnx")
    data_name = None
    if spec["edit"] == "keras":
        m = keras_lstm(model)
        onnx.save(m, onnx_path)
    else:
        m = export(model, spec, tokens, state, onnx_path)
        if spec["edit"] == "sequence_lens":
            m = edit_sequence_lens(m)
        elif spec["edit"] == "if_head":
            m = edit_if_head(m)
        elif spec["edit"] == "constants":
            m = edit_constants(m)
        if spec["edit"] == "external_data":
            data_name = name + ".onnx.data"
            data_path = os.path.join(out, data_name)
            if os.path.exists(data_path):
                os.remove(data_path)  # onnx appends to an existing data file
            onnx.save(m, onnx_path, save_as_external_data=True, all_tensors_to_one_file=True,
                      location=data_name, size_threshold=0)
        else:
            onnx.save(m, onnx_path)
    onnx.checker.check_model(onnx_path, full_check=True)
    saved = onnx.load(onnx_path, load_external_data=False)

    sd = model.state_dict()
    write_safetensors(sd, os.path.join(out, name + ".safetensors"))
    write_npz(sd, os.path.join(out, name + ".npz"))

    inputs, outputs = graph_io_names(spec)
    if spec["edit"] == "sequence_lens":
        inputs.append("seq_lens")
    directions = 2 if spec["bidirectional"] else 1
    record = {
        "case": name,
        "architecture": {
            "cell": spec["cell"], "vocab_size": VOCAB, "embed_dim": spec["embed_dim"], "hidden_size": HIDDEN,
            "layers": spec["layers"], "bidirectional": spec["bidirectional"], "activation": spec["activation"],
            "linear_before_reset": True,
        },
        "vocabulary": [ord(c) for c in SYMBOLS],
        "export": {
            "torch": torch.__version__, "onnx": onnx.__version__,
            "opset": saved.opset_import[0].version, "ir_version": saved.ir_version,
            "do_constant_folding": None if spec["edit"] == "keras" else spec["folded"],
            "batch_first": spec["batch_first"],
            "graph_inputs": inputs, "graph_outputs": outputs,
            "tokens_layout": "[B, T]" if spec["batch_first"] else "[T, B]",
            "external_data": data_name, "how": EDIT_NOTES[spec["edit"]],
        },
        "files": {"onnx": name + ".onnx", "safetensors": name + ".safetensors", "npz": name + ".npz"},
        "time": TIME, "batch": BATCH,
        "tokens": tokens.tolist(),
        "initial_h": state[0].tolist() if state else None,
        "initial_c": state[1].tolist() if len(state) > 1 else None,
        "logits": logits.tolist(),
        "final_h": finals[0].tolist(),
        "final_c": finals[1].tolist() if len(finals) > 1 else None,
    }
    assert logits.shape == (TIME, BATCH, VOCAB) and finals[0].shape == (spec["layers"] * directions, BATCH, HIDDEN)
    write_atomically(os.path.join(out, name + ".json"), to_json(record, indent=0) + "\n")
    return saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                      "testdata", "onnx"),
                        help="output directory (default: testdata/onnx of this checkout)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    for name, spec in CASES.items():
        m = make_case(name, spec, out)
        ops = sorted({n.op_type for n in m.graph.node})
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out) if f.startswith(name + "."))
        print(f"{name}: opset {m.opset_import[0].version}, IR {m.ir_version}, {size} bytes, ops {' '.join(ops)}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
