import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

interface FieldShellProps {
  label: string;
  error?: string | null;
  className?: string;
  children: (ids: { id: string; errorId: string | undefined }) => ReactNode;
}

function FieldShell({ label, error, className, children }: FieldShellProps) {
  const id = useId();
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div className={['field', className].filter(Boolean).join(' ')}>
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      {children({ id, errorId })}
      {error && (
        <span id={errorId} className="field__error">
          {error}
        </span>
      )}
    </div>
  );
}

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  label: string;
  error?: string | null;
  fieldClassName?: string;
}

export function TextField({ label, error, fieldClassName, ...input }: TextFieldProps) {
  return (
    <FieldShell label={label} error={error} className={fieldClassName}>
      {({ id, errorId }) => (
        <input id={id} className="input" aria-invalid={error ? true : undefined} aria-describedby={errorId} {...input} />
      )}
    </FieldShell>
  );
}

export interface SelectOption {
  value: string;
  label: string;
}

export interface SelectFieldProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> {
  label: string;
  options: SelectOption[];
  fieldClassName?: string;
}

export function SelectField({ label, options, fieldClassName, ...select }: SelectFieldProps) {
  return (
    <FieldShell label={label} className={fieldClassName}>
      {({ id }) => (
        <select id={id} className="select" {...select}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </FieldShell>
  );
}
