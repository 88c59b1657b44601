import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type FieldVisibility } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage, formErrorMessage } from '../../components/errorMessage';
import { SelectField } from '../../components/Field';
import { Skeleton } from '../../components/Skeleton';
import { Alert, ErrorState } from '../../components/States';
import { adminKeys, useFieldVisibility } from './queries';

type Field = keyof FieldVisibility;
type HiddenFrom = FieldVisibility[Field];

/** The fields a tenant may hide, in the order the server lists them. */
export const HIDEABLE_FIELDS: { field: Field; label: string }[] = [
  { field: 'ip', label: 'IP address' },
  { field: 'user_agent', label: 'User agent' },
  { field: 'actor_email', label: "User's e-mail" },
  { field: 'changes', label: 'Changes (before and after values)' },
  { field: 'metadata', label: 'Metadata' },
];

const CHOICES: { value: HiddenFrom; label: string }[] = [
  { value: 'nobody', label: 'Every role sees it' },
  { value: 'members', label: 'Hidden from members' },
  { value: 'members_and_managers', label: 'Hidden from members and managers' },
];

function FieldVisibilityForm({ setting }: { setting: FieldVisibility }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<FieldVisibility>(setting);
  const saving = useMutation({
    mutationFn: (next: FieldVisibility) => api.setFieldVisibility(next),
    onSuccess: (saved) => {
      queryClient.setQueryData(adminKeys.fieldVisibility, saved);
      setDraft(saved);
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    saving.mutate(draft);
  };
  return (
    <form className="stack" onSubmit={onSubmit} noValidate aria-label="Field visibility">
      <p className="muted" style={{ margin: 0 }}>
        Admins always see every field. A hidden field is left out of every list, detail, record history, export, live view and
        feed for that role, which reads “Hidden from your role” instead, and the role can no longer filter, sort or search by it.
        The change applies at once, to views already open too.
      </p>
      {HIDEABLE_FIELDS.map(({ field, label }) => (
        <SelectField
          key={field}
          label={label}
          name={field}
          options={CHOICES}
          value={draft[field]}
          onChange={(e) => {
            setDraft({ ...draft, [field]: e.target.value as HiddenFrom });
            saving.reset();
          }}
        />
      ))}
      {saving.isError && (
        <Alert>
          {formErrorMessage(
            saving.error,
            HIDEABLE_FIELDS.map((f) => f.field),
          )}
        </Alert>
      )}
      {saving.isSuccess && <Alert tone="info">Saved. Every role now sees the fields as set here.</Alert>}
      <div>
        <Button type="submit" variant="primary" disabled={saving.isPending}>
          {saving.isPending ? 'Saving…' : 'Save field visibility'}
        </Button>
      </div>
    </form>
  );
}

/** Which event fields each role sees (admins only). */
export function FieldVisibilityPage() {
  const setting = useFieldVisibility();
  return (
    <main className="page">
      <div className="page-title">
        <h1>Field visibility</h1>
      </div>
      <section className="card admin-section" aria-labelledby="field-visibility-title">
        <h2 id="field-visibility-title">Fields hidden by role</h2>
        {setting.isPending && <Skeleton width="40%" />}
        {setting.isError && (
          <ErrorState
            title="The field visibility could not be loaded"
            message={errorMessage(setting.error)}
            onRetry={() => setting.refetch()}
          />
        )}
        {setting.isSuccess && <FieldVisibilityForm setting={setting.data} />}
      </section>
    </main>
  );
}
