"""An instance (JSON object) with some fields changed, for tests of bad input."""
import copy


def edited(base: dict, **changes) -> dict:
    """``base`` with ``section__key=value`` changes (``section=value`` replaces a whole section)."""
    obj = copy.deepcopy(base)
    for path, value in changes.items():
        head, _, tail = path.partition("__")
        if tail:
            obj[head][tail] = value
        else:
            obj[head] = value
    return obj
