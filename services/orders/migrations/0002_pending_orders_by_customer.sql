-- A customer's PENDING orders, for the bound on what one customer may hold at once (placement
-- counts them). Only PENDING rows are in it, so it stays as small as the orders in flight.
create index orders_user_pending on orders (user_id) where status = 'PENDING';
