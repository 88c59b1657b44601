import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type ManagedUser, type Role } from '../../api';
import { Button } from '../../components/Button';
import { fieldErrorOf, formErrorMessage } from '../../components/errorMessage';
import { SelectField, TextField } from '../../components/Field';
import { Modal } from '../../components/Modal';
import { Alert } from '../../components/States';
import { adminKeys } from './queries';
import { ROLE_OPTIONS } from './roles';

const FIELDS = ['name', 'email', 'password', 'role', 'actor_id'];

type Draft = { name: string; email: string; password: string; role: Role; actorId: string };

/** What is missing before the form is worth sending; the API checks the rest. */
function validate(draft: Draft): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!draft.name.trim()) errors.name = 'Enter a name.';
  if (!draft.email.trim()) errors.email = 'Enter an email address.';
  else if (!/^[^\s@]+@[^\s@]+$/.test(draft.email.trim())) errors.email = 'Enter a valid email address.';
  if (draft.password.length < 10) errors.password = 'Use at least 10 characters.';
  return errors;
}

export function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (user: ManagedUser) => void }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>({ name: '', email: '', password: '', role: 'member', actorId: '' });
  const [checked, setChecked] = useState(false);
  const creation = useMutation({
    mutationFn: () =>
      api.createUser({
        name: draft.name.trim(),
        email: draft.email.trim(),
        password: draft.password,
        role: draft.role,
        ...(draft.actorId.trim() ? { actor_id: draft.actorId.trim() } : {}),
      }),
    onSuccess: async (user) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.users });
      onCreated(user);
    },
  });
  const local = checked ? validate(draft) : {};
  const errorFor = (field: keyof Draft, apiField: string) => local[field] ?? fieldErrorOf(creation.error, apiField);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (Object.keys(validate(draft)).length === 0) creation.mutate();
  };

  return (
    <Modal title="Add a user" onClose={onClose}>
      <form className="stack" onSubmit={onSubmit} noValidate aria-label="Add a user">
        {creation.isError && <Alert>{formErrorMessage(creation.error, FIELDS)}</Alert>}
        <TextField
          label="Name"
          name="name"
          required
          value={draft.name}
          error={errorFor('name', 'name')}
          onChange={(e) => set({ name: e.target.value })}
        />
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="off"
          required
          value={draft.email}
          error={errorFor('email', 'email')}
          onChange={(e) => set({ email: e.target.value })}
        />
        <TextField
          label="Initial password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          value={draft.password}
          error={errorFor('password', 'password')}
          onChange={(e) => set({ password: e.target.value })}
        />
        <SelectField
          label="Role"
          name="role"
          options={ROLE_OPTIONS}
          value={draft.role}
          onChange={(e) => set({ role: e.target.value as Role })}
        />
        <TextField
          label="Actor id in the host application (optional)"
          name="actor_id"
          value={draft.actorId}
          error={fieldErrorOf(creation.error, 'actor_id')}
          onChange={(e) => set({ actorId: e.target.value })}
        />
        <p className="muted" style={{ margin: 0 }}>
          Events whose actor id matches are this user's own. Leave it empty to use the new user's id.
        </p>
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={creation.isPending}>
            {creation.isPending ? 'Adding…' : 'Add user'}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
