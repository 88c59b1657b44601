import { Link, Outlet } from 'react-router';
import { Button } from './components/Button';
import { useAuth, useCurrentUser } from './features/auth/authContext';
import { humanize } from './features/activity/badges';
import { TimeZoneProvider } from './features/timezone/TimeZoneProvider';
import { TimeZoneSwitch } from './features/timezone/TimeZoneSwitch';

export function AppLayout() {
  const user = useCurrentUser();
  const { logout } = useAuth();
  return (
    <TimeZoneProvider businessZone={user.tenant.timezone}>
      <header className="app-header">
        <Link to="/" className="app-header__brand">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          Activity Log
        </Link>
        <span className="muted">{user.tenant.name}</span>
        <span className="app-header__spacer" />
        <TimeZoneSwitch />
        <span className="app-header__user">
          <strong data-testid="current-user">{user.name}</strong>
          <span className="muted">{humanize(user.role)}</span>
        </span>
        <Button onClick={() => logout()}>Log out</Button>
      </header>
      <Outlet />
    </TimeZoneProvider>
  );
}
