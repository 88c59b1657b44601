import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type CreatedToken, type TokenScope } from '../../api';
import { Button } from '../../components/Button';
import { fieldErrorOf, formErrorMessage } from '../../components/errorMessage';
import { TextField } from '../../components/Field';
import { Modal } from '../../components/Modal';
import { Alert } from '../../components/States';
import { adminKeys } from './queries';

const FIELDS = ['name', 'scopes', 'expires_in_days'];

export const SCOPE_OPTIONS: { value: TokenScope; label: string }[] = [
  { value: 'events:write', label: 'events:write — send events' },
  { value: 'events:read', label: 'events:read — read events back' },
];

/** What is missing or out of range before the form is worth sending, by API field. */
function validate(name: string, scopes: TokenScope[], days: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!name.trim()) errors.name = 'Enter a name, e.g. the application and environment.';
  if (scopes.length === 0) errors.scopes = 'Choose at least one scope.';
  const n = Number(days);
  if (days.trim() && (!Number.isInteger(n) || n < 1 || n > 3650)) errors.expires_in_days = 'Enter whole days from 1 to 3650.';
  return errors;
}

/** Creates an API token, then shows its secret this one time. */
export function CreateTokenDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<TokenScope[]>(['events:write']);
  const [days, setDays] = useState('');
  const [checked, setChecked] = useState(false);
  const creation = useMutation({
    mutationFn: () => api.createToken({ name: name.trim(), scopes, ...(days.trim() ? { expires_in_days: Number(days) } : {}) }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: adminKeys.tokens }),
    // The secret must not outlive this dialog in the mutation cache.
    gcTime: 0,
  });

  const local = checked ? validate(name, scopes, days) : {};
  const errorFor = (field: string) => local[field] ?? fieldErrorOf(creation.error, field);
  const scopesError = errorFor('scopes');

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (Object.keys(validate(name, scopes, days)).length === 0) creation.mutate();
  };

  if (creation.data) return <TokenSecret created={creation.data} onClose={onClose} />;

  return (
    <Modal title="New API token" onClose={onClose}>
      <form className="stack" onSubmit={onSubmit} noValidate aria-label="New API token">
        {creation.isError && <Alert>{formErrorMessage(creation.error, FIELDS)}</Alert>}
        <TextField
          label="Name"
          name="name"
          required
          value={name}
          error={errorFor('name')}
          onChange={(e) => setName(e.target.value)}
        />
        <fieldset className="fieldset" aria-describedby={scopesError ? 'token-scopes-error' : undefined}>
          <legend className="field__label">Scopes</legend>
          {SCOPE_OPTIONS.map((option) => (
            <label key={option.value} className="row">
              <input
                type="checkbox"
                checked={scopes.includes(option.value)}
                onChange={(e) =>
                  setScopes((current) =>
                    e.target.checked ? [...current, option.value] : current.filter((s) => s !== option.value),
                  )
                }
              />
              <span className="mono">{option.label}</span>
            </label>
          ))}
          {scopesError && (
            <span id="token-scopes-error" className="field__error">
              {scopesError}
            </span>
          )}
        </fieldset>
        <TextField
          label="Expires in (days, optional)"
          name="expires_in_days"
          type="number"
          inputMode="numeric"
          min={1}
          max={3650}
          placeholder="Never expires"
          value={days}
          error={errorFor('expires_in_days')}
          onChange={(e) => setDays(e.target.value)}
        />
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={creation.isPending}>
            {creation.isPending ? 'Creating…' : 'Create token'}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * The secret, shown once. The dialog stays open (Esc and the backdrop too) until its reader says
 * they copied it: closing it by a slip would lose the secret for good.
 */
function TokenSecret({ created, onClose }: { created: CreatedToken; onClose: () => void }) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const [kept, setKept] = useState(false);
  const [refused, setRefused] = useState(false);
  const onCopy = async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopy('copied');
    } catch {
      setCopy('failed');
    }
  };

  return (
    <Modal
      title={`Token “${created.token.name}” created`}
      onClose={onClose}
      closable={kept}
      onCloseRefused={() => setRefused(true)}
      testId="token-secret"
    >
      <div className="stack">
        <Alert tone="info">
          Copy the secret now and store it safely. <strong>You will not see it again</strong>: only a hash of it is kept.
        </Alert>
        <TextField label="Secret" readOnly className="input mono" value={created.secret} onFocus={(e) => e.target.select()} />
        <p className="muted" style={{ margin: 0 }}>
          Send it as <code>Authorization: Bearer &lt;secret&gt;</code>.
        </p>
        <label className="row">
          <input
            type="checkbox"
            checked={kept}
            onChange={(e) => {
              setKept(e.target.checked);
              setRefused(false);
            }}
          />
          <span>I have copied the secret and stored it safely</span>
        </label>
        {refused && !kept && (
          <p className="field__error" role="alert" style={{ margin: 0 }}>
            Copy the secret and tick the box first: once this closes, the secret is gone.
          </p>
        )}
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <span aria-live="polite" className="muted">
            {copy === 'copied' && 'Copied to the clipboard.'}
            {copy === 'failed' && 'Copying failed: select the secret and copy it by hand.'}
          </span>
          <Button onClick={onCopy}>Copy secret</Button>
          <Button variant="primary" onClick={onClose} disabled={!kept}>
            Done
          </Button>
        </div>
      </div>
    </Modal>
  );
}
