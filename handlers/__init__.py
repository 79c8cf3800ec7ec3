"""Conversations (platform-neutral flows and commands) and the thin platform adapters."""
