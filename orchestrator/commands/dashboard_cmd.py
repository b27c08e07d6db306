"""`alphadarts dashboard EXPERIMENT_DIR`: TensorBoard and optuna-dashboard on an experiment (any
of its directories: a sweep's, a retrain's or a pipeline's) on localhost, until Ctrl+C or
SIGTERM stops both: TensorBoard shows its sweep's and its retrain's runs together."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="TensorBoard + optuna-dashboard on an experiment directory",
        description=__doc__,
    )
    parser.add_argument("experiment_dir",
                        help="a sweep's, a retrain's or a pipeline's directory (runs/<name>-pipeline): the "
                             "experiment's sweep and retrain are shown; also s3://... or gs://... (a local "
                             "copy of its event files and study is served)")
    parser.add_argument("--tensorboard-port", type=int, default=None, metavar="P",
                        help="TensorBoard's port (default: a free one)")
    parser.add_argument("--optuna-port", type=int, default=None, metavar="P",
                        help="optuna-dashboard's port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address both listen on (default 127.0.0.1: this machine only)")
    parser.set_defaults(run=run)


class _Stop(Exception):
    """SIGTERM, raised in the main thread so that the children are stopped on the way out."""


def run(args) -> int:
    from orchestrator.dashboard import Dashboards, ray_dashboard_url, resolve_target

    target = resolve_target(args.experiment_dir)
    if "://" in args.experiment_dir:  # s3://, gs://: served from a local copy
        print(f"{args.experiment_dir}: its event files and study copied to "
              f"{', '.join(map(str, target.logdirs.values()))} (run the command again to see newer results)")
    dashboards = Dashboards(target, host=args.host, tensorboard_port=args.tensorboard_port,
                            optuna_port=args.optuna_port)

    def on_term(signum, frame):
        raise _Stop()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        remote = "://" in target.asked
        shown = [f"its {kind} {path}" for kind, path in target.logdirs.items()
                 if remote or path != Path(target.asked).expanduser().resolve()]
        if shown:
            print(f"{target.asked} is a {target.kind}'s directory: showing {' and '.join(shown)}")
        urls = dashboards.start()
        where = ", ".join(f"{kind}/ = {path}" for kind, path in target.logdirs.items()) \
            if len(target.logdirs) > 1 else str(target.logdir)
        print(f"TensorBoard:      {urls['tensorboard']}  (event files under {where})")
        if "optuna-dashboard" in urls:
            print(f"optuna-dashboard: {urls['optuna-dashboard']}  (study sqlite:///{target.study_db})")
        else:
            print("optuna-dashboard: not started (no optuna.db: not a sweep's directory)")
        ray_url = ray_dashboard_url()
        if ray_url:
            print(f"Ray dashboard:    {ray_url}")
        print("Ctrl+C stops both.", flush=True)
        while not dashboards.dead():
            time.sleep(0.5)
        dead = dashboards.dead()
        print(f"alphadarts: {', '.join(dead)} stopped on its own: {dashboards.log_tail(dead[0])}",
              file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("stopping TensorBoard and optuna-dashboard", flush=True)
        return 0
    finally:
        dashboards.stop()
        signal.signal(signal.SIGTERM, previous)
