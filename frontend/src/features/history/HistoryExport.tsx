import { useMutation } from '@tanstack/react-query';
import { api } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { saveFile } from '../../components/saveFile';
import { Alert } from '../../components/States';
import { toExportQuery, type ActivityView } from '../activity/filterSchema';

export interface HistoryExportProps {
  type: string;
  id: string;
  view: ActivityView;
  timeZone: string;
  disabled: boolean;
}

/** Exports exactly what the history shows: the record's own and related entries, same filters. */
export function HistoryExport({ type, id, view, timeZone, disabled }: HistoryExportProps) {
  const exporting = useMutation({
    mutationFn: (format: 'csv' | 'pdf') =>
      api.exportEvents({ ...toExportQuery(view, timeZone, format), record_type: type, record_id: id }),
    onSuccess: ({ blob, filename }) => saveFile(blob, filename),
  });
  return (
    <>
      {(['csv', 'pdf'] as const).map((format) => (
        <Button key={format} size="small" disabled={disabled || exporting.isPending} onClick={() => exporting.mutate(format)}>
          {exporting.isPending && exporting.variables === format ? 'Exporting…' : `Export history (${format.toUpperCase()})`}
        </Button>
      ))}
      {exporting.isError && <Alert>{errorMessage(exporting.error)}</Alert>}
    </>
  );
}
