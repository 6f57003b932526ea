"""Workflows: the only code that changes state, writes audit rows and queues notices.

Import direction (one way): ``handlers``/``jobs`` → ``workflows`` → ``models`` → ``governance``.
"""
