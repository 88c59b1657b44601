import { useId, useState } from 'react';
import { Button } from './Button';

export interface ComboboxOption {
  value: string;
  label: string;
  hint?: string;
}

export interface ComboboxProps {
  label: string;
  placeholder?: string;
  /** Text in the input: the search while typing, the chosen option's label otherwise. */
  inputValue: string;
  onInputChange: (text: string) => void;
  options: ComboboxOption[];
  loading?: boolean;
  onSelect: (option: ComboboxOption | null) => void;
  hasValue: boolean;
  /** The list closed without a choice (blur or Escape). */
  onDismiss?: () => void;
}

/** A search-as-you-type single select following the ARIA combobox pattern. */
export function Combobox({
  label,
  placeholder,
  inputValue,
  onInputChange,
  options,
  loading,
  onSelect,
  hasValue,
  onDismiss,
}: ComboboxProps) {
  const id = useId();
  const listId = `${id}-list`;
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const activeIndex = Math.min(active, options.length - 1);

  const choose = (option: ComboboxOption | null) => {
    onSelect(option);
    setOpen(false);
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (!open) setOpen(true);
      else setActive((i) => Math.min(i + 1, options.length - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (event.key === 'Enter' && open && options[activeIndex]) {
      event.preventDefault();
      choose(options[activeIndex]);
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      setOpen(false);
      onDismiss?.();
    }
  };

  return (
    <div className="field combobox">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <div className="combobox__control">
        <input
          id={id}
          className="input"
          role="combobox"
          aria-expanded={open}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open && options[activeIndex] ? `${id}-opt-${activeIndex}` : undefined}
          autoComplete="off"
          placeholder={placeholder}
          value={inputValue}
          style={hasValue ? { paddingRight: 34 } : undefined}
          onChange={(e) => {
            onInputChange(e.target.value);
            setActive(0);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => {
            setOpen(false);
            onDismiss?.();
          }}
          onKeyDown={onKeyDown}
        />
        {hasValue && (
          <Button
            variant="ghost"
            size="icon"
            className="combobox__clear"
            aria-label={`Clear ${label}`}
            onClick={() => choose(null)}
          >
            <span aria-hidden="true">✕</span>
          </Button>
        )}
      </div>
      {open && (
        // A scrolling list is a tab stop of its own in Chromium; it closes when the input loses
        // focus, which would drop focus to the page: keep it out of the tab order.
        <ul id={listId} role="listbox" aria-label={label} className="combobox__list" tabIndex={-1}>
          {options.map((option, index) => (
            // The options are never focused: the input owns the keyboard (arrows and Enter choose
            // through aria-activedescendant), so the click here is the pointer's way to the same choice.
            // eslint-disable-next-line jsx-a11y/click-events-have-key-events
            <li
              key={option.value}
              id={`${id}-opt-${index}`}
              role="option"
              aria-selected={index === activeIndex}
              className="combobox__option"
              // Prevent blur so the click lands before the list closes.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => choose(option)}
            >
              <span>{option.label}</span>
              {option.hint && <small>{option.hint}</small>}
            </li>
          ))}
          {options.length === 0 && <li className="combobox__empty">{loading ? 'Searching…' : 'No matches'}</li>}
        </ul>
      )}
    </div>
  );
}
