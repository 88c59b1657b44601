import { useMutation } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api, type ExportQuery } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { Modal } from '../../components/Modal';
import { startDownload } from '../../components/startDownload';
import { Alert } from '../../components/States';
import { useCurrentUser } from '../auth/authContext';
import {
  columnsParam,
  DEFAULT_COLUMNS,
  EXPORT_COLUMNS,
  rememberColumns,
  rememberedColumns,
  type ExportColumn,
} from './exportColumns';

export type ExportFormat = 'csv' | 'xlsx' | 'pdf';

const FORMATS: { value: ExportFormat; label: string; hint: string }[] = [
  { value: 'csv', label: 'CSV', hint: 'Any tool; opens in Excel with accents intact.' },
  { value: 'xlsx', label: 'Excel (XLSX)', hint: 'A workbook with dates and numbers as such.' },
  { value: 'pdf', label: 'PDF', hint: 'A report to hand over: cover, changes, page numbers. Fixed columns.' },
];

export interface ExportDialogProps {
  title: string;
  /** The export's filters (or ids), without format and columns. */
  query: Omit<ExportQuery, 'format'>;
  onClose: () => void;
  /** Called once the browser has been handed the file. */
  onStarted: (format: ExportFormat) => void;
}

/**
 * Choose a format and, for CSV and Excel, the columns (remembered per user), then download:
 * the server answers a short-lived link and the browser's download manager fetches the file,
 * so even a million rows never pass through the page's memory.
 */
export function ExportDialog({ title, query, onClose, onStarted }: ExportDialogProps) {
  const user = useCurrentUser();
  const id = useId();
  const [format, setFormat] = useState<ExportFormat>('csv');
  const [columns, setColumns] = useState<ExportColumn[]>(() => rememberedColumns(user.id));
  const choosesColumns = format !== 'pdf';
  const download = useMutation({
    mutationFn: async () => {
      const bom = format === 'csv' ? { bom: 1 } : {};
      const chosen = choosesColumns ? columnsParam(columns) : undefined;
      const link = await api.exportLink({ ...query, ...bom, format, ...(chosen ? { columns: chosen } : {}) });
      if (choosesColumns) rememberColumns(user.id, columns);
      startDownload(link.url);
    },
    onSuccess: () => onStarted(format),
  });
  const toggle = (name: ExportColumn, on: boolean) => {
    const chosen = new Set(columns);
    if (on) chosen.add(name);
    else chosen.delete(name);
    setColumns(EXPORT_COLUMNS.map((c) => c.name).filter((n) => chosen.has(n)));
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!choosesColumns || columns.length > 0) download.mutate();
  };

  return (
    <Modal title={title} onClose={onClose} testId="export-dialog">
      <form className="stack" onSubmit={onSubmit}>
        <fieldset className="fieldset" role="radiogroup" aria-labelledby={`${id}-format`}>
          <legend id={`${id}-format`} className="review-settings__legend">
            Format
          </legend>
          {FORMATS.map((f) => (
            <div key={f.value}>
              <label className="row rule-form__choice">
                <input
                  type="radio"
                  name="format"
                  value={f.value}
                  checked={format === f.value}
                  aria-describedby={`${id}-${f.value}`}
                  onChange={() => setFormat(f.value)}
                />
                <span>{f.label}</span>
              </label>
              <span id={`${id}-${f.value}`} className="field__hint muted rule-form__choice-hint">
                {f.hint}
              </span>
            </div>
          ))}
        </fieldset>
        {choosesColumns && (
          <fieldset className="fieldset" aria-describedby={`${id}-columns-hint`}>
            <legend className="review-settings__legend">Columns</legend>
            <p id={`${id}-columns-hint`} className="muted" style={{ margin: 0 }}>
              {columns.length} of {EXPORT_COLUMNS.length} · your choice is remembered for next time.{' '}
              <Button size="small" variant="ghost" onClick={() => setColumns(EXPORT_COLUMNS.map((c) => c.name))}>
                All
              </Button>
              <Button size="small" variant="ghost" onClick={() => setColumns([...DEFAULT_COLUMNS])}>
                Usual
              </Button>
            </p>
            <div className="export-columns">
              {EXPORT_COLUMNS.map((c) => (
                <label key={c.name} className="row rule-form__choice">
                  <input type="checkbox" checked={columns.includes(c.name)} onChange={(e) => toggle(c.name, e.target.checked)} />
                  <span>{c.label}</span>
                </label>
              ))}
            </div>
            {columns.length === 0 && <span className="field__error">Choose at least one column.</span>}
          </fieldset>
        )}
        {download.isError && <Alert>{errorMessage(download.error)}</Alert>}
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={download.isPending || (choosesColumns && columns.length === 0)}>
            {download.isPending ? 'Preparing…' : 'Download'}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
