import { useMemo, useState, type ReactNode } from 'react';
import { browserTimeZone, TimeZoneContext, type TimeZoneMode } from './timeZone';

const STORAGE_KEY = 'auditlog.timezone';

function storedMode(): TimeZoneMode {
  return localStorage.getItem(STORAGE_KEY) === 'local' ? 'local' : 'business';
}

export function TimeZoneProvider({ businessZone, children }: { businessZone: string; children: ReactNode }) {
  const [mode, setModeState] = useState<TimeZoneMode>(storedMode);
  const value = useMemo(() => {
    const localZone = browserTimeZone();
    return {
      mode,
      setMode: (next: TimeZoneMode) => {
        localStorage.setItem(STORAGE_KEY, next);
        setModeState(next);
      },
      zone: mode === 'business' ? businessZone : localZone,
      businessZone,
      localZone,
    };
  }, [mode, businessZone]);
  return <TimeZoneContext.Provider value={value}>{children}</TimeZoneContext.Provider>;
}
