import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type ApiToken } from '../../api';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { errorMessage } from '../../components/errorMessage';
import { SkeletonList } from '../../components/Skeleton';
import { Alert, EmptyState, ErrorState } from '../../components/States';
import { RelativeTime } from '../timezone/RelativeTime';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { CreateTokenDialog } from './CreateTokenDialog';
import { adminKeys, useTokens } from './queries';

/** The token's state as of `now` (when the list was fetched). */
function TokenStatus({ token, now }: { token: ApiToken; now: number }) {
  if (token.revoked_at) return <Badge tone="red">Revoked</Badge>;
  if (token.expires_at && new Date(token.expires_at).getTime() <= now) return <Badge tone="amber">Expired</Badge>;
  return <Badge tone="green">Active</Badge>;
}

/** Integrator API tokens (SPEC §4): scopes, expiry, last use; created with a secret shown once, revoked for good. */
export function TokensPage() {
  const { zone } = useTimeZone();
  const queryClient = useQueryClient();
  const tokens = useTokens();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const revocation = useMutation({
    mutationFn: (token: ApiToken) => api.revokeToken(token.id),
    onSuccess: async (_, token) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.tokens });
      setRevoking(null);
      setNotice(`Token “${token.name}” was revoked.`);
    },
  });
  const when = (iso: string | null | undefined, none: string) => (iso ? formatDateTime(iso, zone) : none);

  let body;
  if (tokens.isPending) {
    body = <SkeletonList rows={3} label="Loading tokens" />;
  } else if (tokens.isError) {
    body = (
      <ErrorState title="The tokens could not be loaded" message={errorMessage(tokens.error)} onRetry={() => tokens.refetch()} />
    );
  } else if (tokens.data.items.length === 0) {
    body = <EmptyState title="No API tokens yet">Create one for each application that sends or reads events.</EmptyState>;
  } else {
    body = (
      <div className="table-scroll">
        <table className="data-table data-table--admin" data-testid="tokens-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Scopes</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.items.map((token) => (
              <tr key={token.id} data-token-name={token.name}>
                <td>
                  <strong>{token.name}</strong>
                </td>
                <td className="mono">{token.scopes.join(', ')}</td>
                <td>
                  <TokenStatus token={token} now={tokens.dataUpdatedAt} />
                  {token.revoked_at && <small className="muted"> {formatDateTime(token.revoked_at, zone)}</small>}
                </td>
                <td className="nowrap">{formatDateTime(token.created_at, zone)}</td>
                <td className="nowrap">{when(token.expires_at, 'Never')}</td>
                <td className="nowrap">
                  {token.last_used_at ? <RelativeTime iso={token.last_used_at} /> : <span className="muted">Not used yet</span>}
                </td>
                <td>
                  {!token.revoked_at && (
                    <Button
                      size="small"
                      aria-label={`Revoke ${token.name}`}
                      onClick={() => {
                        revocation.reset();
                        setRevoking(token);
                      }}
                    >
                      Revoke…
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <main className="page">
      <div className="page-title">
        <h1>API tokens</h1>
        <span className="muted">For host applications that send events or read them back.</span>
        <span className="toolbar__spacer" />
        <Button
          variant="primary"
          onClick={() => {
            setNotice(null);
            setCreating(true);
          }}
        >
          New token
        </Button>
      </div>
      <div className="stack">
        {notice && <Alert tone="info">{notice}</Alert>}
        <section className="card" aria-label="API tokens">
          {body}
        </section>
      </div>
      {creating && <CreateTokenDialog onClose={() => setCreating(false)} />}
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          confirmLabel="Revoke"
          pendingLabel="Revoking…"
          pending={revocation.isPending}
          error={revocation.error}
          onClose={() => setRevoking(null)}
          onConfirm={() => revocation.mutate(revoking)}
        >
          Requests with this token are refused from now on. This cannot be undone: the application will need a new token.
        </ConfirmDialog>
      )}
    </main>
  );
}
