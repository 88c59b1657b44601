import type { LoginResponse, User } from '../../api';

const STORAGE_KEY = 'auditlog.session';

export interface Session {
  accessToken: string;
  /** Milliseconds since the epoch after which the token is no longer accepted. */
  expiresAt: number;
  user: User;
}

interface State {
  session: Session | null;
  /** Why the user was sent back to the login screen, shown there once. */
  notice: string | null;
}

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.accessToken === 'string' && typeof v.expiresAt === 'number' && typeof v.user === 'object' && v.user !== null;
}

function readStored(now: number): Session | null {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (isSession(parsed) && parsed.expiresAt > now) return parsed;
  } catch {
    // A corrupt entry is treated as no session.
  }
  localStorage.removeItem(STORAGE_KEY);
  return null;
}

let state: State = { session: readStored(Date.now()), notice: null };
const listeners = new Set<() => void>();

function update(next: State) {
  state = next;
  listeners.forEach((listener) => listener());
}

/** The signed-in session, persisted in localStorage so a reload keeps it until the token expires. */
export const sessionStore = {
  getState: (): State => state,
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  token(): string | null {
    const session = state.session;
    return session && session.expiresAt > Date.now() ? session.accessToken : null;
  },
  signIn(response: LoginResponse, now = Date.now()) {
    const session: Session = {
      accessToken: response.access_token,
      expiresAt: now + response.expires_in * 1000,
      user: response.user,
    };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    update({ session, notice: null });
  },
  signOut(notice: string | null = null) {
    localStorage.removeItem(STORAGE_KEY);
    if (state.session || notice !== state.notice) update({ session: null, notice });
  },
  /** Another tab signed in or out: follow it. */
  reload() {
    update({ session: readStored(Date.now()), notice: state.notice });
  },
  storageKey: STORAGE_KEY,
};
