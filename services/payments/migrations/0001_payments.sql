-- payments: at most one per order, the charge of its total. payment_method is the processor's
-- token (pm_...); it is null when the request carried what looks like a card number, which is
-- never stored. charge_outstanding is true from just before a charge is sent to the processor
-- until its answer is recorded: a payment left so by a crash may have been charged, and only
-- asking the processor again with the same key tells. order_closed_at is set once the order was
-- cancelled or rejected: from then on the payment is not charged, and a succeeded one is refunded.
create table payments (
  id uuid primary key,
  order_id uuid not null unique,
  user_id uuid not null,
  amount integer not null check (amount >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  payment_method text,
  status text not null check (status in ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED')),
  failure_reason text,
  charge_outstanding boolean not null default false,
  charge_id text,
  refund_id text,
  order_closed_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  constraint payments_failed_with_reason check ((status = 'FAILED') = (failure_reason is not null))
);

-- Lists: a customer's payments newest first, and everyone's for admins.
create index payments_by_user on payments (user_id, created_at desc, id desc);
create index payments_by_time on payments (created_at desc, id desc);

-- The reconciler's work: payments still waiting for a charge's answer or for a refund.
create index payments_unsettled on payments (updated_at)
  where status = 'PENDING' or (status = 'SUCCEEDED' and order_closed_at is not null);

-- order_closures remembers every order that was cancelled or rejected, so that a payment request
-- that arrives after (the events come on different streams) is not charged.
create table order_closures (
  order_id uuid primary key,
  closed_by text not null check (closed_by in ('cancelled', 'rejected')),
  closed_at timestamptz not null default now()
);
