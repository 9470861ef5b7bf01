#!/usr/bin/python3
"""Time one PyTorch CPU training step of Lacuna's character model, as a peer for the Java trainer.

A step is: forward (embedding -> RNN/GRU/LSTM -> linear head), mean cross-entropy on next-character targets,
backward, gradient-norm clipping at 5, Adam. Data are random token ids (speed does not depend on the text).
Prints one JSON line to stdout; diagnostics (thread and BLAS set-up) go to stderr.

    /usr/bin/python3 tools/pytorch/bench_train_step.py --cell lstm --hidden 256 --layers 2 --embed 64 \\
        --vocab 80 --batch 32 --seq 100 --threads 1 --steps 20 --warmup 3
"""
import argparse
import json
import os
import statistics
import sys
import time

# Debian's torch calls the generic libblas.so.3; without libopenblas0-pthread that resolves to the reference
# BLAS, which makes a step about 30x slower (platform-notes.md) and the comparison meaningless.
REFERENCE_BLAS_DIR = "/blas/"


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, found '{text}'")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive, found {value}")
    return value


def non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, found '{text}'")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or positive, found {value}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, found '{text}'")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be positive and finite, found {text}")
    return value


def parse_args():
    p = argparse.ArgumentParser(description="PyTorch CPU training-step benchmark for a character RNN.")
    p.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm")
    p.add_argument("--hidden", type=positive_int, default=256)
    p.add_argument("--layers", type=positive_int, default=2)
    p.add_argument("--embed", type=positive_int, default=64)
    p.add_argument("--vocab", type=positive_int, default=80)
    p.add_argument("--batch", type=positive_int, default=32)
    p.add_argument("--seq", type=positive_int, default=100)
    p.add_argument("--threads", type=positive_int, default=1)
    p.add_argument("--steps", type=positive_int, default=20, help="timed steps")
    p.add_argument("--warmup", type=non_negative_int, default=3, help="untimed steps before timing")
    p.add_argument("--lr", type=positive_float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def loaded_blas_libraries():
    """Paths of the BLAS shared objects mapped into this process (Linux only; empty elsewhere)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            return sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1]})
    except OSError:
        return []


def main():
    args = parse_args()
    # Thread pools are sized when the libraries load, so the environment must be set before importing torch.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    # libgomp spin-waits by default; on a shared 2-core machine a 2-thread step then collapses by 3-50x whenever
    # another process holds a core (platform-notes.md). Lacuna's ND4J launchers use PASSIVE, so the peer does too
    # unless the caller chose a policy.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from charmodel import CharModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model = CharModel(args.cell, args.vocab, args.hidden, args.embed, args.layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # A fresh batch per step, all generated up front so that data creation is not timed.
    total = args.warmup + args.steps
    data = torch.randint(args.vocab, (total, args.batch, args.seq + 1))

    def train_step(batch):
        inputs, targets = batch[:, :-1], batch[:, 1:]
        optimizer.zero_grad(set_to_none=True)
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, args.vocab), targets.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    times_ms = []
    cpu_ms = []
    for i in range(total):
        start = time.perf_counter()
        # CPU time of this thread: on a shared machine it barely moves when other processes take the cores, so
        # it compares frameworks more stably than wall time (meaningful with --threads 1, where all work runs here)
        cpu_start = time.thread_time()
        train_step(data[i])
        if i >= args.warmup:
            times_ms.append((time.perf_counter() - start) * 1000.0)
            cpu_ms.append((time.thread_time() - cpu_start) * 1000.0)
        if i == 0:
            blas = loaded_blas_libraries()  # BLAS is loaded lazily, so look only after the first step
            print("blas: " + (", ".join(blas) if blas else "unknown"), file=sys.stderr)
            if any(REFERENCE_BLAS_DIR in path for path in blas):
                sys.exit("error: torch is running on the reference BLAS; install libopenblas0-pthread "
                         "(or select OpenBLAS with update-alternatives) before benchmarking")

    print(f"torch {torch.__version__}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, "
          f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(torch.__config__.parallel_info().strip(), file=sys.stderr)
    median = statistics.median(times_ms)
    print(json.dumps({
        "framework": "pytorch",
        "cell": args.cell,
        "hidden": args.hidden,
        "layers": args.layers,
        "batch": args.batch,
        "seq": args.seq,
        "threads": args.threads,
        "ms_per_step_median": round(median, 3),
        "thread_cpu_ms_per_step_median": round(statistics.median(cpu_ms), 3),
        "steps_per_second": round(1000.0 / median, 3),
    }))


if __name__ == "__main__":
    main()
