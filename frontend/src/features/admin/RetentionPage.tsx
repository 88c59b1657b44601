import { formatNumber } from '../../components/locale';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type Archive } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage, fieldErrorOf, formErrorMessage } from '../../components/errorMessage';
import { TextField } from '../../components/Field';
import { saveFile } from '../../components/saveFile';
import { Skeleton } from '../../components/Skeleton';
import { Alert, EmptyState, ErrorState } from '../../components/States';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { adminKeys, useArchives, useRetention } from './queries';

const PRESETS = [
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year (365 days)' },
  { days: 1095, label: '3 years (1095 days)' },
];

type Choice = 'forever' | 'custom' | `${number}`;

function choiceOf(days: number | null | undefined): Choice {
  if (days == null) return 'forever';
  return PRESETS.some((p) => p.days === days) ? `${days}` : 'custom';
}

export function describeRetention(days: number | null | undefined): string {
  if (days == null) return 'Events are kept forever.';
  return `Events older than ${formatNumber(days)} ${days === 1 ? 'day' : 'days'} are moved to archives.`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function RetentionForm({ days }: { days: number | null }) {
  const queryClient = useQueryClient();
  const [choice, setChoice] = useState<Choice>(choiceOf(days));
  const [custom, setCustom] = useState(choiceOf(days) === 'custom' ? String(days) : '');
  const [localError, setLocalError] = useState<string | null>(null);
  const saving = useMutation({
    mutationFn: (next: number | null) => api.setRetention({ days: next }),
    onSuccess: (saved) => queryClient.setQueryData(adminKeys.retention, saved),
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    let next: number | null = null;
    if (choice === 'custom') {
      next = Number(custom);
      if (!custom.trim() || !Number.isInteger(next) || next < 1 || next > 36500) {
        setLocalError('Enter whole days from 1 to 36500.');
        return;
      }
    } else if (choice !== 'forever') {
      next = Number(choice);
    }
    setLocalError(null);
    saving.mutate(next);
  };

  const options: { value: Choice; label: string }[] = [
    ...PRESETS.map((p) => ({ value: `${p.days}` as Choice, label: p.label })),
    { value: 'custom', label: 'Custom' },
    { value: 'forever', label: 'Keep forever' },
  ];

  return (
    <form className="stack" onSubmit={onSubmit} noValidate aria-label="Retention">
      <p style={{ margin: 0 }} data-testid="retention-current">
        <strong>Now:</strong> {describeRetention(days)}
      </p>
      <fieldset className="fieldset">
        <legend className="field__label">Keep events for</legend>
        {options.map((option) => (
          <label key={option.value} className="row">
            <input
              type="radio"
              name="retention"
              value={option.value}
              checked={choice === option.value}
              onChange={() => {
                setChoice(option.value);
                saving.reset();
              }}
            />
            <span>{option.label}</span>
          </label>
        ))}
      </fieldset>
      {choice === 'custom' && (
        <TextField
          label="Days"
          type="number"
          inputMode="numeric"
          min={1}
          max={36500}
          fieldClassName="field--narrow"
          value={custom}
          error={localError ?? fieldErrorOf(saving.error, 'days')}
          onChange={(e) => setCustom(e.target.value)}
        />
      )}
      <p className="muted" style={{ margin: 0 }}>
        Expired events are not deleted: they move to compressed archive files with a checksum, listed below, and the remaining
        chain still verifies.
      </p>
      {saving.isError && <Alert>{formErrorMessage(saving.error, choice === 'custom' ? ['days'] : [])}</Alert>}
      {saving.isSuccess && <Alert tone="info">Saved. {describeRetention(saving.data.days)}</Alert>}
      <div>
        <Button type="submit" variant="primary" disabled={saving.isPending}>
          {saving.isPending ? 'Saving…' : 'Save retention'}
        </Button>
      </div>
    </form>
  );
}

function ArchiveList() {
  const { zone } = useTimeZone();
  const archives = useArchives();
  const download = useMutation({
    mutationFn: (archive: Archive) => api.downloadArchive(archive),
    onSuccess: ({ blob, filename }) => saveFile(blob, filename),
  });

  if (archives.isPending) {
    return (
      <div className="stack" style={{ padding: 16 }} aria-busy="true" aria-label="Loading archives">
        <Skeleton />
        <Skeleton />
      </div>
    );
  }
  if (archives.isError) {
    return (
      <ErrorState
        title="The archives could not be loaded"
        message={errorMessage(archives.error)}
        onRetry={() => archives.refetch()}
      />
    );
  }
  if (archives.data.items.length === 0) {
    return <EmptyState title="No archives yet">Events are archived once they are older than the retention period.</EmptyState>;
  }
  return (
    <>
      {download.isError && <Alert>{errorMessage(download.error)}</Alert>}
      <div className="table-scroll">
        <table className="data-table data-table--admin" data-testid="archives-table">
          <thead>
            <tr>
              <th scope="col">Sequences</th>
              <th scope="col">Events</th>
              <th scope="col">Recorded</th>
              <th scope="col">Archived</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">
                <span className="visually-hidden">Download</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {archives.data.items.map((archive) => (
              <tr key={archive.id}>
                <td className="mono nowrap">
                  {archive.first_seq}–{archive.last_seq}
                </td>
                <td>{formatNumber(archive.event_count)}</td>
                <td>
                  {formatDateTime(archive.first_recorded_at, zone)} – {formatDateTime(archive.last_recorded_at, zone)}
                </td>
                <td className="nowrap">{formatDateTime(archive.created_at, zone)}</td>
                <td className="nowrap">{formatBytes(archive.size_bytes)}</td>
                <td className="mono cell-hash" title={archive.sha256}>
                  {archive.sha256}
                </td>
                <td>
                  <Button
                    size="small"
                    aria-label={`Download ${archive.file_name}`}
                    disabled={download.isPending}
                    onClick={() => download.mutate(archive)}
                  >
                    {download.isPending && download.variables?.id === archive.id ? 'Downloading…' : 'Download'}
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Retention setting and the archives it produced (SPEC §4, §6). */
export function RetentionPage() {
  const retention = useRetention();
  return (
    <main className="page">
      <div className="page-title">
        <h1>Retention &amp; archives</h1>
      </div>
      <div className="stack">
        <section className="card admin-section" aria-labelledby="retention-title">
          <h2 id="retention-title">Retention</h2>
          {retention.isPending && <Skeleton width="40%" />}
          {retention.isError && (
            <ErrorState
              title="The retention setting could not be loaded"
              message={errorMessage(retention.error)}
              onRetry={() => retention.refetch()}
            />
          )}
          {retention.isSuccess && <RetentionForm days={retention.data.days ?? null} />}
        </section>
        <section className="card admin-section" aria-labelledby="archives-title">
          <h2 id="archives-title">Archives</h2>
          <ArchiveList />
        </section>
      </div>
    </main>
  );
}
