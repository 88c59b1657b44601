import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Flag } from '../../api';
import { FlagBadge, FlagList } from './FlagBadge';
import { FLAG_FILTERS, FLAG_KINDS, flagFilterLabel, flagLabel } from './flagKinds';

const oddHours: Flag = {
  kind: 'odd_hours',
  reason: 'Sat 03:00 in Europe/London, outside business hours (Mon–Fri 07:00–20:00)',
};
const newIp: Flag = {
  kind: 'new_ip',
  reason: "Bob Manager's first event from the network 203.0.113.0/24 (address 203.0.113.7) in 90 days",
};

describe('flag kinds', () => {
  it('names every kind the API knows, once, in words', () => {
    expect(FLAG_KINDS.map((k) => k.value)).toEqual([
      'odd_hours',
      'new_ip',
      'new_user_agent',
      'failed_login_burst',
      'bulk_delete',
      'bulk_export',
      'privilege_change',
    ]);
    expect(FLAG_KINDS.map((k) => k.label)).toEqual([
      'Outside business hours',
      'New network',
      'New browser',
      'Failed sign-in burst',
      'Bulk deletion',
      'Bulk export',
      'Privilege change',
    ]);
    expect(FLAG_KINDS.every((k) => k.description.length > 0)).toBe(true);
    expect(FLAG_FILTERS[0]).toBe('any');
    expect(flagFilterLabel('any')).toBe('Any flag');
    expect(flagFilterLabel('bulk_export')).toBe(flagLabel('bulk_export'));
  });
});

describe('FlagBadge', () => {
  it('renders nothing for an event without flags', () => {
    const { container } = render(<FlagBadge flags={[]} />);
    expect(container).toBeEmptyDOMElement();
  });

  it('names the kind, and gives the reason on hover', () => {
    render(<FlagBadge flags={[oddHours]} />);
    const badge = screen.getByTestId('flag-badge');
    expect(badge).toHaveClass('badge', 'badge--red');
    expect(badge).toHaveTextContent('⚑ Outside business hours');
    expect(within(badge).getByText('Flagged: Outside business hours')).toHaveClass('visually-hidden');
    expect(badge).toHaveAttribute('title', `Outside business hours: ${oddHours.reason}`);
    expect(badge).toHaveAttribute('data-flag-kinds', 'odd_hours');
  });

  it('stays short with several flags but names each of them', () => {
    render(<FlagBadge flags={[oddHours, newIp]} />);
    const badge = screen.getByTestId('flag-badge');
    expect(within(badge).getByText('⚑ 2 flags')).toHaveAttribute('aria-hidden', 'true');
    expect(within(badge).getByText('Flagged: Outside business hours, New network')).toBeInTheDocument();
    expect(badge.title.split('\n')).toEqual([`Outside business hours: ${oddHours.reason}`, `New network: ${newIp.reason}`]);
    expect(badge).toHaveAttribute('data-flag-kinds', 'odd_hours new_ip');
  });
});

describe('FlagList', () => {
  it('lists each flag with its label and reason', () => {
    render(<FlagList flags={[oddHours, newIp]} />);
    const items = screen.getAllByRole('listitem');
    expect(items.map((i) => i.textContent)).toEqual([`Outside business hours ${oddHours.reason}`, `New network ${newIp.reason}`]);
  });
});
