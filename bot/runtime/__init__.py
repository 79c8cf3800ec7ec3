"""The composition root and the processes (cli, web, worker): the only place that imports adapters.

Nothing imports this package; the kernel receives its `Deps` (bot/deps.py) instead."""
