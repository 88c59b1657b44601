import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { RecordLinks } from '../../api';
import { renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { HostAppLink, OpenInHostApp } from './OpenInHostApp';

const links: RecordLinks = {
  app_name: 'Acme CRM',
  templates: [{ entity_type: 'booking', url: 'https://crm.acme.example/bookings/{id}' }],
};

describe('HostAppLink', () => {
  it('opens a record of a type with a template in a new tab, without an opener or referrer', () => {
    renderWithProviders(<HostAppLink links={links} entity={{ type: 'booking', id: '../admin?x=1' }} />);
    const link = screen.getByRole('link', { name: /Open in Acme CRM/ });
    expect(link).toHaveAttribute('href', 'https://crm.acme.example/bookings/..%2Fadmin%3Fx%3D1');
    expect(link).toHaveAttribute('target', '_blank');
    expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    expect(link).toHaveAccessibleName('Open in Acme CRM (opens in a new tab)');
  });

  it('offers nothing for a type without a template', () => {
    const { container } = renderWithProviders(<HostAppLink links={links} entity={{ type: 'invoice', id: '7' }} />);
    expect(container).toBeEmptyDOMElement();
  });

  // As if an insider wrote these into the database and the server handed them out.
  it.each([
    'javascript:alert(document.cookie)//{id}',
    'JavaScript:alert(1)//https://{id}',
    'data:text/html,<script>alert(1)</script>{id}',
    'http://crm.acme.example/{id}',
    'https://user:pw@crm.acme.example/{id}',
  ])('never renders a link for the template %s', (url) => {
    const stored: RecordLinks = { app_name: 'Acme CRM', templates: [{ entity_type: 'booking', url }] };
    const { container } = renderWithProviders(<HostAppLink links={stored} entity={{ type: 'booking', id: '1' }} />);
    expect(container.querySelector('a')).toBeNull();
  });
});

describe('OpenInHostApp', () => {
  it('reads the tenant’s links once for every reference', async () => {
    const requests = stubApi({ '/api/v1/settings/record-links': () => links });
    renderWithProviders(
      <>
        <OpenInHostApp entity={{ type: 'booking', id: '1' }} />
        <OpenInHostApp entity={{ type: 'booking', id: '2' }} />
        <OpenInHostApp entity={{ type: 'customer', id: '3' }} />
      </>,
    );
    await waitFor(() => expect(screen.getAllByRole('link', { name: /Open in Acme CRM/ })).toHaveLength(2));
    expect(screen.getAllByRole('link').map((a) => a.getAttribute('href'))).toEqual([
      'https://crm.acme.example/bookings/1',
      'https://crm.acme.example/bookings/2',
    ]);
    expect(requests.filter((u) => u.pathname === '/api/v1/settings/record-links')).toHaveLength(1);
  });

  it('shows nothing when the links cannot be read', async () => {
    const requests = stubApi({});
    const { container } = renderWithProviders(<OpenInHostApp entity={{ type: 'booking', id: '1' }} />);
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(container.querySelector('a')).toBeNull();
  });
});
