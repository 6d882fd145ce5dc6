-- stock_reservations: stock held for one order, keyed by order id so that a redelivered
-- `order.placed` reserves once. A row without lines is a tombstone: the order was closed before
-- its reservation was asked for, and a late `order.placed` must not hold stock for it.
create table stock_reservations (
  id uuid primary key,
  order_id uuid not null unique,
  status text not null check (status in ('HELD', 'COMMITTED', 'RELEASED', 'EXPIRED', 'FAILED', 'RESTOCKED')),
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index stock_reservations_held_by_expiry on stock_reservations (expires_at) where status = 'HELD';

create table stock_reservation_lines (
  reservation_id uuid not null references stock_reservations (id),
  product_id uuid not null references products (id),
  quantity integer not null check (quantity > 0),
  primary key (reservation_id, product_id)
);
