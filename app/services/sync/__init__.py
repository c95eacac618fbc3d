"""The offline-sync core every diary record kind shares: create-or-replace writes with versions
and tombstones (``records``), preconditions and idempotency keys, keyset listing and cursors,
the batch upload, the change feed and the tombstone purge. Record kinds (``diary/``,
``treatments/``) describe their tables to it; it knows nothing of any one kind."""
