"""What an experiment's tables hold and how they are read: leaderboards, selection inputs, the
experiment a directory belongs to, genotype references."""
