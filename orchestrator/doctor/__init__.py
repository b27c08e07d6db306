"""`alphadarts doctor`'s machinery: what a new machine or cluster is checked for before a
search (orchestrator.commands.doctor_cmd runs it). Imported only by that command."""
