-- The sign-in throttle counts per email AND client address, so that failures from one address
-- never hold back the owner signing in from another (docs/decisions/0012-hardening.md). The old
-- per-email counts are dropped: they are minutes of state, and mean nothing per address.
drop table login_throttles;
create table login_throttles (
  email_key text not null,
  client_address text not null,
  attempts integer not null,
  locked_until timestamptz,
  last_attempt_at timestamptz not null,
  primary key (email_key, client_address)
);
create index login_throttles_last_attempt_at on login_throttles (last_attempt_at);

-- login_failures counts an email's failed sign-ins from every address together: once an email
-- is being guessed from many addresses, each address gets one free attempt instead of several.
create table login_failures (
  email_key text primary key,
  failures integer not null,
  last_failure_at timestamptz not null
);
create index login_failures_last_failure_at on login_failures (last_failure_at);
