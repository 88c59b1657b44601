import { Link, Outlet } from 'react-router';
import { EmptyState } from '../../components/States';
import { useCurrentUser } from '../auth/authContext';

/** The admin pages' guard: anyone else who opens their URL is told why there is nothing here. */
export function RequireAdmin() {
  const user = useCurrentUser();
  if (user.role !== 'admin') {
    return (
      <main className="page">
        <h1>Admins only</h1>
        <EmptyState title="This page is for admins only">
          Ask an admin of {user.tenant.name} if you need it. <Link to="/">Go to the activity log</Link>
        </EmptyState>
      </main>
    );
  }
  return <Outlet />;
}
