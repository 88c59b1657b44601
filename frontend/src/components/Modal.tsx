import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Button } from './Button';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

export interface ModalProps {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  /**
   * False for a dialog that must be answered with one of its own buttons (a secret shown once):
   * it has no close button, and Esc or a click on the backdrop call `onCloseRefused` instead.
   */
  closable?: boolean;
  onCloseRefused?: () => void;
}

/**
 * A modal dialog on the native <dialog> element: the page behind is inert, Esc and the
 * close button call onClose, Tab stays inside, and focus returns where it was on close.
 */
export function Modal({ title, onClose, children, testId, closable = true, onCloseRefused }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const unmounting = useRef(false);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    unmounting.current = false;
    const previouslyFocused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
    return () => {
      unmounting.current = true;
      if (dialog.open && typeof dialog.close === 'function') dialog.close();
      previouslyFocused?.focus();
    };
  }, []);

  const requestClose = () => (closable ? onClose() : onCloseRefused?.());

  const trapTab = (event: React.KeyboardEvent<HTMLDialogElement>) => {
    if (event.key !== 'Tab' || !ref.current) return;
    const focusable = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    // The dialog is the container of interactive content: its key handler keeps Tab inside, and a
    // click on the backdrop is the pointer's twin of Esc, which the cancel event already serves.
    // eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={titleId}
      data-testid={testId}
      onKeyDown={trapTab}
      onCancel={(event) => {
        event.preventDefault();
        requestClose();
      }}
      onClose={() => {
        // The browser may close a dialog on a repeated Esc without asking (its close watcher):
        // one that must be answered opens again.
        const dialog = ref.current;
        if (closable || unmounting.current || !dialog || dialog.open || typeof dialog.showModal !== 'function') return;
        dialog.showModal();
        onCloseRefused?.();
      }}
      onClick={(event) => {
        // A click on the backdrop lands on the dialog element itself.
        if (event.target === ref.current) requestClose();
      }}
    >
      <div className="modal__header">
        <h2 id={titleId}>{title}</h2>
        {closable && (
          <Button variant="ghost" size="icon" aria-label="Close" onClick={onClose}>
            <span aria-hidden="true">✕</span>
          </Button>
        )}
      </div>
      <div className="modal__body">{children}</div>
    </dialog>
  );
}
