import { useEffect, useState } from 'react';
import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { Button } from './components/Button';
import { ChangePasswordDialog } from './features/account/ChangePasswordDialog';
import { humanize } from './features/activity/badges';
import { IntegrityBadge } from './features/admin/IntegrityBadge';
import { useAuth, useCurrentUser } from './features/auth/authContext';
import { TimeZoneProvider } from './features/timezone/TimeZoneProvider';
import { TimeZoneSwitch } from './features/timezone/TimeZoneSwitch';

const ADMIN_LINKS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/tokens', label: 'API tokens' },
  { to: '/admin/retention', label: 'Retention & archives' },
  { to: '/admin/fields', label: 'Field visibility' },
  { to: '/admin/integrity', label: 'Integrity' },
  { to: '/admin/review', label: 'Review settings' },
  { to: '/admin/record-links', label: 'Record links' },
  { to: '/admin/alerts', label: 'Alerts' },
];

const MENU_BUTTON_ID = 'app-menu-button';

export function AppLayout() {
  const user = useCurrentUser();
  const { logout } = useAuth();
  const [changingPassword, setChangingPassword] = useState(false);
  const isAdmin = user.role === 'admin';
  // On a phone the header folds into a menu, open until the next navigation.
  const location = useLocation();
  const [menuOpenAt, setMenuOpenAt] = useState<string | null>(null);
  const menuOpen = menuOpenAt === location.key;
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setMenuOpenAt(null);
      document.getElementById(MENU_BUTTON_ID)?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);
  return (
    <TimeZoneProvider businessZone={user.tenant.timezone}>
      <header className="app-header" data-menu-open={menuOpen || undefined}>
        <Link to="/" className="app-header__brand">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          Activity Log
        </Link>
        <span className="muted app-header__tenant">{user.tenant.name}</span>
        <Button
          id={MENU_BUTTON_ID}
          className="app-header__menu-button"
          aria-expanded={menuOpen}
          aria-controls="app-menu"
          onClick={() => setMenuOpenAt(menuOpen ? null : location.key)}
        >
          <span aria-hidden="true">☰</span> Menu
        </Button>
        <div id="app-menu" className="app-header__menu">
          {/* What every signed-in user may open; the admin pages have their own navigation. */}
          <nav aria-label="Main" className="app-nav">
            <NavLink to="/" end>
              Activity
            </NavLink>
            <NavLink to="/review">Security review</NavLink>
          </nav>
          {isAdmin && (
            <nav aria-label="Administration" className="app-nav">
              {ADMIN_LINKS.map((link) => (
                <NavLink key={link.to} to={link.to}>
                  {link.label}
                </NavLink>
              ))}
            </nav>
          )}
          <span className="app-header__spacer" />
          {isAdmin && <IntegrityBadge />}
          <TimeZoneSwitch />
          <span className="app-header__user">
            <strong data-testid="current-user">{user.name}</strong>
            <span className="muted" data-testid="current-role">
              {humanize(user.role)}
            </span>
          </span>
          <Button onClick={() => setChangingPassword(true)}>Change password</Button>
          <Button onClick={() => logout()}>Log out</Button>
        </div>
      </header>
      <Outlet />
      {changingPassword && <ChangePasswordDialog onClose={() => setChangingPassword(false)} />}
    </TimeZoneProvider>
  );
}
