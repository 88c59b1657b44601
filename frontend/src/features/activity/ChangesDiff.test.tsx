import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ChangesDiff, diffMode } from './ChangesDiff';

describe('ChangesDiff', () => {
  it('shows previous and new values side by side for an update', () => {
    render(
      <ChangesDiff
        verb="updated"
        changes={[
          { field: 'status', old: 'pending', new: 'confirmed' },
          { field: 'notes', old: null, new: 'Call first' },
        ]}
      />,
    );
    const table = screen.getByRole('table');
    expect(table).toHaveAttribute('data-mode', 'diff');
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['Field', 'Previous value', 'New value']);
    const status = within(table).getByRole('row', { name: /status/ });
    expect(
      within(status)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['pending', 'confirmed']);
    const notes = within(table).getByRole('row', { name: /notes/ });
    expect(
      within(notes)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['empty', 'Call first']);
  });

  it('shows all initial values for a creation', () => {
    render(
      <ChangesDiff
        verb="created"
        changes={[
          { field: 'total', new: 120.5 },
          { field: 'paid', new: false },
          { field: 'lines', new: [{ sku: 'A', qty: 2 }] },
        ]}
      />,
    );
    const table = screen.getByRole('table');
    expect(table).toHaveAttribute('data-mode', 'initial');
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['Field', 'Initial value']);
    expect(within(table).getByRole('row', { name: /total/ })).toHaveTextContent('120.5');
    expect(within(table).getByRole('row', { name: /paid/ })).toHaveTextContent('false');
    expect(within(table).getByRole('row', { name: /lines/ })).toHaveTextContent('"sku": "A"');
  });

  it('shows the full snapshot for a deletion', () => {
    render(
      <ChangesDiff
        verb="deleted"
        changes={[
          { field: 'name', old: 'Ada Lovelace' },
          { field: 'email', old: 'ada@example.com' },
        ]}
      />,
    );
    const table = screen.getByRole('table');
    expect(table).toHaveAttribute('data-mode', 'snapshot');
    expect(within(table).getByRole('columnheader', { name: 'Value at deletion' })).toBeInTheDocument();
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(table).toHaveTextContent('Ada Lovelace');
  });

  it('says so when nothing changed', () => {
    render(<ChangesDiff verb="login" changes={[]} />);
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(screen.getByText(/no field changes/i)).toBeInTheDocument();
  });

  it('infers the mode from the values for other verbs', () => {
    expect(diffMode('restored', [{ field: 'a', new: 1 }])).toBe('initial');
    expect(diffMode('archived', [{ field: 'a', old: 1 }])).toBe('snapshot');
    expect(diffMode('status_changed', [{ field: 'a', old: 1, new: 2 }])).toBe('diff');
  });
});
