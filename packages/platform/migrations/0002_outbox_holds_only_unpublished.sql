-- The outbox now holds only events not yet published: the process that commits them publishes
-- them at once from memory and deletes their rows in bulk, and a relay publishes what is left
-- (after a crash or a broker outage) from the table. So no commit notifies anyone: pg_notify
-- takes a cluster-wide lock held through the commit's flush, which capped every service's
-- commits per second. Rows are found by position; nothing else needs an index.
delete from outbox where sent_at is not null;
drop trigger outbox_notify on outbox;
drop function outbox_notify();
drop index outbox_pending;
drop index outbox_sent_at;
alter table outbox drop column sent_at;
alter table outbox drop constraint outbox_event_id_key;
