"""Peerlink: the platform-neutral kernel."""
