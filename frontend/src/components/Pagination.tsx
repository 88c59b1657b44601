import { formatNumber } from './locale';
import { Button } from './Button';

export const PAGE_SIZES = [10, 25, 50, 100] as const;

export interface PaginationProps {
  page: number;
  perPage: number;
  total: number;
  onPageChange: (page: number) => void;
  onPerPageChange: (perPage: number) => void;
  /** What is counted, plural ("activities")… */
  noun?: string;
  /** …and one of it ("activity"). */
  one?: string;
}

/** Page numbers around the current one, with gaps marked by null. */
export function pageWindow(page: number, pageCount: number): (number | null)[] {
  const pages = new Set([1, pageCount, page - 1, page, page + 1].filter((p) => p >= 1 && p <= pageCount));
  const sorted = [...pages].sort((a, b) => a - b);
  const out: (number | null)[] = [];
  sorted.forEach((p, i) => {
    if (i > 0 && p - sorted[i - 1] > 1) out.push(null);
    out.push(p);
  });
  return out;
}

export function Pagination({
  page,
  perPage,
  total,
  onPageChange,
  onPerPageChange,
  noun = 'items',
  one = 'item',
}: PaginationProps) {
  const pageCount = Math.max(1, Math.ceil(total / perPage));
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  const fmt = (n: number) => formatNumber(n);

  return (
    <div className="pagination">
      <div className="row">
        <span aria-live="polite">
          {total === 0 ? `No ${noun}` : `Showing ${fmt(first)}–${fmt(last)} of ${fmt(total)} ${total === 1 ? one : noun}`}
        </span>
        <label className="row">
          <span className="muted">Rows per page</span>
          <select
            className="select"
            style={{ width: 'auto' }}
            value={perPage}
            onChange={(e) => onPerPageChange(Number(e.target.value))}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </label>
      </div>
      <nav aria-label="Pagination" className="pagination__pages">
        <Button size="small" disabled={page <= 1} onClick={() => onPageChange(page - 1)} aria-label="Previous page">
          ‹ Previous
        </Button>
        {pageWindow(page, pageCount).map((p, i) =>
          p === null ? (
            <span key={`gap-${i}`} className="muted" aria-hidden="true">
              …
            </span>
          ) : (
            <Button
              key={p}
              size="small"
              className="pagination__page"
              aria-current={p === page ? 'page' : undefined}
              aria-label={`Page ${p}`}
              onClick={() => onPageChange(p)}
            >
              {p}
            </Button>
          ),
        )}
        <Button size="small" disabled={page >= pageCount} onClick={() => onPageChange(page + 1)} aria-label="Next page">
          Next ›
        </Button>
      </nav>
    </div>
  );
}
