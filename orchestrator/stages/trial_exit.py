"""A Tune trial's process leaves by itself when Tune stops it, instead of being killed.

Tune ends a trial's actor by calling its `stop` and, once that returns, removing the trial's
placement group; the raylet then kills every worker still holding a bundle of that group
with SIGTERM (ray-project/ray#13487). Ray's worker turns SIGTERM into a `SystemExit` raised
wherever its main thread is at that moment. Where that is a weakref callback (a finished
thread being freed, for one), Python cannot raise it and prints "Exception ignored in:
<function WeakSet...> Traceback ... SystemExit: 1" to the worker's stderr, which Ray
forwards to the console: tracebacks at the end of a successful stage, now and then.

A trainable marked `exits_on_stop` ends its actor with `ray.actor.exit_actor()` right after
`stop`: the worker leaves as an intended exit, which its raylet learns of before Tune frees
the placement group, so no signal is sent. Where the exit waits on a call still in flight
(seen in a trial whose Ray Train run had just ended), Tune can free the group first; the
SIGTERM that then comes finds the signal ignored, and the exit under way completes (the
raylet's SIGKILL, sent 200 ms after each such SIGTERM, still ends a process that would not).
Tune's stop is final: a trial actor it reuses gets `reset_config`, never `stop`, before its
next trial.
"""

from __future__ import annotations

import signal
import threading


class ExitsOnStop:
    """Mixin of a Tune function trainable's class: `stop`, then the actor's own exit."""

    def stop(self):
        try:
            super().stop()
        finally:  # a trial whose stop raised is over all the same (Tune ignores the error)
            from ray.actor import exit_actor

            if threading.current_thread() is threading.main_thread():  # where Ray runs it
                signal.signal(signal.SIGTERM, signal.SIG_IGN)  # leaving already
            exit_actor()


def exits_on_stop(fn):
    """Mark the Tune function trainable `fn` to end its actor after `stop`. Tune builds the
    trainable's class from `fn` with `fn.__mixins__` as extra bases, and
    `tune.with_parameters` keeps the attribute."""
    fn.__mixins__ = (ExitsOnStop, *getattr(fn, "__mixins__", ()))
    return fn
