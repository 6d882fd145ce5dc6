-- orders: one row per order, with the saga's position while it is PENDING. `saga_step` and
-- `step_deadline` are set exactly while the order is PENDING; the sweeper rejects an order whose
-- deadline passed. Amounts are integer minor units in `currency`; totals are bigint because 50
-- lines of 100 units at a catalogue price can exceed an integer.
create table orders (
  id uuid primary key,
  user_id uuid not null,
  status text not null check (status in ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED')),
  saga_step text check (saga_step in ('awaiting_stock', 'awaiting_payment')),
  step_deadline timestamptz,
  total_amount bigint not null check (total_amount >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  -- payment_method is a processor token (pm_...), never a card number: placement refuses those.
  payment_method text not null,
  payment_id uuid,
  reservation_id uuid,
  -- status_history is the order's story as the API shows it: [{status, at, reason}], appended to.
  status_history jsonb not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  constraint orders_step_while_pending check (
    (status = 'PENDING') = (saga_step is not null and step_deadline is not null)
  )
);

-- A customer's history and the admin's list page newest first on (created_at, id); a status
-- filter walks the same index. No index leads with status: every saga step changes it, and each
-- index is one more entry to write per step on the checkout's hot path.
create index orders_user_newest on orders (user_id, created_at desc, id desc);
create index orders_newest on orders (created_at desc, id desc);
-- The sweeper looks only at PENDING orders, by deadline.
create index orders_pending_deadline on orders (step_deadline) where status = 'PENDING';

-- order_lines are an order's items as quoted at placement; they never change afterwards.
create table order_lines (
  order_id uuid not null references orders (id) on delete cascade,
  line_no smallint not null,
  product_id uuid not null,
  sku text not null,
  name text not null,
  unit_price_amount bigint not null check (unit_price_amount >= 0),
  quantity integer not null check (quantity > 0),
  primary key (order_id, line_no)
);

-- catalog_products is orders' read model of the catalogue, fed by catalog.product.changed.v1
-- (applied only when its version is newer) and, on a miss, by one fetch from the catalog API,
-- stored with version 0 so that any event replaces it.
create table catalog_products (
  id uuid primary key,
  sku text not null,
  name text not null,
  price_amount bigint not null check (price_amount >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  version integer not null,
  updated_at timestamptz not null default now()
);

-- idempotency_keys remembers the response to each POST /orders sent with an Idempotency-Key, per
-- user, so a retry gets the same order back. A row exists only once its order committed (same
-- transaction); a request still running holds an advisory lock on the key instead.
create table idempotency_keys (
  user_id uuid not null,
  key text not null,
  request_hash text not null,
  order_id uuid not null,
  response_status smallint not null,
  response_body jsonb not null,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);
create index idempotency_keys_created_at on idempotency_keys (created_at);
