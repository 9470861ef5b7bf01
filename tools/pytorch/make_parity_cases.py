#!/usr/bin/python3
"""Write small PyTorch reference cases for Lacuna's character model, one JSON file per case.

Each case fixes an architecture, random weights (named exactly like Lacuna's Model tensors, which follow
PyTorch's state_dict), a batch of token ids, and the logits and summed cross-entropy PyTorch computes for
them. The Java trainer and runtime are tested against these files (see testdata/pytorch-parity/README.md).

Run with Debian's interpreter, which has torch and numpy:
    /usr/bin/python3 tools/pytorch/make_parity_cases.py [--out testdata/pytorch-parity]

The output is deterministic: every case seeds torch from its own fixed seed, computation runs on one
thread, and floats are written as the shortest text that reads back as the same float32.
"""
import argparse
import os
import sys

# BLAS threads must be fixed before torch loads its BLAS; one thread keeps summation order, and so the
# written bytes, identical from run to run.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from charmodel import CharModel  # noqa: E402
from refjson import to_json, write_atomically  # noqa: E402

VOCAB, EMBED, HIDDEN, BATCH, TIME = 7, 4, 5, 2, 6
# PyTorch's default init (uniform in ±1/sqrt(hidden)) keeps pre-activations near zero, where tanh, sigmoid
# and relu are almost linear; doubling the weights makes a wrong gate order or activation visible.
WEIGHT_SCALE = 2.0


class ParityModel(CharModel):
    """The shared CharModel, plus the GRU variant nn.GRU lacks (linear_before_reset=False), which
    manual_stack computes from nn.GRU's packed parameters so the state_dict names and layout stay PyTorch's."""

    def __init__(self, cell, embed_dim, layers, bidirectional, activation, linear_before_reset):
        super().__init__(cell, VOCAB, HIDDEN, embed_dim, layers, bidirectional, activation)
        self.linear_before_reset = linear_before_reset

    def forward(self, ids, initial_state):
        if self.cell == "gru" and not self.linear_before_reset:
            top = manual_stack(self.rnn, "gru", self.features_in(ids), initial_state, self.layers,
                               self.directions(), linear_before_reset=False)
            return self.head(self.head_features(top))
        return super().forward(ids, initial_state)[0]


