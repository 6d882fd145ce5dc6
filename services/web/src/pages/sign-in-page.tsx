import { useState } from 'preact/hooks'
import { ApiError, fieldErrorsOf } from '../api/problem.ts'
import { Link } from '../components/link.tsx'
import { ProblemAlert } from '../components/problem-alert.tsx'
import { TextField } from '../components/text-field.tsx'
import { navigate, place } from '../router.ts'
import { session, signIn } from '../session/session.ts'

/** nextPlace is where to go after signing in: the `next` address when it is one of the shop's. */
export function nextPlace(): string {
  const next = place.value.query.get('next') ?? '/'
  return next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

/** SignInPage signs the shopper in and goes back to where they were. */
export function SignInPage() {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const notice = session.value.status === 'anonymous' ? session.value.notice : undefined
  const fields = fieldErrorsOf(error)

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await signIn(email.trim(), password)
      navigate(nextPlace(), { replace: true })
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  const wrongCredentials = error instanceof ApiError && error.status === 401
  return (
    <section class="narrow">
      <h1 tabIndex={-1}>Sign in</h1>
      {notice && !error && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <TextField
          id="email"
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onInput={setEmail}
          error={fields.email}
          required
        />
        <TextField
          id="password"
          label="Password"
          password
          autoComplete="current-password"
          value={password}
          onInput={setPassword}
          error={fields.password}
          required
        />
        {wrongCredentials ? (
          <p class="alert" role="alert">
            The email or password is wrong.
          </p>
        ) : (
          error !== undefined && <ProblemAlert error={error} />
        )}
        <button class="button primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New here?{' '}
        <Link href={`/sign-up${place.value.query.size > 0 ? `?${place.value.query}` : ''}`}>
          Create an account
        </Link>
      </p>
    </section>
  )
}
