import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { FlagFilter } from '../../api';
import { Button } from '../../components/Button';
import { SelectField, TextField } from '../../components/Field';
import { FLAG_FILTERS, flagFilterLabel } from '../review/flagKinds';
import { ActorFilter } from './ActorFilter';
import { humanize } from './badges';
import {
  DATE_PRESETS,
  EMPTY_FILTERS,
  sameFilters,
  validateFilters,
  type ActivityFilters as Filters,
  type DateRange,
} from './filterSchema';
import { ipFilterProblem } from './ipFilter';
import { useActionFacets, useModuleFacets } from './queries';

export const KEYWORD_DEBOUNCE_MS = 300;

const FLAG_OPTIONS = [
  { value: '', label: 'All activity' },
  ...FLAG_FILTERS.map((f) => ({ value: f, label: flagFilterLabel(f) })),
];

/** The fields of the filter bar; a page may show only some of them. */
export type FilterField = 'date' | 'user' | 'type' | 'event' | 'flag' | 'ip' | 'search';
const ALL_FIELDS: readonly FilterField[] = ['date', 'user', 'type', 'event', 'flag', 'ip', 'search'];

export interface ActivityFiltersProps {
  applied: Filters;
  /** `replace` is set for as-you-type keyword updates, which should not flood the history. */
  onApply: (filters: Filters, options?: { replace?: boolean }) => void;
  onReset: () => void;
  knownActorNames: ReadonlyMap<string, string>;
  /** The fields shown (default: all). */
  fields?: readonly FilterField[];
  /** The form's accessible name. */
  label?: string;
  /** What the server said about the applied IP filter, shown under the field while it is unchanged. */
  ipError?: string | null;
}

/**
 * The filter bar. Choices are staged and applied with Filter (or Enter); the keyword applies
 * itself once typing pauses. The staged state follows the URL when it changes (back/forward).
 */
export function ActivityFilters({
  applied,
  onApply,
  onReset,
  knownActorNames,
  fields = ALL_FIELDS,
  label = 'Filter activity',
  ipError = null,
}: ActivityFiltersProps) {
  const shows = (field: FilterField) => fields.includes(field);
  const [draft, setDraft] = useState<Filters>(applied);
  const [syncedWith, setSyncedWith] = useState<Filters>(applied);
  if (!sameFilters(applied, syncedWith)) {
    setSyncedWith(applied);
    setDraft(applied);
  }

  const modules = useModuleFacets();
  const actions = useActionFacets();
  const dateProblem = validateFilters(draft);
  // The IP filter is checked as it is typed: a value the server would refuse is never sent.
  const ipProblem = ipFilterProblem(draft.ip) ?? (draft.ip === applied.ip ? ipError : null);
  const invalid = dateProblem ?? ipProblem;
  const dirty = !sameFilters(draft, applied);

  useEffect(() => {
    if (draft.q.trim() === applied.q || invalid) return;
    const timer = window.setTimeout(() => onApply(draft, { replace: true }), KEYWORD_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [draft, applied.q, invalid, onApply]);

  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const moduleOptions = useMemo(() => {
    const values = new Set(modules.data?.items.map((m) => m.value) ?? []);
    if (draft.module) values.add(draft.module);
    return [{ value: '', label: 'All types' }, ...[...values].sort().map((v) => ({ value: v, label: humanize(v) }))];
  }, [modules.data, draft.module]);

  const verbOptions = useMemo(() => {
    const items = actions.data?.items ?? [];
    const verbs = new Set(items.filter((a) => !draft.module || a.module === draft.module).map((a) => a.verb));
    if (draft.verb) verbs.add(draft.verb);
    return [{ value: '', label: 'All events' }, ...[...verbs].sort().map((v) => ({ value: v, label: humanize(v) }))];
  }, [actions.data, draft.module, draft.verb]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!invalid) onApply(draft);
  };

  const onRangeChange = (value: string) => {
    const range = (value || null) as DateRange;
    setDraft((d) => ({ ...d, range, from: range === 'custom' ? d.from : null, to: range === 'custom' ? d.to : null }));
  };

  return (
    <form className="filters" role="search" aria-label={label} onSubmit={onSubmit}>
      {shows('date') && (
        <SelectField
          label="Date range"
          value={draft.range ?? ''}
          onChange={(e) => onRangeChange(e.target.value)}
          options={[
            { value: '', label: 'Any time' },
            ...DATE_PRESETS.map((p) => ({ value: p.value, label: p.label })),
            { value: 'custom', label: 'Custom dates' },
          ]}
        />
      )}
      {shows('date') && draft.range === 'custom' && (
        <>
          <TextField
            label="From date"
            type="date"
            value={draft.from ?? ''}
            max={draft.to ?? undefined}
            onChange={(e) => set('from', e.target.value || null)}
          />
          <TextField
            label="To date"
            type="date"
            value={draft.to ?? ''}
            min={draft.from ?? undefined}
            error={dateProblem}
            onChange={(e) => set('to', e.target.value || null)}
          />
        </>
      )}
      {shows('user') && (
        <ActorFilter actorId={draft.actorId} knownNames={knownActorNames} onChange={(id) => set('actorId', id)} />
      )}
      {shows('type') && (
        <SelectField
          label="Type"
          value={draft.module ?? ''}
          options={moduleOptions}
          onChange={(e) => setDraft((d) => ({ ...d, module: e.target.value || null }))}
        />
      )}
      {shows('event') && (
        <SelectField
          label="Event"
          value={draft.verb ?? ''}
          options={verbOptions}
          onChange={(e) => set('verb', e.target.value || null)}
        />
      )}
      {shows('flag') && (
        <SelectField
          label="Flagged"
          value={draft.flag ?? ''}
          options={FLAG_OPTIONS}
          onChange={(e) => set('flag', (e.target.value || null) as FlagFilter | null)}
        />
      )}
      {shows('ip') && (
        <TextField
          label="IP address"
          value={draft.ip ?? ''}
          inputMode="decimal"
          placeholder="e.g. 203.0.113.7"
          error={ipProblem}
          onChange={(e) => set('ip', e.target.value.trim() || null)}
        />
      )}
      {shows('search') && (
        <TextField
          label="Search"
          type="search"
          value={draft.q}
          placeholder="Keyword or activity ID"
          fieldClassName="filters__wide"
          onChange={(e) => set('q', e.target.value)}
        />
      )}
      <div className="filters__actions">
        <Button
          type="submit"
          variant="primary"
          disabled={Boolean(invalid)}
          aria-describedby={dirty ? 'filters-pending' : undefined}
        >
          Filter
        </Button>
        <Button
          onClick={() => {
            setDraft({ ...EMPTY_FILTERS, scope: applied.scope });
            onReset();
          }}
        >
          Reset
        </Button>
        {dirty && (
          <span id="filters-pending" className="muted" style={{ alignSelf: 'center' }}>
            Not applied yet
          </span>
        )}
      </div>
    </form>
  );
}
