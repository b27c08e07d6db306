"""One sweep trial's job, wherever it runs (on Ray Train workers or in the Tune trial
itself): the search, its reports scored by the proxy objective where the sweep ranks by it
(`trainables.proxy_objective`)."""

from __future__ import annotations

from trainables.config import SearchConfig
from trainables import phase_log
from trainables.distributed import Collective
from trainables.proxy_objective import ProxyObjective, ProxyScoredReporter, scored
from trainables.reporters import Reporter
from trainables.search_loop import run_search


def run_search_job(search: SearchConfig, objective: ProxyObjective | None, reporter: Reporter,
                   collective: Collective) -> None:
    reporter = scored(reporter, objective, search.model.space, collective)
    outcome = run_search(search, phase_log.PhaseLogReporter(reporter) if phase_log.enabled() else reporter,
                         collective)
    if isinstance(reporter, ProxyScoredReporter) and not reporter.reported:
        # a finished search started again reports nothing by itself: its last epoch, scored,
        # so that the trial ends with its objective
        reporter.report(outcome.history[-1], None)
