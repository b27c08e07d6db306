"""Bad input to the search space (unknown op or genotype, malformed string, α of the wrong shape)."""


class SearchSpaceError(ValueError):
    """One sentence naming the field, the value and what is allowed; the CLI exits 2 on it."""
