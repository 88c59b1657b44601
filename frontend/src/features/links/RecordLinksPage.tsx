import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, type RecordLinks } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { TextField } from '../../components/Field';
import { Skeleton } from '../../components/Skeleton';
import { Alert, ErrorState } from '../../components/States';
import { linkKeys, useRecordLinks } from './queries';
import { appNameProblem, MAX_TEMPLATES, recordTypeProblem, renderLink, templateProblem } from './template';

/** The id the preview fills in. */
const SAMPLE_ID = '12345';

/** Keys for rows, unique for the page's life. */
let lastRowKey = 0;
const newRowKey = () => ++lastRowKey;

interface Row {
  /** Stable across edits and removals, for React's keys. */
  key: number;
  entity_type: string;
  url: string;
  /** Edited since shown: its problems are said as the admin types. */
  touched: boolean;
}

interface Draft {
  app_name: string;
  nameTouched: boolean;
  rows: Row[];
}

function toDraft(from: RecordLinks): Draft {
  return {
    app_name: from.app_name,
    nameTouched: false,
    rows: from.templates.map((t) => ({ key: newRowKey(), entity_type: t.entity_type, url: t.url, touched: false })),
  };
}

type RowErrors = { entity_type: string | null; url: string | null };

/** What cannot be sent as it is: the name, and each row's fields (the server's rule, mirrored). */
function validate(draft: Draft): { app_name: string | null; rows: RowErrors[] } {
  const seen = new Set<string>();
  const rows = draft.rows.map((row) => {
    let entity_type = recordTypeProblem(row.entity_type);
    if (entity_type === null && seen.has(row.entity_type)) entity_type = `${row.entity_type} has a link above already.`;
    seen.add(row.entity_type);
    return { entity_type, url: templateProblem(row.url) };
  });
  return { app_name: appNameProblem(draft.app_name), rows };
}

const hasProblems = (problems: ReturnType<typeof validate>) =>
  problems.app_name !== null || problems.rows.some((r) => r.entity_type !== null || r.url !== null);

/** The server's message about the member at `pointer`. */
function serverError(error: unknown, pointer: string): string | null {
  if (!(error instanceof ApiError)) return null;
  return error.fieldErrors.find((e) => e.pointer === pointer)?.message ?? null;
}

