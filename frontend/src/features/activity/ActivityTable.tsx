import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import type { AuditEvent, RecordLinks } from '../../api';
import { Button } from '../../components/Button';
import { Skeleton } from '../../components/Skeleton';
import { HostAppLink } from '../links/OpenInHostApp';
import { FlagBadge } from '../review/FlagBadge';
import { formatDateTime } from '../timezone/timeZone';
import { humanize, ModuleBadge, VerbBadge } from './badges';
import type { SortKey, SortOrder } from './filterSchema';
import { RecordLink } from './RecordLink';
import { SelectAllOnPage } from './SelectAllOnPage';
import { HiddenFromRole, isWithheld } from './withheld';

declare module '@tanstack/react-table' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData, TValue> {
    /** The API sort key when the column is sortable. */
    sortKey?: SortKey;
    className?: string;
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface TableMeta<TData> {
    timeZone: string;
    onOpenDetails: (id: number) => void;
    selected: ReadonlySet<number>;
    onSelect: (ids: number[], selected: boolean) => void;
    recordLinks?: RecordLinks;
  }
}

export interface ActivityTableProps {
  events: AuditEvent[];
  /** A request is under way (the table is marked busy). */
  loading: boolean;
  /** The rows are the previous page's, shown dimmed while the next one loads. */
  stale?: boolean;
  sort: SortKey;
  order: SortOrder;
  onSort: (sort: SortKey, order: SortOrder) => void;
  onOpenDetails: (id: number) => void;
  timeZone: string;
  skeletonRows: number;
  selected: ReadonlySet<number>;
  onSelect: (ids: number[], selected: boolean) => void;
  /** Rows that arrived live, highlighted briefly. */
  freshIds?: ReadonlySet<number>;
  /** The tenant's links into the host application: "Open in …" beside each record. */
  recordLinks?: RecordLinks;
}

const column = createColumnHelper<AuditEvent>();

/** Dates newest-first on the first click; text columns A→Z. */
export function nextSort(current: SortKey, order: SortOrder, clicked: SortKey): SortOrder {
  if (current === clicked) return order === 'asc' ? 'desc' : 'asc';
  return clicked === 'occurred_at' ? 'desc' : 'asc';
}

// Columns are static: per-render values reach cells through the table's meta, so rows
// (and the focused Details button) are not remounted when the page re-renders.
const columns = [
  column.display({
    id: 'select',
    meta: { className: 'cell-select' },
    header: ({ table }) => {
      const { selected, onSelect } = table.options.meta!;
      const ids = table.getRowModel().rows.map((r) => r.original.id);
      return <SelectAllOnPage ids={ids} selected={selected} onSelect={onSelect} />;
    },
    cell: (c) => {
      const { selected, onSelect } = c.table.options.meta!;
      const id = c.row.original.id;
      return (
        <input
          type="checkbox"
          aria-label={`Select activity ${id}`}
          checked={selected.has(id)}
          onChange={(e) => onSelect([id], e.target.checked)}
        />
      );
    },
  }),
  column.accessor('id', { header: '#', cell: (c) => <span className="mono">{c.getValue()}</span> }),
  column.accessor((e) => e.actor.name, {
    id: 'user',
    header: 'User',
    meta: { sortKey: 'actor', className: 'cell-user' },
    cell: (c) => {
      const actor = c.row.original.actor;
      if (c.row.original.deleted_at) return <span className="muted">—</span>;
      return (
        <>
          <span className="cell-user__name" title={actor.name}>
            {actor.name}
          </span>
          <small>{actor.role ? humanize(actor.role) : humanize(actor.type)}</small>
        </>
      );
    },
  }),
  column.accessor('module', {
    header: 'Type',
    meta: { sortKey: 'module' },
    cell: (c) => <ModuleBadge module={c.getValue()} />,
  }),
  column.accessor('verb', {
    header: 'Event',
    meta: { sortKey: 'verb' },
    cell: (c) => <VerbBadge verb={c.getValue()} />,
  }),
  column.accessor('description', {
    header: 'Description',
    meta: { className: 'cell-description' },
    // A deleted entry (seen by admins only) keeps its place in the chain but has no content left.
    cell: (c) => (c.row.original.deleted_at ? <em className="muted">Deleted entry</em> : c.getValue()),
  }),
  column.accessor('flags', {
    header: 'Flags',
    meta: { className: 'nowrap' },
    cell: (c) => <FlagBadge flags={c.getValue()} />,
  }),
  column.accessor('entity', {
    header: 'Event On',
    cell: (c) => {
      const entity = c.getValue();
      return entity ? (
        <span className="record-ref">
          <RecordLink entity={entity} />
          {c.table.options.meta!.recordLinks && <HostAppLink links={c.table.options.meta!.recordLinks} entity={entity} />}
        </span>
      ) : (
        <span className="muted">—</span>
      );
    },
  }),
  column.accessor('ip', {
    header: 'IP Address',
    meta: { sortKey: 'ip', className: 'mono' },
    cell: (c) => (isWithheld(c.row.original, 'ip') ? <HiddenFromRole /> : (c.getValue() ?? <span className="muted">—</span>)),
  }),
  column.accessor('occurred_at', {
    header: 'Date/Time',
    meta: { sortKey: 'occurred_at', className: 'nowrap' },
    cell: (c) => <time dateTime={c.getValue()}>{formatDateTime(c.getValue(), c.table.options.meta!.timeZone)}</time>,
  }),
  column.display({
    id: 'details',
    header: () => <span className="visually-hidden">Details</span>,
    cell: (c) => (
      <Button
        size="small"
        onClick={() => c.table.options.meta!.onOpenDetails(c.row.original.id)}
        aria-label={`Details of activity ${c.row.original.id}`}
        data-opens-details=""
      >
        Details
      </Button>
    ),
  }),
];

