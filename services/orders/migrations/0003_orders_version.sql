-- version counts an order's saga transitions. A saga step reads the order without a lock and
-- writes its change, its events and the inbox record in one statement that applies only if the
-- version is still the one it read: one round trip to read, one to write, no transaction held
-- open in between. Writers that lock the row (cancel, the deadline sweeper) bump it too. Code
-- from before this migration does not: upgrading, stop the old replicas before the new ones take
-- events.
alter table orders add column version integer not null default 0;
