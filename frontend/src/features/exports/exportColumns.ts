/**
 * The columns of the CSV and XLSX exports, as the server names them (`ExportColumns` in the API
 * document; a test checks the two lists agree), with the words the export dialog shows.
 */
export const EXPORT_COLUMNS = [
  { name: 'id', label: 'Id' },
  { name: 'seq', label: 'Sequence number' },
  { name: 'occurred_at', label: 'Time (UTC)' },
  { name: 'occurred_at_local', label: 'Time (your time zone)' },
  { name: 'recorded_at', label: 'Recorded at (UTC)' },
  { name: 'actor_id', label: 'User id' },
  { name: 'actor_name', label: 'User' },
  { name: 'actor_email', label: 'User e-mail' },
  { name: 'actor_role', label: 'User role' },
  { name: 'actor_type', label: 'User type' },
  { name: 'module', label: 'Type' },
  { name: 'verb', label: 'Verb' },
  { name: 'action', label: 'Event' },
  { name: 'entity_type', label: 'Record type' },
  { name: 'entity_id', label: 'Record id' },
  { name: 'entity_label', label: 'Record' },
  { name: 'description', label: 'Description' },
  { name: 'ip', label: 'IP address' },
  { name: 'user_agent', label: 'Browser (user agent)' },
  { name: 'changes', label: 'Changes' },
  { name: 'related', label: 'Related records' },
  { name: 'metadata', label: 'Metadata' },
  { name: 'hash', label: 'Hash' },
  { name: 'prev_hash', label: 'Previous hash' },
] as const;

export type ExportColumn = (typeof EXPORT_COLUMNS)[number]['name'];

/** What an export has without a choice: every column but related records and metadata. */
export const DEFAULT_COLUMNS: ExportColumn[] = EXPORT_COLUMNS.map((c) => c.name).filter(
  (name) => name !== 'related' && name !== 'metadata',
);

const KNOWN = new Set<string>(EXPORT_COLUMNS.map((c) => c.name));

function storageKey(userId: number): string {
  return `auditlog.exportColumns.${userId}`;
}

/** The columns this user chose last time (in the server's order), or the defaults. */
export function rememberedColumns(userId: number): ExportColumn[] {
  try {
    const stored: unknown = JSON.parse(window.localStorage.getItem(storageKey(userId)) ?? 'null');
    if (Array.isArray(stored)) {
      const chosen = new Set(stored.filter((name): name is ExportColumn => typeof name === 'string' && KNOWN.has(name)));
      const columns = EXPORT_COLUMNS.map((c) => c.name).filter((name) => chosen.has(name));
      if (columns.length > 0) return columns;
    }
  } catch {
    // Storage unavailable or garbled: the defaults.
  }
  return [...DEFAULT_COLUMNS];
}

export function rememberColumns(userId: number, columns: ExportColumn[]) {
  try {
    window.localStorage.setItem(storageKey(userId), JSON.stringify(columns));
  } catch {
    // Private mode or a full storage: the choice holds for this export only.
  }
}

/** The `columns` parameter: omitted when it is the default, so the file is the usual one. */
export function columnsParam(columns: ExportColumn[]): string | undefined {
  const same = columns.length === DEFAULT_COLUMNS.length && columns.every((c, i) => c === DEFAULT_COLUMNS[i]);
  return same ? undefined : columns.join(',');
}
