import { useSyncExternalStore } from 'react';

interface Toast {
  id: number;
  message: string;
}

const SHOWN_FOR_MS = 8000;

let toasts: readonly Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function publish(next: readonly Toast[]) {
  toasts = next;
  listeners.forEach((listener) => listener());
}

function dismiss(id: number) {
  publish(toasts.filter((t) => t.id !== id));
}

/** Says briefly, in a corner, what an action did ("2 activities deleted"); it fades after a few seconds. */
export function showToast(message: string) {
  const id = nextId++;
  publish([...toasts, { id, message }]);
  setTimeout(() => dismiss(id), SHOWN_FOR_MS);
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Where toasts appear: one polite live region, always there so screen readers announce what is added. */
export function Toaster() {
  const shown = useSyncExternalStore(subscribe, () => toasts);
  return (
    <div className="toasts" aria-live="polite" data-testid="toasts">
      {shown.map((toast) => (
        <div key={toast.id} className="toast">
          <span>{toast.message}</span>
          <button type="button" className="toast__close" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
            <span aria-hidden="true">✕</span>
          </button>
        </div>
      ))}
    </div>
  );
}
