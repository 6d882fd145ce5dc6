-- version counts a payment's changes. A payment step reads the payment without a lock and writes
-- its change, its event and the inbox record in one statement that applies only if the version
-- is still the one it read (and, if the step did not know the order closed, no closure is
-- recorded): no transaction is held open around the statements, nor a lock across them.
alter table payments add column version integer not null default 0;
-- Every writer bumps it. Code from before this migration does not, so it must not run beside the
-- code that relies on it: upgrading, stop the old replicas before the new ones take events.
