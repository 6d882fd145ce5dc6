-- The simulated card processor's own records: what a real processor keeps on its side. They live
-- in the payments database only so that `npm start` needs nothing else; payments' code never reads
-- them, and like a real processor's they outlive a payments crash. No card data is kept:
-- request_hash fingerprints the parameters so that a key reused for another request is refused.
create table simulated_processor_charges (
  idempotency_key text primary key,
  request_hash text not null,
  charge_id text not null unique,
  status text not null check (status in ('succeeded', 'declined')),
  decline_reason text,
  amount integer not null check (amount >= 0),
  currency text not null,
  created_at timestamptz not null default now()
);

-- A charge is refunded at most once, in full.
create table simulated_processor_refunds (
  idempotency_key text primary key,
  refund_id text not null unique,
  charge_id text not null unique references simulated_processor_charges (charge_id),
  amount integer not null check (amount >= 0),
  currency text not null,
  created_at timestamptz not null default now()
);
