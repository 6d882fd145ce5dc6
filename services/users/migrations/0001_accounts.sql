-- users are the accounts. email keeps the address as given; email_key is its normalized form
-- (trimmed, NFC, lower case, computed in TypeScript so PGlite and Postgres agree whatever their
-- locale) and is what makes addresses unique case-insensitively.
create table users (
  id uuid primary key,
  email text not null,
  email_key text not null unique,
  name text not null,
  password_hash text not null,
  role text not null check (role in ('customer', 'admin')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- sessions are refresh token families: one per sign-in, revoked as a whole on logout or when a
-- rotated token comes back. expires_at follows the newest token, so stale families can be pruned.
create table sessions (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text check (revoked_reason in ('logout', 'reuse'))
);
create index sessions_user_id on sessions (user_id);
create index sessions_expires_at on sessions (expires_at);

-- refresh_tokens holds only SHA-256 hashes (hex) of the opaque tokens handed out. used_at is set
-- when a token is rotated; a used token presented again is the sign of a stolen one.
create table refresh_tokens (
  token_hash text primary key,
  session_id uuid not null references sessions (id) on delete cascade,
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index refresh_tokens_session_id on refresh_tokens (session_id);

-- login_throttles counts sign-in attempts per normalized email (known or not, so the throttle
-- says nothing about which accounts exist) and holds the wait before the next one. Stored here,
-- not in memory, so every replica sees the same count.
create table login_throttles (
  email_key text primary key,
  attempts integer not null,
  locked_until timestamptz,
  last_attempt_at timestamptz not null
);
create index login_throttles_last_attempt_at on login_throttles (last_attempt_at);
