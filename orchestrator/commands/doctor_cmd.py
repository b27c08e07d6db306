"""`alphadarts doctor`: check this machine (or cluster) for a search before running one.

Each runtime switch (fp32 / TF32 / bf16, channels_last, compile, each activation-checkpointing
mode, first / second order) runs a few search steps, and the retrain's switches a few
retrain steps, on the device (CUDA where there is one, else the CPU); each is compared with
the fp32 eager step (loss and gradients, within the bounds docs/gpu-check.md states) and
timed (ms/step, images/s, peak memory, host reads per step). Then a 2-epoch quickstart-size
search runs through Ray Train on the device, and with 2 GPUs or more a 2-worker NCCL search
with SyncBatchNorm under bf16, whose α must be identical on both ranks.

Prints a table (`--json`: one JSON object); exits 1 when a check fails. On a new cluster:
`ray job submit --address http://HEAD:8265 -- alphadarts doctor`.
"""

from __future__ import annotations

import json

from orchestrator.cluster.ray_runtime import add_address_argument


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("doctor", help="check this machine or cluster for a search (each switch, Ray Train)",
                              description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="CI on a CPU: tiny sizes, fewer switches and steps, no compile (about a minute)")
    add_address_argument(p)
    p.add_argument("--storage", metavar="DIR|URI",
                   help="output_dir of the doctor's Ray searches (default: a temp dir, removed when all "
                        "passes); on a cluster of several nodes an s3://, gs:// or shared NFS path")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.set_defaults(run=run)


def run(args) -> int:
    from orchestrator import console
    from orchestrator.cluster.placement import is_client_address
    from orchestrator.errors import UsageError

    if is_client_address(args.address):
        raise UsageError(f"--address {args.address}: the doctor checks the machines it runs on; submit it "
                         "to the cluster instead: ray job submit --address http://HEAD:8265 -- alphadarts doctor")
    if args.address:  # at the door, in seconds: not after minutes of step checks
        from orchestrator.cluster.ray_runtime import check_address_reachable

        check_address_reachable(args.address)
    from orchestrator.doctor.run import DoctorOptions, run_doctor
    from orchestrator.doctor.table import render

    report = run_doctor(DoctorOptions(args.quick, args.address, args.storage, progress=console.verbosity() > 0))
    print(json.dumps(report) if args.json else render(report))
    return 0 if report["passed"] else 1
