"""Lacuna's character model in PyTorch, shared by the scripts that write reference files and benchmarks.

embedding (or one-hot input) -> nn.RNN/GRU/LSTM stack -> nn.Linear head over the vocabulary, with the tensor
names of Lacuna's Model (PyTorch's state_dict). Parameters are created in the order embedding, rnn, head, so a
seeded model gets the same weights whichever script builds it. Import torch only after fixing the BLAS thread
variables (the importing scripts do).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class CharModel(nn.Module):
    """The model; forward(ids, state) returns the logits and the final state (h_n, or (h_n, c_n) for an LSTM)."""

    def __init__(self, cell, vocab, hidden, embed_dim=0, layers=1, bidirectional=False, activation="tanh",
                 batch_first=True):
        super().__init__()
        self.cell = cell
        self.vocab = vocab
        self.hidden = hidden
        self.embed_dim = embed_dim
        self.layers = layers
        self.bidirectional = bidirectional
        self.activation = activation
        self.batch_first = batch_first
        if embed_dim > 0:
            self.embedding = nn.Embedding(vocab, embed_dim)
        common = dict(input_size=embed_dim if embed_dim > 0 else vocab, hidden_size=hidden, num_layers=layers,
                      bidirectional=bidirectional, batch_first=batch_first)
        if cell == "rnn":
            self.rnn = nn.RNN(nonlinearity=activation, **common)
        elif cell == "gru":
            self.rnn = nn.GRU(**common)
        elif cell == "lstm":
            self.rnn = nn.LSTM(**common)
        else:
            raise ValueError(f"unknown cell {cell!r}")
        self.head = nn.Linear(hidden * self.directions(), vocab)

    def directions(self):
        return 2 if self.bidirectional else 1

    def features_in(self, ids):
        if self.embed_dim > 0:
            return self.embedding(ids)
        return F.one_hot(ids, self.vocab).to(torch.float32)

    def head_features(self, top):
        """What the head reads at each position (see the javadoc of dev.lacuna.core.Architecture).

        Unidirectional: the top output at t, which predicts the character at t+1. Bidirectional (cloze): the
        forward output at t-1 and the reverse output at t+1, zeros past either edge, which predict the character
        at t without having read it.
        """
        if not self.bidirectional:
            return top
        time_axis = 1 if self.batch_first else 0
        fwd, rev = top[..., :self.hidden], top[..., self.hidden:]
        edge = torch.zeros_like(fwd.narrow(time_axis, 0, 1))
        steps = fwd.shape[time_axis] - 1
        fwd_prev = torch.cat([edge, fwd.narrow(time_axis, 0, steps)], dim=time_axis)
        rev_next = torch.cat([rev.narrow(time_axis, 1, steps), edge], dim=time_axis)
        return torch.cat([fwd_prev, rev_next], dim=-1)

    def forward(self, ids, state=None):
        top, final = self.rnn(self.features_in(ids), state)
        return self.head(self.head_features(top)), final
