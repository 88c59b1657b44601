import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/fixtures';
import { renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { RecordHistoryPage } from './RecordHistoryPage';

const page = (hidden: number) => ({
  items: [makeEvent(1, { entity: { type: 'booking', id: 'B-7', label: 'BOK-7' } })],
  page: null,
  per_page: 50,
  total: null,
  total_is_estimate: false,
  next_cursor: null,
  hidden,
});

describe('RecordHistoryPage', () => {
  it('says how many entries the role hides', async () => {
    stubApi({ '/api/v1/entities/booking/B-7/history': () => page(2) });
    renderWithProviders(<RecordHistoryPage />, { url: '/records/booking/B-7', path: '/records/:type/:id' });
    expect(await screen.findByTestId('history-hidden')).toHaveTextContent('2 entries of this record are hidden from your role.');
  });

  it('says nothing when nothing is hidden', async () => {
    stubApi({ '/api/v1/entities/booking/B-7/history': () => page(0) });
    renderWithProviders(<RecordHistoryPage />, { url: '/records/booking/B-7', path: '/records/:type/:id' });
    expect(await screen.findByTestId('history-timeline')).toBeInTheDocument();
    expect(screen.queryByTestId('history-hidden')).toBeNull();
  });

  it('offers the record in the host application beside its title', async () => {
    stubApi({
      '/api/v1/entities/booking/B-7/history': () => page(0),
      '/api/v1/settings/record-links': () => ({
        app_name: 'Acme CRM',
        templates: [{ entity_type: 'booking', url: 'https://crm.acme.example/bookings/{id}' }],
      }),
    });
    renderWithProviders(<RecordHistoryPage />, { url: '/records/booking/B-7', path: '/records/:type/:id' });
    const link = await screen.findByRole('link', { name: /Open in Acme CRM/ });
    expect(link).toHaveAttribute('href', 'https://crm.acme.example/bookings/B-7');
    expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    expect(link).toHaveAttribute('target', '_blank');
  });
});
