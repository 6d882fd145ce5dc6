-- products: what the shop sells. Stock is kept as on-hand and reserved counts so that reserving
-- is one conditional update and `available` can never go negative.
create table products (
  id uuid primary key,
  sku text not null,
  name text not null,
  description text not null default '',
  price_amount integer not null check (price_amount >= 0),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  stock_on_hand integer not null check (stock_on_hand >= 0),
  stock_reserved integer not null default 0 check (stock_reserved >= 0),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint products_reserved_within_on_hand check (stock_reserved <= stock_on_hand)
);

create unique index products_sku_key on products (lower(sku));
