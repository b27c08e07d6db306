"""One sweep trial's job, wherever it runs (on Ray Train workers or in the Tune trial itself):
the search, then, with a `proxy` training config, the derived genotype trained from scratch
on the same process(es), its test accuracy reported with the search's last epoch
(`proxy_acc`; see `reporters.LastReportHeld` for why with the last epoch)."""

from __future__ import annotations

from trainables.config import SearchConfig
from trainables.distributed import Collective
from trainables.reporters import LastReportHeld, Reporter
from trainables.search_loop import run_search
from trainables.train_config import TrainConfig
from trainables.train_loop import proxy_accuracy


def search_then_proxy(search: SearchConfig, proxy: TrainConfig | None, reporter: Reporter,
                      collective: Collective) -> None:
    if proxy is None:
        run_search(search, reporter, collective)
        return
    held = LastReportHeld(reporter, last_epoch=search.epochs, pending=("proxy_acc",))
    outcome = run_search(search, held, collective)
    held.release({"proxy_acc": proxy_accuracy(proxy, outcome.genotype, collective)}, outcome.history[-1])
