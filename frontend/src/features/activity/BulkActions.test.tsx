import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { Toaster } from '../../components/Toast';
import { BulkActions } from './BulkActions';
import { DEFAULT_VIEW } from './filterSchema';

const props = { view: DEFAULT_VIEW, timeZone: 'UTC', total: 40, onClearSelection: () => {} };

describe('BulkActions', () => {
  it('tells a member only what a member can do', () => {
    stubApi({});
    renderWithProviders(<BulkActions {...props} selected={[]} canDelete={false} />);
    const bar = screen.getByRole('toolbar', { name: 'Bulk actions' });
    expect(bar).toHaveTextContent('Select rows to export them, or export everything that matches.');
    expect(bar).not.toHaveTextContent(/delete/i);
  });

  it('says in a toast how many activities a bulk delete removed', async () => {
    stubApi({ '/api/v1/events': () => ({ deleted: [5011, 5012], already_deleted: [] }) });
    renderWithProviders(
      <>
        <BulkActions {...props} selected={[5011, 5012]} canDelete />
        <Toaster />
      </>,
    );
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Delete selected…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete 2 activities?' });
    await user.type(within(dialog).getByLabelText('Reason (required)'), 'duplicate import');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByTestId('toasts')).toHaveTextContent('2 activities deleted.');
    await user.click(within(screen.getByTestId('toasts')).getByRole('button', { name: 'Dismiss' }));
    expect(screen.getByTestId('toasts')).toBeEmptyDOMElement();
  });
});
