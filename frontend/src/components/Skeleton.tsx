export function Skeleton({ width = '100%' }: { width?: string | number }) {
  return <span className="skeleton" style={{ width }} aria-hidden="true" />;
}

/** Placeholder lines for a list that is loading, announced by `label`. */
export function SkeletonList({ rows, label }: { rows: number; label: string }) {
  return (
    <div className="stack" style={{ padding: 16 }} aria-busy="true" aria-label={label}>
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} />
      ))}
    </div>
  );
}
