"""One root exception, and one subclass per kind of user mistake.

Messages echo the offending ``name=value`` and say what would work instead,
so the CLI can print them as they are (exit code 2) instead of a traceback.
"""


class VerifierError(Exception):
    """Root of every error this package raises on purpose."""


class SpecError(VerifierError):
    """A spec module is malformed: missing attribute, wrong type, bad expression."""


class InstanceError(VerifierError):
    """An instance is invalid: wrong shapes, non-positive hyperparameters, NaN data."""


class UsageError(VerifierError):
    """The command line or API was called with arguments that cannot work."""


class UnknownClaimError(SpecError, KeyError):
    """A claim name the theorem does not have (``Theorem.claim``, ``only_claims``, ``--claim``).

    Also a KeyError, for callers that look a claim up as in a mapping."""

    def __str__(self) -> str:         # KeyError's would quote the message
        return str(self.args[0]) if self.args else ""
