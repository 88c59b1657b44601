import type { BadgeTone } from './badgeTones';

export function Badge({ tone, children, title }: { tone: BadgeTone; children: React.ReactNode; title?: string }) {
  return (
    <span className={`badge badge--${tone}`} data-tone={tone} title={title}>
      {children}
    </span>
  );
}
