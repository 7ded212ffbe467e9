"""The runtime's machinery: what runs once the logger is open.

``runtime`` (the root supervisor: open/close, routing table, flush, shutdown, report),
``router`` (which inboxes take an event of each level), ``actor`` (one sink actor: batching,
writing, retry, breaker, fallback, spool, replay), ``restart`` (the supervisor's restart
decisions), ``inbox`` (a sink's bounded queue and its flush ledger), ``breaker`` (the circuit
breaker), ``spool`` (the on-disk spool), ``handoff`` (events from other threads).
Nothing here is public: the package's API re-exports what users need.
"""