def cell_step(cell, x, h, c, w_ih, w_hh, b_ih, b_hh, activation, linear_before_reset):
    """One time step of a cell from PyTorch's packed weights (LSTM i,f,g,o; GRU r,z,n)."""
    gi = x @ w_ih.T + b_ih
    if cell == "rnn":
        act = torch.tanh if activation == "tanh" else torch.relu
        return act(gi + h @ w_hh.T + b_hh), None
    if cell == "lstm":
        i, f, g, o = (gi + h @ w_hh.T + b_hh).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    xr, xz, xn = gi.chunk(3, dim=1)
    hr, hz, _ = (h @ w_hh.T + b_hh).chunk(3, dim=1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    w_hn, b_hn = w_hh[2 * HIDDEN:], b_hh[2 * HIDDEN:]
    if linear_before_reset:
        # What nn.GRU and cuDNN compute (ONNX linear_before_reset=1): r scales W_hn h + b_hn.
        n = torch.tanh(xn + r * (h @ w_hn.T + b_hn))
    else:
        # ONNX default (linear_before_reset=0), the original GRU of Cho et al.: r scales h inside the product.
        n = torch.tanh(xn + (r * h) @ w_hn.T + b_hn)
    return (1 - z) * n + z * h, None


def manual_stack(rnn, cell, x, initial_state, layers, directions, activation="tanh", linear_before_reset=True):
    """Runs the recurrent stack step by step with the parameters of `rnn`; returns the top layer's outputs."""
    batch, time = x.shape[0], x.shape[1]
    if initial_state is None:
        h0 = torch.zeros(layers * directions, batch, HIDDEN)
        c0 = torch.zeros_like(h0)
    elif cell == "lstm":
        h0, c0 = initial_state
    else:
        h0, c0 = initial_state, torch.zeros_like(initial_state)
    layer_in = x
    for layer in range(layers):
        outputs = []
        for d in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
            params = [getattr(rnn, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h, c = h0[layer * directions + d], c0[layer * directions + d]
            steps = range(time - 1, -1, -1) if d == 1 else range(time)
            out = [None] * time
            for t in steps:
                h, c = cell_step(cell, layer_in[:, t], h, c, *params, activation, linear_before_reset)
                out[t] = h
            outputs.append(torch.stack(out, dim=1))
        layer_in = torch.cat(outputs, dim=2)
    return layer_in


def self_check(model, ids, initial_state):
    """The hand-written cell must agree with nn.RNN/GRU/LSTM wherever PyTorch has a built-in, so that the
    one case computed only by hand (GRU, linear_before_reset=False) shares its stacking, direction and
    state conventions with the built-ins."""
    x = model.features_in(ids)
    builtin, _ = model.rnn(x, initial_state)
    by_hand = manual_stack(model.rnn, model.cell, x, initial_state, model.layers, model.directions(),
                           model.activation, linear_before_reset=True)
    gap = (builtin - by_hand).abs().max().item()
    if gap > 1e-5:
        sys.exit(f"self-check failed for {model.cell}: hand-written cell differs from nn by {gap}")


def random_initial_state(cell, layers, directions):
    shape = (layers * directions, BATCH, HIDDEN)
    # Uniform in ±0.8: clearly non-zero, so a trainer that ignores the given state fails the comparison.
    h = (torch.rand(shape) * 2 - 1) * 0.8
    if cell == "lstm":
        return h, (torch.rand(shape) * 2 - 1) * 0.8
    return h


def make_case(seed, cell, layers, bidirectional, activation="tanh", linear_before_reset=True, embed_dim=EMBED,
              nonzero_state=False):
    torch.manual_seed(seed)
    model = ParityModel(cell, embed_dim, layers, bidirectional, activation, linear_before_reset)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("embedding."):  # N(0,1) embeddings are already of order one
                p.mul_(WEIGHT_SCALE)
    initial_state = random_initial_state(cell, layers, model.directions()) if nonzero_state else None

    if bidirectional:
        ids = torch.randint(VOCAB, (BATCH, TIME))
        inputs, targets = ids, ids  # cloze: predict the character at t from both sides of it
    else:
        ids = torch.randint(VOCAB, (BATCH, TIME + 1))
        inputs, targets = ids[:, :-1], ids[:, 1:]  # predict the next character

    with torch.no_grad():
        self_check(model, inputs, initial_state)
        logits = model(inputs, initial_state)
        loss_sum = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), reduction="sum")

    config = {
        "cell": cell,
        "vocab_size": VOCAB,
        "embed_dim": embed_dim,
        "hidden_size": HIDDEN,
        "layers": layers,
        "bidirectional": bidirectional,
        "activation": activation,
        "linear_before_reset": linear_before_reset,
    }
    tensors = {name: {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}
               for name, t in model.state_dict().items()}
    state = None
    if initial_state is not None:
        if cell == "lstm":
            state = {"h": initial_state[0].tolist(), "c": initial_state[1].tolist()}
        else:
            state = {"h": initial_state.tolist()}
    return {
        "config": config,
        "tensors": tensors,
        "inputs": inputs.tolist(),
        "targets": targets.tolist(),
        "initial_state": state,
        "logits": logits.tolist(),
        "loss_sum": loss_sum.item(),
    }


# name -> arguments of make_case; each case has its own seed so that adding one leaves the others unchanged.
CASES = {}
for index, (stem, cell, extra) in enumerate([
    ("rnn_tanh", "rnn", dict(activation="tanh")),
    ("rnn_relu", "rnn", dict(activation="relu")),
    ("gru_lbr1", "gru", dict(linear_before_reset=True)),
    ("gru_lbr0", "gru", dict(linear_before_reset=False)),
    ("lstm", "lstm", {}),
]):
    CASES[f"{stem}_2layer"] = dict(seed=100 + 2 * index, cell=cell, layers=2, bidirectional=False,
                                   nonzero_state=True, **extra)
    CASES[f"{stem}_bidir"] = dict(seed=101 + 2 * index, cell=cell, layers=1, bidirectional=True, **extra)
CASES["lstm_onehot_2layer"] = dict(seed=200, cell="lstm", layers=2, bidirectional=False, embed_dim=0,
                                   nonzero_state=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                      "testdata", "pytorch-parity"),
                        help="output directory (default: testdata/pytorch-parity of this checkout)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    for name, spec in CASES.items():
        case = make_case(**spec)
        path = os.path.join(out, name + ".json")
        write_atomically(path, to_json(case) + "\n")
        print(f"{path}: {os.path.getsize(path)} bytes, loss_sum {case['loss_sum']:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
