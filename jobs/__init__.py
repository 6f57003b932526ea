"""Scheduled work. Jobs open their own sessions, take the clock as an argument, and enqueue
messages into the outbox; they never talk to Telegram themselves."""
