import { useEffect, useRef } from 'react';
import { Button } from '../../components/Button';
import type { FilterChip } from './filterChips';

export interface FilterChipsProps {
  chips: FilterChip[];
  onRemove: (chip: FilterChip) => void;
  onClearAll: () => void;
}

/** The applied filters above the list, each with a button that removes it; "Clear all" for two or more. */
export function FilterChips({ chips, onRemove, onClearAll }: FilterChipsProps) {
  const list = useRef<HTMLUListElement>(null);
  // After a removal the focus moves to the chip that took its place, not to the page's start.
  const focusNext = useRef<number | null>(null);
  useEffect(() => {
    const index = focusNext.current;
    if (index === null) return;
    focusNext.current = null;
    const buttons = list.current?.querySelectorAll('button');
    if (buttons && buttons.length > 0) buttons[Math.min(index, buttons.length - 1)].focus();
  }, [chips]);

  if (chips.length === 0) return null;
  return (
    <div className="applied-filters" role="group" aria-label="Applied filters">
      <ul className="applied-filters__list" ref={list}>
        {chips.map((chip, index) => (
          <li key={chip.key} className="applied-filter" data-filter-key={chip.key}>
            <span className="applied-filter__text">{chip.text}</span>
            <button
              type="button"
              className="applied-filter__remove"
              aria-label={`Remove filter ${chip.text}`}
              title={`Remove filter ${chip.text}`}
              onClick={() => {
                focusNext.current = index;
                onRemove(chip);
              }}
            >
              <span aria-hidden="true">×</span>
            </button>
          </li>
        ))}
      </ul>
      {chips.length >= 2 && (
        <Button size="small" variant="ghost" onClick={onClearAll}>
          Clear all
        </Button>
      )}
    </div>
  );
}
