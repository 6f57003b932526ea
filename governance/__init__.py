"""Pure domain rules: no I/O, no aiogram, no database.

Everything here is a function of its arguments (and the injected clock), so the rules the
national inspection imposes can be tested without a bot or a database.
"""