/** Whether a click on a row is meant for the row: not for a control inside it, not the end of selecting text. */
function opensDetails(target: EventTarget, row: HTMLElement): boolean {
  if (!(target instanceof Element)) return false;
  const control = target.closest('a, button, input, select, textarea, label, .cell-select');
  if (control && row.contains(control)) return false;
  const selection = window.getSelection();
  return !selection || selection.isCollapsed || !row.contains(selection.anchorNode);
}

export function ActivityTable({
  events,
  loading,
  stale = false,
  sort,
  order,
  onSort,
  onOpenDetails,
  timeZone,
  skeletonRows,
  selected,
  onSelect,
  freshIds,
  recordLinks,
}: ActivityTableProps) {
  // Sorting and paging happen on the server; the table only lays out the page it is given.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data: events,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (row) => String(row.id),
    manualSorting: true,
    manualPagination: true,
    meta: { timeZone, onOpenDetails, selected, onSelect, recordLinks },
  });

  return (
    <div className="table-scroll">
      <table className="data-table" aria-busy={loading} data-stale={stale || undefined} data-testid="activity-table">
        <caption className="visually-hidden">Activity log</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                // The server refuses to sort by a field hidden from the viewer's role.
                const hiddenIp = events.some((e) => isWithheld(e, 'ip'));
                const declared = header.column.columnDef.meta?.sortKey;
                const sortKey = declared === 'ip' && hiddenIp ? undefined : declared;
                const active = sortKey === sort;
                const label = flexRender(header.column.columnDef.header, header.getContext());
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sortKey ? (active ? (order === 'asc' ? 'ascending' : 'descending') : 'none') : undefined}
                  >
                    {sortKey ? (
                      <button
                        type="button"
                        className="sort-button"
                        onClick={() => onSort(sortKey, nextSort(sort, order, sortKey))}
                      >
                        {label}
                        <span className="sort-indicator" aria-hidden="true">
                          {active ? (order === 'asc' ? '▲' : '▼') : '↕'}
                        </span>
                      </button>
                    ) : (
                      label
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {loading && events.length === 0
            ? Array.from({ length: skeletonRows }, (_, i) => (
                <tr key={`skeleton-${i}`} aria-hidden="true">
                  {columns.map((_, j) => (
                    <td key={j}>
                      <Skeleton width={j === 5 ? '90%' : '70%'} />
                    </td>
                  ))}
                </tr>
              ))
            : table.getRowModel().rows.map((row) => (
                // A click anywhere on a row is a shortcut for its Details button (the keyboard's way in).
                <tr
                  key={row.id}
                  className="data-table__row--opens"
                  onClick={(e) => {
                    if (!opensDetails(e.target, e.currentTarget)) return;
                    // Closing the details brings the focus back to this row's button.
                    e.currentTarget.querySelector<HTMLButtonElement>('[data-opens-details]')?.focus();
                    onOpenDetails(row.original.id);
                  }}
                  data-event-id={row.original.id}
                  data-selected={selected.has(row.original.id) || undefined}
                  data-new={freshIds?.has(row.original.id) || undefined}
                >
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} className={cell.column.columnDef.meta?.className}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))}
        </tbody>
      </table>
    </div>
  );
}
