"""Marking strings for translation without depending on aiogram.

Pure code cannot call gettext (the locale belongs to whoever reads the message), so it marks
message ids with :func:`N_` and the shell translates them when rendering. ``pybabel extract``
is run with ``-k N_`` so these ids land in the catalogs.
"""


def N_(message: str) -> str:
    """Mark ``message`` for extraction; return it unchanged."""
    return message
