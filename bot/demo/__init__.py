"""``python -m bot demo``: the real bot with nothing but the repository.

``botapi`` is an embedded Bot API (a test double of Telegram for offline use), ``farm`` serves
clock-driven feeds, ``scenario`` seeds an office, ``web`` is the chat page and its API, and
``run`` wires them to the production :class:`~bot.app.BotApp`.
"""
