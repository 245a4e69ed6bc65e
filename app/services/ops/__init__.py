"""What operators see and do about syncs that need a person: failed quantity syncs,
their retries, and renewal drafts billed at an unexpected quantity.

Queries over the ``syncs`` read model and the retry service; no HTTP, no CLI (those are
``app/entrypoints/http/routes/ops.py`` and ``app/entrypoints/cli/ops.py``). See docs/operations.md.
"""
