import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api';
import { Button } from '../../components/Button';
import { fieldErrorOf, formErrorMessage, tooManyAttemptsMessage } from '../../components/errorMessage';
import { TextField } from '../../components/Field';
import { Modal } from '../../components/Modal';
import { Alert } from '../../components/States';
import { sessionStore } from '../auth/sessionStore';

const FIELDS = ['current_password', 'new_password'];

/** What is missing before the form is worth sending; the API judges the password's strength. */
function validate(current: string, next: string, repeat: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!current) errors.current_password = 'Enter your current password.';
  if (next.length < 10) errors.new_password = 'Use at least 10 characters.';
  else if (next === current) errors.new_password = 'Choose a password different from the current one.';
  if (repeat !== next) errors.repeat = 'The two new passwords differ.';
  return errors;
}

function changeErrorMessage(error: unknown): string {
  if (error instanceof ApiError && error.status === 429) return tooManyAttemptsMessage(error);
  return formErrorMessage(error, FIELDS);
}

export function ChangePasswordDialog({ onClose }: { onClose: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [checked, setChecked] = useState(false);
  const change = useMutation({
    mutationFn: () => api.changePassword({ current_password: current, new_password: next }),
    // The token this session had stopped working with the change: the answer carries its successor.
    onSuccess: (session) => sessionStore.signIn(session),
  });
  const local = checked ? validate(current, next, repeat) : {};
  const errorFor = (field: string) => local[field] ?? fieldErrorOf(change.error, field);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (Object.keys(validate(current, next, repeat)).length === 0) change.mutate();
  };

  return (
    <Modal title="Change password" onClose={onClose}>
      {change.isSuccess ? (
        <div className="stack">
          <Alert tone="info">Your password was changed. Your other sessions were signed out.</Alert>
          <div className="row" style={{ justifyContent: 'flex-end' }}>
            <Button variant="primary" onClick={onClose}>
              Done
            </Button>
          </div>
        </div>
      ) : (
        <form className="stack" onSubmit={onSubmit} noValidate aria-label="Change password">
          {change.isError && <Alert>{changeErrorMessage(change.error)}</Alert>}
          <TextField
            label="Current password"
            type="password"
            autoComplete="current-password"
            required
            value={current}
            error={errorFor('current_password')}
            onChange={(e) => setCurrent(e.target.value)}
          />
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            value={next}
            error={errorFor('new_password')}
            onChange={(e) => setNext(e.target.value)}
          />
          <TextField
            label="Repeat the new password"
            type="password"
            autoComplete="new-password"
            required
            value={repeat}
            error={errorFor('repeat')}
            onChange={(e) => setRepeat(e.target.value)}
          />
          <p className="muted" style={{ margin: 0 }}>
            At least 10 characters, 4 of them different, and not your email address.
          </p>
          <div className="row" style={{ justifyContent: 'flex-end' }}>
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={change.isPending}>
              {change.isPending ? 'Changing…' : 'Change password'}
            </Button>
          </div>
        </form>
      )}
    </Modal>
  );
}
