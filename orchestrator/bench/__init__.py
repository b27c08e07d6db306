"""`alphadarts bench`'s machinery, driver side only: the timing harness (`run`) and the
straightforward supernet (`reference_supernet`) and search step (`reference_step`) it times
the project's fast ones against. Nothing here runs on a Ray worker."""
