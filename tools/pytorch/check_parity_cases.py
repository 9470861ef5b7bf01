#!/usr/bin/python3
"""Recompute every parity case from its JSON alone, in float64 numpy, and compare with the stored logits.

This is a second implementation of the character model, independent of torch.nn, written from the
format description in testdata/pytorch-parity/README.md. It checks that the files say what the README says
(gate order, cloze features, initial state layout, targets, summed loss), which is what the Java side relies on.

    /usr/bin/python3 tools/pytorch/check_parity_cases.py [DIR]
Exit status 0 when every case matches to 1e-4, 1 otherwise.
"""
import glob
import json
import os
import sys

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def run_direction(cfg, w, x, h, c, suffix, reverse):
    """x: [batch, time, in]; returns the outputs [batch, time, hidden] of one direction of one layer."""
    w_ih, w_hh, b_ih, b_hh = (w[f"rnn.{n}{suffix}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    hidden = cfg["hidden_size"]
    time = x.shape[1]
    out = np.zeros((x.shape[0], time, hidden))
    for t in (reversed(range(time)) if reverse else range(time)):
        gi = x[:, t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        if cfg["cell"] == "rnn":
            a = gi + gh
            h = np.tanh(a) if cfg["activation"] == "tanh" else np.maximum(a, 0)
        elif cfg["cell"] == "lstm":
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        else:
            r = sigmoid(gi[:, :hidden] + gh[:, :hidden])
            z = sigmoid(gi[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
            w_hn, b_hn = w_hh[2 * hidden:], b_hh[2 * hidden:]
            if cfg["linear_before_reset"]:
                n = np.tanh(gi[:, 2 * hidden:] + r * (h @ w_hn.T + b_hn))
            else:
                n = np.tanh(gi[:, 2 * hidden:] + (r * h) @ w_hn.T + b_hn)
            h = (1 - z) * n + z * h
        out[:, t] = h
    return out


def logits_of(case):
    cfg = case["config"]
    w = {k: np.asarray(v["data"], dtype=np.float64).reshape(v["shape"]) for k, v in case["tensors"].items()}
    ids = np.asarray(case["inputs"])
    hidden, dirs = cfg["hidden_size"], 2 if cfg["bidirectional"] else 1
    x = w["embedding.weight"][ids] if cfg["embed_dim"] > 0 else np.eye(cfg["vocab_size"])[ids]
    states = case["initial_state"]
    zeros = np.zeros((cfg["layers"] * dirs, ids.shape[0], hidden))
    h0 = np.asarray(states["h"]) if states else zeros
    c0 = np.asarray(states["c"]) if states and "c" in states else zeros
    for layer in range(cfg["layers"]):
        x = np.concatenate([run_direction(cfg, w, x, h0[layer * dirs + d], c0[layer * dirs + d],
                                          f"_l{layer}" + ("_reverse" if d else ""), d == 1)
                            for d in range(dirs)], axis=2)
    if cfg["bidirectional"]:
        pad = np.zeros_like(x[:, :1, :hidden])
        x = np.concatenate([np.concatenate([pad, x[:, :-1, :hidden]], axis=1),
                            np.concatenate([x[:, 1:, hidden:], pad], axis=1)], axis=2)
    return x @ w["head.weight"].T + w["head.bias"]


def loss_sum_of(logits, targets):
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    return -np.take_along_axis(log_probs, np.asarray(targets)[..., None], axis=2).sum()


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "pytorch-parity")
    files = sorted(glob.glob(os.path.join(directory, "*.json")))
    if not files:
        sys.exit(f"no *.json cases in {directory}")
    failed = False
    for path in files:
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        logits = logits_of(case)
        logit_gap = np.abs(logits - np.asarray(case["logits"])).max()
        loss_gap = abs(loss_sum_of(logits, case["targets"]) - case["loss_sum"])
        ok = logit_gap < 1e-4 and loss_gap < 1e-4
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(path)}: max logit gap {logit_gap:.2e}, "
              f"loss gap {loss_gap:.2e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
