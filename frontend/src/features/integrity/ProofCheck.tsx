import { useMutation } from '@tanstack/react-query';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { Alert } from '../../components/States';
import { formatDateTime } from '../timezone/timeZone';
import { checkEventProof, type ProvenEvent } from './proof';

export interface ProofCheckProps {
  /** The event shown, which the proof's leaf must describe. */
  event: ProvenEvent;
  /** The body of `GET /api/v1/events/{id}/proof` for this event. */
  fetchProof: () => Promise<unknown>;
  /** The text of `GET /api/v1/integrity/public-key`. */
  fetchKey: () => Promise<string>;
  /** The zone the signing time is shown in. */
  timeZone: string;
}

/**
 * An on-demand check, in this browser, that the event is in a checkpoint signed by the log's
 * public key. A check belongs to one event: showing another one starts afresh.
 */
export function ProofCheck(props: ProofCheckProps) {
  return <EventProofCheck key={props.event.id} {...props} />;
}

function EventProofCheck({ event, fetchProof, fetchKey, timeZone }: ProofCheckProps) {
  // Nothing is fetched until the person asks for the check.
  const check = useMutation({
    mutationFn: async () => {
      const [proof, verifierKey] = await Promise.all([fetchProof(), fetchKey()]);
      return checkEventProof({ proof, verifierKey, event });
    },
  });
  const result = check.data;

  return (
    <div className="stack">
      {!result?.ok && (
        <div>
          <Button size="small" onClick={() => check.mutate()} disabled={check.isPending}>
            {check.isPending ? 'Checking…' : 'Check the proof'}
          </Button>
        </div>
      )}
      {check.isError && <Alert>The proof could not be fetched: {errorMessage(check.error)}</Alert>}
      {result &&
        (result.ok ? (
          <Alert tone="info">
            Proven: included in checkpoint {result.treeSize} ({result.origin}), signed{' '}
            {formatDateTime(result.signedAt, timeZone, true)}; checked in this browser with the public key{' '}
            <span className="mono">
              {result.keyName}+{result.keyId}
            </span>
            .
            {result.contentDeleted && (
              <> Its content was deleted: its place in the log (its leaf hash) is proven, not what it recorded.</>
            )}
          </Alert>
        ) : (
          <Alert>Not proven: {result.reason}</Alert>
        ))}
    </div>
  );
}
