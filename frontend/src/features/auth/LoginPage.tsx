import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../../api';
import { Button } from '../../components/Button';
import { tooManyAttemptsMessage } from '../../components/errorMessage';
import { TextField } from '../../components/Field';
import { Alert } from '../../components/States';
import { useAuth } from './authContext';

/** A 422 that names neither field: the e-mail has accounts in several tenants and one must be chosen. */
function asksForTenant(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    error.status === 422 &&
    !error.fieldErrors.some((e) => e.pointer === '/email' || e.pointer === '/password')
  );
}

function loginErrorMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : 'Something went wrong. Please try again.';
  if (error.status === 401) return 'Incorrect email or password.';
  if (asksForTenant(error)) return 'This email has accounts in several companies. Enter the company (tenant) to sign in to.';
  if (error.status === 429) return tooManyAttemptsMessage(error);
  return error.userMessage;
}

export function LoginPage() {
  const { user, notice, login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [tenant, setTenant] = useState('');
  const [needsTenant, setNeedsTenant] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);

  if (user && !submitting) return <Navigate to={from} replace />;

  const fieldError = (name: string) =>
    error instanceof ApiError ? (error.fieldErrors.find((e) => e.pointer.endsWith(`/${name}`))?.message ?? null) : null;

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim() || !password) {
      setError(new Error('Enter your email and password.'));
      return;
    }
    if (needsTenant && !tenant.trim()) {
      setError(new Error('Enter the company (tenant) to sign in to.'));
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      await login(email.trim(), password, needsTenant ? tenant.trim() : undefined);
      navigate(from, { replace: true });
    } catch (e) {
      if (asksForTenant(e)) setNeedsTenant(true);
      setError(e);
      setSubmitting(false);
    }
  };

  return (
    <main className="login">
      <form className="card login__card stack" onSubmit={onSubmit} noValidate aria-labelledby="login-title">
        <div>
          <h1 id="login-title">Activity Log</h1>
          <p className="muted" style={{ margin: '4px 0 0' }}>
            Sign in to review who did what, when and where.
          </p>
        </div>
        {notice && !error && <Alert tone="info">{notice}</Alert>}
        {error != null && <Alert>{loginErrorMessage(error)}</Alert>}
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          error={fieldError('email')}
          onChange={(e) => setEmail(e.target.value)}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          error={fieldError('password')}
          onChange={(e) => setPassword(e.target.value)}
        />
        {needsTenant && (
          <TextField
            label="Company (tenant)"
            name="tenant"
            autoComplete="organization"
            placeholder="e.g. acme"
            required
            // Shown only after a submit that needs it: focus moves to the one field now missing,
            // not onto a page as it loads.
            // eslint-disable-next-line jsx-a11y/no-autofocus
            autoFocus
            value={tenant}
            error={fieldError('tenant')}
            onChange={(e) => setTenant(e.target.value)}
          />
        )}
        <Button type="submit" variant="primary" disabled={submitting}>
          {submitting ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
    </main>
  );
}
