import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type ManagedUser, type Role, type UserPatch } from '../../api';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { errorMessage } from '../../components/errorMessage';
import { SkeletonList } from '../../components/Skeleton';
import { Alert, EmptyState, ErrorState } from '../../components/States';
import { useCurrentUser } from '../auth/authContext';
import { RelativeTime } from '../timezone/RelativeTime';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { CreateUserDialog } from './CreateUserDialog';
import { adminKeys, useUsers } from './queries';
import { ROLE_OPTIONS, roleLabel } from './roles';

/** Users and roles (SPEC §3): create, change role, deactivate and reactivate. */
export function UsersPage() {
  const me = useCurrentUser();
  const { zone } = useTimeZone();
  const queryClient = useQueryClient();
  const users = useUsers();
  const [adding, setAdding] = useState(false);
  const [toggling, setToggling] = useState<ManagedUser | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const update = useMutation({
    mutationFn: ({ user, patch }: { user: ManagedUser; patch: UserPatch; done: string }) => api.updateUser(user.id, patch),
    onMutate: () => setNotice(null),
    onSuccess: async (_, { done }) => {
      await queryClient.invalidateQueries({ queryKey: adminKeys.users });
      setToggling(null);
      setNotice(done);
    },
  });

  const changeRole = (user: ManagedUser, role: Role) =>
    update.mutate({ user, patch: { role }, done: `${user.name} is now ${roleLabel(role).toLowerCase()}.` });

  let body;
  if (users.isPending) {
    body = <SkeletonList rows={4} label="Loading users" />;
  } else if (users.isError) {
    body = (
      <ErrorState title="The users could not be loaded" message={errorMessage(users.error)} onRetry={() => users.refetch()} />
    );
  } else if (users.data.items.length === 0) {
    body = <EmptyState title="No users yet" />;
  } else {
    body = (
      <div className="table-scroll">
        <table className="data-table data-table--admin" data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Actor id</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data.items.map((user) => {
              const own = user.id === me.id;
              return (
                <tr key={user.id} data-user-email={user.email}>
                  <td className="nowrap">
                    <strong>{user.name}</strong>
                    {own && <span className="muted"> (you)</span>}
                  </td>
                  <td>{user.email}</td>
                  <td>
                    <select
                      className="select"
                      aria-label={`Role of ${user.name}`}
                      aria-describedby={own ? 'own-account-note' : undefined}
                      value={user.role}
                      disabled={update.isPending || own}
                      onChange={(e) => changeRole(user, e.target.value as Role)}
                    >
                      {ROLE_OPTIONS.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{user.active ? <Badge tone="green">Active</Badge> : <Badge tone="slate">Deactivated</Badge>}</td>
                  <td className="mono">{user.actor_id}</td>
                  <td className="nowrap">
                    {user.last_sign_in_at ? <RelativeTime iso={user.last_sign_in_at} /> : <span className="muted">Never</span>}
                  </td>
                  <td className="nowrap">{formatDateTime(user.created_at, zone)}</td>
                  <td>
                    {own ? (
                      <small className="muted" id="own-account-note">
                        Another admin can change your role or deactivate you.
                      </small>
                    ) : (
                      <Button
                        size="small"
                        onClick={() => {
                          update.reset();
                          setToggling(user);
                        }}
                      >
                        {user.active ? 'Deactivate…' : 'Reactivate…'}
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <main className="page">
      <div className="page-title">
        <h1>Users</h1>
        <span className="muted">Who may sign in to the dashboard, and what they see.</span>
        <span className="toolbar__spacer" />
        <Button variant="primary" onClick={() => setAdding(true)}>
          Add user
        </Button>
      </div>
      <div className="stack">
        {notice && <Alert tone="info">{notice}</Alert>}
        {update.isError && !toggling && <Alert>{errorMessage(update.error)}</Alert>}
        <section className="card" aria-label="Users">
          {body}
        </section>
      </div>
      {adding && (
        <CreateUserDialog
          onClose={() => setAdding(false)}
          onCreated={(user) => {
            setAdding(false);
            setNotice(`${user.name} was added as ${roleLabel(user.role).toLowerCase()}.`);
          }}
        />
      )}
      {toggling && (
        <ConfirmDialog
          title={toggling.active ? `Deactivate ${toggling.name}?` : `Reactivate ${toggling.name}?`}
          confirmLabel={toggling.active ? 'Deactivate' : 'Reactivate'}
          pendingLabel="Saving…"
          pending={update.isPending}
          error={update.error}
          onClose={() => {
            setToggling(null);
            update.reset();
          }}
          onConfirm={() =>
            update.mutate({
              user: toggling,
              patch: { active: !toggling.active },
              done: `${toggling.name} was ${toggling.active ? 'deactivated' : 'reactivated'}.`,
            })
          }
        >
          {toggling.active
            ? `${toggling.email} will no longer be able to sign in, and their open sessions stop working. Their recorded activity stays.`
            : `${toggling.email} will be able to sign in again with their password.`}
        </ConfirmDialog>
      )}
    </main>
  );
}
