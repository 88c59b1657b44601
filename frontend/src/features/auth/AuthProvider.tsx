import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { api, configureAuth } from '../../api';
import { AuthContext, type AuthContextValue } from './authContext';
import { sessionStore } from './sessionStore';

const EXPIRED = 'Your session has expired. Please sign in again.';

configureAuth({
  getToken: () => sessionStore.token(),
  onUnauthorized: () => sessionStore.signOut(EXPIRED),
});

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const { session, notice } = useSyncExternalStore(sessionStore.subscribe, sessionStore.getState);

  // Sign out the moment the token expires rather than on the next failing request.
  useEffect(() => {
    if (!session) return;
    const timer = window.setTimeout(() => sessionStore.signOut(EXPIRED), Math.max(0, session.expiresAt - Date.now()));
    return () => window.clearTimeout(timer);
  }, [session]);

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === sessionStore.storageKey) sessionStore.reload();
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  // Nothing fetched for one user may be shown to the next.
  useEffect(() => {
    if (!session) queryClient.clear();
  }, [session, queryClient]);

  const login = useCallback(async (email: string, password: string, tenant?: string) => {
    sessionStore.signIn(await api.login({ email, password, ...(tenant ? { tenant } : {}) }));
  }, []);

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // Revoking may fail (offline, already expired); the token is forgotten here regardless.
    }
    sessionStore.signOut();
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({ user: session?.user ?? null, notice, login, logout }),
    [session, notice, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
