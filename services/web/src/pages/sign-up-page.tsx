import { useState } from 'preact/hooks'
import { api, data } from '../api/client.ts'
import { ApiError, fieldErrorsOf } from '../api/problem.ts'
import { Link } from '../components/link.tsx'
import { ProblemAlert } from '../components/problem-alert.tsx'
import { TextField } from '../components/text-field.tsx'
import { navigate, place } from '../router.ts'
import { signIn } from '../session/session.ts'
import { nextPlace } from './sign-in-page.tsx'

/** SignUpPage opens an account and signs in with it. */
export function SignUpPage() {
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const fields = fieldErrorsOf(error)
  if (error instanceof ApiError && error.status === 409) {
    fields.email = 'An account with this email exists already: sign in instead.'
  }

  const submit = async (event: Event) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await data(
        api.POST('/api/auth/register', {
          body: { name: name.trim(), email: email.trim(), password },
        }),
      )
      await signIn(email.trim(), password)
      navigate(nextPlace(), { replace: true })
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }

  const generalError = error !== undefined && Object.keys(fields).length === 0 ? error : undefined
  return (
    <section class="narrow">
      <h1 tabIndex={-1}>Create an account</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <TextField
          id="name"
          label="Name"
          autoComplete="name"
          value={name}
          onInput={setName}
          error={fields.name}
          required
        />
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
          autoComplete="new-password"
          hint="8 to 128 characters."
          value={password}
          onInput={setPassword}
          error={fields.password}
          required
        />
        {generalError !== undefined && <ProblemAlert error={generalError} />}
        {Object.keys(fields).length > 0 && (
          <p class="alert" role="alert">
            Please correct the fields marked above.
          </p>
        )}
        <button class="button primary" type="submit" disabled={busy}>
          {busy ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p>
        Have an account?{' '}
        <Link href={`/sign-in${place.value.query.size > 0 ? `?${place.value.query}` : ''}`}>
          Sign in
        </Link>
      </p>
    </section>
  )
}