function RecordLinksForm({ links }: { links: RecordLinks }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => toDraft(links));
  const [submitted, setSubmitted] = useState(false);
  const saving = useMutation({
    mutationFn: (next: RecordLinks) => api.setRecordLinks(next),
    onSuccess: (saved) => {
      queryClient.setQueryData(linkKeys.settings, saved);
      setDraft(toDraft(saved));
      setSubmitted(false);
    },
  });

  const problems = validate(draft);
  const edited = () => {
    if (saving.isSuccess || saving.isError) saving.reset();
  };
  const setRow = (key: number, change: Partial<Row>) => {
    setDraft((d) => ({ ...d, rows: d.rows.map((r) => (r.key === key ? { ...r, ...change, touched: true } : r)) }));
    edited();
  };
  const addRow = () => {
    setDraft((d) => ({ ...d, rows: [...d.rows, { key: newRowKey(), entity_type: '', url: 'https://', touched: false }] }));
    edited();
  };
  const removeRow = (key: number) => {
    setDraft((d) => ({ ...d, rows: d.rows.filter((r) => r.key !== key) }));
    edited();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (hasProblems(problems)) return;
    saving.mutate({
      app_name: draft.app_name.trim(),
      templates: draft.rows.map((r) => ({ entity_type: r.entity_type, url: r.url })),
    });
  };

  // Said as the admin types once a field is edited; everything once a save is tried.
  const nameError = (draft.nameTouched || submitted ? problems.app_name : null) ?? serverError(saving.error, '/app_name');
  const listError = serverError(saving.error, '/templates');
  const shownByFields =
    saving.error instanceof ApiError &&
    saving.error.fieldErrors.length > 0 &&
    saving.error.fieldErrors.every((e) => e.pointer === '/app_name' || /^\/templates\/\d+\//.test(e.pointer));

  return (
    <form className="stack" onSubmit={onSubmit} noValidate aria-label="Record links">
      <TextField
        label="Application name"
        name="app_name"
        value={draft.app_name}
        error={nameError}
        hint={`Links read “Open in ${draft.app_name.trim() || '…'}”.`}
        onChange={(e) => {
          setDraft((d) => ({ ...d, app_name: e.target.value, nameTouched: true }));
          edited();
        }}
      />

      <fieldset className="fieldset">
        <legend className="field__label">Links by record type</legend>
        <p className="muted" style={{ marginTop: 0 }}>
          An https address with <code>{'{id}'}</code> where the record’s id goes, and optionally <code>{'{type}'}</code> for its
          type. Ids are percent-encoded.
        </p>
        {draft.rows.length === 0 && <p className="muted">No links yet: records open only in their history here.</p>}
        <ul className="stack" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {draft.rows.map((row, index) => {
            const local = row.touched || submitted ? problems.rows[index] : { entity_type: null, url: null };
            const typeError = local.entity_type ?? serverError(saving.error, `/templates/${index}/entity_type`);
            const urlError = local.url ?? serverError(saving.error, `/templates/${index}/url`);
            const preview = problems.rows[index].url === null ? renderLink(row.url, row.entity_type, SAMPLE_ID) : null;
            const name = row.entity_type || `row ${index + 1}`;
            return (
              <li
                key={row.key}
                className="row"
                style={{ alignItems: 'flex-start', flexWrap: 'wrap' }}
                data-testid="record-link-row"
              >
                <TextField
                  label="Record type"
                  name={`templates.${index}.entity_type`}
                  fieldClassName="field--narrow"
                  placeholder="booking"
                  value={row.entity_type}
                  error={typeError}
                  onChange={(e) => setRow(row.key, { entity_type: e.target.value })}
                />
                <TextField
                  label="URL template"
                  name={`templates.${index}.url`}
                  type="url"
                  inputMode="url"
                  spellCheck={false}
                  style={{ minWidth: '28rem' }}
                  value={row.url}
                  error={urlError}
                  hint={
                    preview ? (
                      <>
                        Record {SAMPLE_ID} opens <code data-testid="record-link-preview">{preview}</code>
                      </>
                    ) : undefined
                  }
                  onChange={(e) => setRow(row.key, { url: e.target.value })}
                />
                <Button
                  size="small"
                  variant="ghost"
                  aria-label={`Remove the link for ${name}`}
                  onClick={() => removeRow(row.key)}
                >
                  Remove
                </Button>
              </li>
            );
          })}
        </ul>
        <div>
          <Button onClick={addRow} disabled={draft.rows.length >= MAX_TEMPLATES}>
            Add a link
          </Button>
          {draft.rows.length >= MAX_TEMPLATES && <span className="muted"> At most {MAX_TEMPLATES} links.</span>}
        </div>
      </fieldset>

      {submitted && hasProblems(problems) && <Alert>Check the highlighted fields.</Alert>}
      {listError && <Alert>{listError}</Alert>}
      {saving.isError && !listError && (
        <Alert>{shownByFields ? 'Check the highlighted fields.' : errorMessage(saving.error)}</Alert>
      )}
      {saving.isSuccess && (
        <Alert tone="info">Saved. Records of the listed types now offer “Open in {saving.data.app_name}”.</Alert>
      )}
      <div>
        <Button type="submit" variant="primary" disabled={saving.isPending}>
          {saving.isPending ? 'Saving…' : 'Save links'}
        </Button>
      </div>
    </form>
  );
}

/** Links from a record into the host application (admins only). */
export function RecordLinksPage() {
  const links = useRecordLinks();
  return (
    <main className="page">
      <div className="page-title">
        <h1>Record links</h1>
        <span className="muted">Open records in the application they come from</span>
      </div>
      <section className="card admin-section">
        {links.isPending && (
          <div className="stack" aria-busy="true" aria-label="Loading the record links">
            <Skeleton width="40%" />
            <Skeleton width="60%" />
          </div>
        )}
        {links.isError && (
          <ErrorState
            title="The record links could not be loaded"
            message={errorMessage(links.error)}
            onRetry={() => void links.refetch()}
          />
        )}
        {links.data && <RecordLinksForm links={links.data} />}
      </section>
    </main>
  );
}
