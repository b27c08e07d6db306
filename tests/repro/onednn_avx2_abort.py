"""oneDNN's AVX2 1x1 convolution corrupts the heap in backward on a narrow channels_last input.

The trigger: the weight gradient of a 1x1 convolution at stride 2, no padding, on a
channels_last (NHWC) float32 CPU input with 2 to 7 input channels, on a CPU that has AVX2 but
no AVX-512 (or any CPU under `ONEDNN_MAX_CPU_ISA=AVX2`):

    x = torch.randn(2, 4, 8, 8).contiguous(memory_format=torch.channels_last)
    w = torch.randn(4, 4, 1, 1, requires_grad=True)
    torch.autograd.grad(F.conv2d(x, w, stride=2).sum(), w)   # a few times

oneDNN runs it as `jit_1x1:avx2,backward_weights` with an `acdb` (NHWC) source
(`mb2_ic4oc4_ih8oh4kh1sh2..._iw8ow4kw1sw2...` in `ONEDNN_VERBOSE=1`). With one intra-op
thread glibc then aborts (`corrupted double-linked list`, `free(): invalid next size`) or
the process segfaults; with two threads the weight gradient comes out wrong, or the kernel
spins forever. Nothing else is needed: no model, no double backward. The same bug is
reported upstream (uxlfoundation/oneDNN#6035, open): the kernel's stride-2 path copies the
source into a unit-stride workspace and, for NHWC with fewer input channels than its
8-channel block, overruns it; what is measured here agrees (stride 1 and 8 or more
channels are fine).

Measured with torch 2.14.1 (oneDNN 3.12.0) on a 2-core AMD EPYC with AVX-512, limited to
AVX2 by the variable (`--sweep`): 2-7 input channels fail wherever oneDNN picks that
kernel (tried: batch 2 of 8x8, 8 of 16x16, 4 of 32x32); 1, 8-17, 24, 32, 48, 64, 96 and 128
input channels, and stride 1 at 1-9, give the float64 NCHW gradient. At odd sides (7x7,
15x15) oneDNN picks its generic `jit:avx2` kernel and at batch 1 torch does not call oneDNN
for it; those pass. So do an NCHW input, `ONEDNN_MAX_CPU_ISA=AVX` or `SSE41`
(other kernels) and the AVX-512 kernel. Depthwise, dilated, 3x3 and 5x5 convolutions at
stride 1 and 2, pooling and BatchNorm in channels_last at 1-9 channels (batch 2 of 8x8)
were all fine. The project keeps its supernets off this kernel
(`search_space/strided_pointwise.py`).

Run `python tests/repro/onednn_avx2_abort.py` (`--sweep`: the channel counts above, about a
minute): each case runs in a child process under `ONEDNN_MAX_CPU_ISA=AVX2` (the variable is
read when oneDNN starts, so it cannot be set in a running process); the script prints what
became of each child and torch's version. It exits 1 while the trigger still fails, 0 once
a torch upgrade has fixed it.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys

#: (name, input channels, stride, layout, intra-op threads); the first two are the trigger
CASES = (
    ("trigger, 1 thread", 4, 2, "channels_last", 1),
    ("trigger, 2 threads", 4, 2, "channels_last", 2),
    ("8 input channels", 8, 2, "channels_last", 1),
    ("stride 1", 4, 1, "channels_last", 1),
    ("NCHW input", 4, 2, "contiguous", 1),
)
TRIGGER_CASES = 2
CHILD_TIMEOUT_S = 30
#: (batch, side) of the inputs each child runs, in turn: the trigger's, and `--sweep`'s
SIZES = {"trigger": [(2, 8)] * 5, "sweep": [(2, 8), (8, 16), (4, 32), (1, 7), (3, 15)] * 3}
#: `--sweep`: (input channels, stride), each in a child with one thread, channels_last
SWEEP = [(c, 2) for c in (*range(1, 18), 24, 32, 48, 64, 96, 128)] + [(c, 1) for c in range(1, 10)]


def child(channels: int, stride: int, layout: str, threads: int, sizes: str) -> None:
    """Run the 1x1 conv's weight gradient at each of `SIZES[sizes]` and check it against
    float64 NCHW; print `ok` or `wrong gradient`. A heap corruption ends the process first."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    memory_format = torch.contiguous_format if layout == "contiguous" else torch.channels_last
    for batch, side in SIZES[sizes]:
        x = torch.randn(batch, channels, side, side)
        w = torch.randn(4, channels, 1, 1, requires_grad=True)
        (grad,) = torch.autograd.grad(F.conv2d(x.contiguous(memory_format=memory_format), w, stride=stride).sum(), w)
        # float64 in NCHW: a path oneDNN does not take
        (expected,) = torch.autograd.grad(F.conv2d(x.double(), w.double(), stride=stride).sum(), w)
        if not torch.allclose(grad, expected, rtol=1e-4, atol=1e-4):
            print(f"wrong gradient (max |difference| {(grad - expected).abs().max().item():.3g})")
            return
    print("ok")


def run_case(channels: int, stride: int, layout: str, threads: int, sizes: str = "trigger") -> str:
    """What became of one child: ok, wrong gradient, killed by a signal, or hung."""
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2", OMP_NUM_THREADS=str(threads))
    argv = [sys.executable, __file__, "--child", str(channels), str(stride), layout, str(threads), sizes]
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"hung (killed after {CHILD_TIMEOUT_S} s)"
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        glibc = [line for line in done.stderr.splitlines() if "corrupt" in line or "free(" in line]
        return f"{name}" + (f": {glibc[-1].strip()}" if glibc else "")
    if done.returncode != 0:
        return f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
    return done.stdout.strip().splitlines()[-1]


def versions() -> str:
    import torch

    onednn = re.search(r"MKL-DNN v([\d.]+)", torch.__config__.show())
    return f"torch {torch.__version__}, oneDNN {onednn.group(1) if onednn else 'unknown'}"


def main() -> int:
    print(f"{versions()}; each case in a child process under ONEDNN_MAX_CPU_ISA=AVX2")
    failed = 0
    for index, (name, channels, stride, layout, threads) in enumerate(CASES):
        outcome = run_case(channels, stride, layout, threads)
        print(f"  {name:<20} ic={channels} stride={stride} {layout:<13} threads={threads}: {outcome}", flush=True)
        if index < TRIGGER_CASES and outcome != "ok":
            failed += 1
    if failed:
        print(f"the trigger still fails ({failed} of {TRIGGER_CASES} trigger cases)")
        return 1
    print("the trigger no longer fails")
    return 0


def sweep() -> None:
    """Which input channel counts fail, at stride 2 and 1 (5 sizes, 3 times each, 1 thread)."""
    print(f"{versions()}; channels_last, 1 thread, under ONEDNN_MAX_CPU_ISA=AVX2, "
          f"batch x side {sorted(set(SIZES['sweep']))}")
    for channels, stride in SWEEP:
        print(f"  ic={channels:<3} stride={stride}: {run_case(channels, stride, 'channels_last', 1, 'sweep')}",
              flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", action="store_true",
                        help="which input channel counts fail (stride 2: 1-17 and 24-128; stride 1: 1-9); "
                             "about a minute")
    parser.add_argument("--child", nargs=5, metavar=("CHANNELS", "STRIDE", "LAYOUT", "THREADS", "SIZES"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        channels, stride, layout, threads, sizes = args.child
        child(int(channels), int(stride), layout, int(threads), sizes)
    elif args.sweep:
        sweep()
    else:
        sys.exit(main())
