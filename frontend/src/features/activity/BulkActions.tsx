import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { Modal } from '../../components/Modal';
import { Alert } from '../../components/States';
import { showToast } from '../../components/Toast';
import { countOf } from '../../components/countOf';
import { formatNumber } from '../../components/locale';
import { ExportDialog } from '../exports/ExportDialog';
import { toExportQuery, type ActivityView } from './filterSchema';

export interface BulkActionsProps {
  view: ActivityView;
  timeZone: string;
  selected: number[];
  total: number;
  canDelete: boolean;
  onClearSelection: () => void;
}

/** Export (selected rows or the whole filtered result) and, for admins, deletion of selected rows. */
export function BulkActions({ view, timeZone, selected, total, canDelete, onClearSelection }: BulkActionsProps) {
  const [confirming, setConfirming] = useState(false);
  const [exporting, setExporting] = useState(false);
  const scope = selected.length > 0 ? `${selected.length} selected` : 'all matching';

  return (
    <div className="toolbar" aria-label="Bulk actions" role="toolbar">
      <span aria-live="polite">
        {selected.length > 0 ? (
          <>
            <strong>{formatNumber(selected.length)}</strong> selected{' '}
            <Button size="small" variant="ghost" onClick={onClearSelection}>
              Clear selection
            </Button>
          </>
        ) : (
          <span className="muted">
            {canDelete
              ? 'Select rows to export or delete them, or export everything that matches.'
              : 'Select rows to export them, or export everything that matches.'}
          </span>
        )}
      </span>
      <span className="toolbar__spacer" />
      <Button size="small" disabled={selected.length === 0 && total === 0} onClick={() => setExporting(true)}>
        Export {scope}…
      </Button>
      {canDelete && (
        <Button size="small" disabled={selected.length === 0} onClick={() => setConfirming(true)}>
          Delete selected…
        </Button>
      )}
      {exporting && (
        <ExportDialog
          title={`Export ${scope}`}
          query={toExportQuery(view, timeZone, selected)}
          onClose={() => setExporting(false)}
          onStarted={(format) => {
            setExporting(false);
            showToast(`Your ${format.toUpperCase()} download has started; your browser saves it.`);
          }}
        />
      )}
      {confirming && (
        <DeleteEventsDialog
          ids={selected}
          onClose={() => setConfirming(false)}
          onDeleted={(count) => {
            setConfirming(false);
            onClearSelection();
            showToast(`${countOf(count, 'activity', 'activities')} deleted.`);
          }}
        />
      )}
    </div>
  );
}

function DeleteEventsDialog({
  ids,
  onClose,
  onDeleted,
}: {
  ids: number[];
  onClose: () => void;
  onDeleted: (count: number) => void;
}) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const deletion = useMutation({
    mutationFn: () => api.deleteEvents({ ids, reason: reason.trim() }),
    onSuccess: async (result) => {
      await queryClient.invalidateQueries({ queryKey: ['events'] });
      await queryClient.invalidateQueries({ queryKey: ['history'] });
      onDeleted(result.deleted.length);
    },
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (reason.trim()) deletion.mutate();
  };

  return (
    <Modal title={`Delete ${countOf(ids.length, 'activity', 'activities')}?`} onClose={onClose}>
      <form className="stack" onSubmit={onSubmit}>
        <p style={{ margin: 0 }}>
          Their details are removed for good. A tombstone keeps each entry's place in the integrity chain, and the deletion is
          itself recorded with your name and the reason below.
        </p>
        {deletion.isError && <Alert>{errorMessage(deletion.error)}</Alert>}
        <div className="field">
          <label className="field__label" htmlFor="delete-reason">
            Reason (required)
          </label>
          <textarea
            id="delete-reason"
            className="input textarea"
            required
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" className="btn--danger" disabled={!reason.trim() || deletion.isPending}>
            {deletion.isPending ? 'Deleting…' : 'Delete'}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
