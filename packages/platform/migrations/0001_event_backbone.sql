-- outbox holds events written in the same transaction as the state change they describe; the
-- relay publishes pending rows in position order, marks them sent, and prunes old sent rows.
create table outbox (
  position bigint generated always as identity primary key,
  event_id uuid not null unique,
  event_type text not null,
  subject text,
  envelope jsonb not null,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index outbox_pending on outbox (position) where sent_at is null;
create index outbox_sent_at on outbox (sent_at) where sent_at is not null;

-- outbox_notify wakes relays listening on `outbox` when a transaction that added events commits
-- (Postgres delivers notifications at commit, one per transaction and channel).
create function outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('outbox', '');
  return null;
end
$$;
create trigger outbox_notify after insert on outbox
  for each statement execute function outbox_notify();

-- outbox_relay_lease names the one relay replica that publishes, so rows go out once and in order.
create table outbox_relay_lease (
  name text primary key,
  holder text not null,
  expires_at timestamptz not null
);

-- inbox records each event a consumer has applied, in the same transaction as its effect.
create table inbox (
  consumer text not null,
  event_id uuid not null,
  handled_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
create index inbox_handled_at on inbox (handled_at);

-- dead_letters keeps every event a consumer gave up on, as received, with why and how often.
create table dead_letters (
  id bigint generated always as identity primary key,
  consumer text not null,
  event_id text not null,
  event_type text not null,
  event text not null,
  reason text not null,
  attempts integer not null,
  dead_lettered_at timestamptz not null default now(),
  unique (consumer, event_id)
);
