import { useRef, useState } from 'react';
import { Button } from '../../components/Button';
import { TextField } from '../../components/Field';
import { Modal } from '../../components/Modal';
import { Alert } from '../../components/States';

export interface SecretDialogProps {
  title: string;
  secret: string;
  /** Called once the admin says they have copied the secret: the only way out. */
  onDone: () => void;
}

/**
 * A rule's webhook signing secret, shown this one time. Esc and the backdrop do not close it:
 * they point at "I have copied it" instead, so nobody loses the secret by a stray key.
 */
export function SecretDialog({ title, secret, onDone }: SecretDialogProps) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const [refused, setRefused] = useState(false);
  const doneRef = useRef<HTMLButtonElement>(null);

  const onCopy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopy('copied');
    } catch {
      setCopy('failed');
    }
  };

  return (
    <Modal
      title={title}
      onClose={onDone}
      closable={false}
      onCloseRefused={() => {
        setRefused(true);
        doneRef.current?.focus();
      }}
      testId="rule-secret"
    >
      <div className="stack">
        <Alert tone="info">
          Copy the signing secret now and keep it where the receiver checks signatures.{' '}
          <strong>You will not see it again.</strong>
        </Alert>
        <TextField label="Signing secret" readOnly className="input mono" value={secret} onFocus={(e) => e.target.select()} />
        <p className="muted" style={{ margin: 0 }}>
          Each delivery carries <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code>{' '}
          (Standard Webhooks): <code>v1,</code> and the base64 HMAC-SHA256 of <code>id.timestamp.body</code>, keyed with the
          base64-decoded part after <code>whsec_</code>.
        </p>
        {refused && <Alert>Copy the secret first, then choose “I have copied it”: it cannot be shown again.</Alert>}
        <div className="row" style={{ justifyContent: 'flex-end' }}>
          <span aria-live="polite" className="muted">
            {copy === 'copied' && 'Copied to the clipboard.'}
            {copy === 'failed' && 'Copying failed: select the secret and copy it by hand.'}
          </span>
          <Button onClick={onCopy}>Copy secret</Button>
          <Button ref={doneRef} variant="primary" onClick={onDone}>
            I have copied it
          </Button>
        </div>
      </div>
    </Modal>
  );
}
