import { useState } from 'react';
import { Button } from '../../components/Button';
import { Alert } from '../../components/States';
import { toExportQuery, type ActivityView } from '../activity/filterSchema';
import { ExportDialog } from '../exports/ExportDialog';

export interface HistoryExportProps {
  type: string;
  id: string;
  view: ActivityView;
  timeZone: string;
  disabled: boolean;
}

/** Exports exactly what the history shows: the record's own and related entries, same filters. */
export function HistoryExport({ type, id, view, timeZone, disabled }: HistoryExportProps) {
  const [open, setOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <>
      <Button size="small" disabled={disabled} onClick={() => setOpen(true)}>
        Export history…
      </Button>
      {notice && <Alert tone="info">{notice}</Alert>}
      {open && (
        <ExportDialog
          title="Export this record's history"
          query={{ ...toExportQuery(view, timeZone), record_type: type, record_id: id }}
          onClose={() => setOpen(false)}
          onStarted={(format) => {
            setOpen(false);
            setNotice(`Your ${format.toUpperCase()} download has started; your browser saves it.`);
          }}
        />
      )}
    </>
  );
}
