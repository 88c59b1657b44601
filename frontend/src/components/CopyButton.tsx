import { useState } from 'react';
import { Button } from './Button';

/** A button that copies `text` to the clipboard and says whether it could. */
export function CopyButton({ text, children }: { text: string; children: string }) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const onCopy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopy('copied');
    } catch {
      setCopy('failed');
    }
  };

  return (
    <span className="row">
      <Button size="small" onClick={onCopy}>
        {children}
      </Button>
      <span aria-live="polite" className="muted">
        {copy === 'copied' && 'Copied to the clipboard.'}
        {copy === 'failed' && 'Copying failed: select the text and copy it by hand.'}
      </span>
    </span>
  );
}
