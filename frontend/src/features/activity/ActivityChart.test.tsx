import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { ActivityChart, axisTop, datesOf } from './ActivityChart';
import { DEFAULT_VIEW } from './filterSchema';

const bucket = (label: string, start: string, end: string, count: number, partial = false) => ({
  label,
  start,
  end,
  count,
  partial,
});

const weeks = {
  bucket: 'week',
  tz: 'UTC',
  from: '2026-11-02T00:00:00Z',
  until: '2026-11-18T10:00:00Z',
  total: 9,
  buckets: [
    bucket('2026-11-02', '2026-11-02T00:00:00Z', '2026-11-09T00:00:00Z', 1),
    bucket('2026-11-09', '2026-11-09T00:00:00Z', '2026-11-16T00:00:00Z', 0),
    bucket('2026-11-16', '2026-11-16T00:00:00Z', '2026-11-23T00:00:00Z', 8, true),
  ],
};

function renderChart(answer: object) {
  stubApi({ '/api/v1/stats/timeline': () => answer });
  const onPickDates = vi.fn();
  renderWithProviders(<ActivityChart view={DEFAULT_VIEW} timeZone="UTC" onPickDates={onPickDates} />);
  return onPickDates;
}

describe('ActivityChart', () => {
  it('says what it counts per what, over which dates, and marks partial buckets', async () => {
    renderChart(weeks);
    const chart = await screen.findByTestId('activity-chart');
    expect(within(chart).getByRole('heading', { name: 'Activities per week' })).toBeInTheDocument();
    expect(within(chart).getByTestId('chart-summary')).toHaveTextContent('9 activities from 02 Nov 2026 to 18 Nov 2026');
    const partial = within(chart).getByRole('button', { name: /^Week of 16 Nov 2026 \(partial week\): 8 activities/ });
    expect(partial).toHaveAttribute('data-partial');
    expect(within(chart).getByRole('button', { name: /^Week of 02 Nov 2026: 1 activity\./ })).not.toHaveAttribute('data-partial');
    expect(chart).toHaveTextContent('Partial week: the range or the clock covers only part of it');
    // Axes: the count axis up to a round number, the time axis named.
    expect(chart).toHaveTextContent('Activities');
    expect(chart).toHaveTextContent('Week (from Monday)');
    expect(chart.querySelector('.chart__ticks')).toHaveTextContent('1050');
  });

  it('is one tab stop; arrow keys, Home and End move between bars; Enter picks the week', async () => {
    const onPickDates = renderChart(weeks);
    const chart = await screen.findByTestId('activity-chart');
    const user = userEvent.setup();
    const bars = within(chart).getAllByRole('button');
    expect(bars.filter((b) => b.tabIndex === 0)).toHaveLength(1);
    await user.tab();
    expect(document.activeElement).toBe(bars[2]);
    await user.keyboard('{ArrowLeft}');
    expect(document.activeElement).toBe(bars[1]);
    expect(bars.filter((b) => b.tabIndex === 0)).toEqual([bars[1]]);
    await user.keyboard('{Home}');
    expect(document.activeElement).toBe(bars[0]);
    await user.keyboard('{ArrowLeft}');
    expect(document.activeElement).toBe(bars[0]);
    await user.keyboard('{End}{Enter}');
    expect(onPickDates).toHaveBeenCalledWith('2026-11-16', '2026-11-22');
    // One more Tab leaves the chart altogether.
    await user.tab();
    expect(chart.contains(document.activeElement)).toBe(false);
  });

  it('offers the same counts as a table for screen readers', async () => {
    renderChart(weeks);
    const table = await screen.findByRole('table', { name: 'Activities per week' });
    const rows = within(table)
      .getAllByRole('row')
      .map((row) => row.textContent);
    expect(rows).toEqual([
      'Week (from Monday)Activities',
      'Week of 02 Nov 20261',
      'Week of 09 Nov 20260',
      'Week of 16 Nov 2026 (partial week)8',
    ]);
  });

  it('shows hours without a pick of their own', async () => {
    const onPickDates = renderChart({
      bucket: 'hour',
      tz: 'UTC',
      from: '2026-11-20T00:00:00Z',
      until: '2026-11-20T02:00:00Z',
      total: 1,
      buckets: [
        bucket('2026-11-20 00:00', '2026-11-20T00:00:00Z', '2026-11-20T01:00:00Z', 1),
        bucket('2026-11-20 01:00', '2026-11-20T01:00:00Z', '2026-11-20T02:00:00Z', 0),
      ],
    });
    const chart = await screen.findByTestId('activity-chart');
    expect(within(chart).getByRole('heading', { name: 'Activities per hour' })).toBeInTheDocument();
    const first = within(chart).getByRole('button', { name: '20 Nov 2026 00:00: 1 activity' });
    expect(first).toHaveAttribute('aria-disabled', 'true');
    await userEvent.click(first);
    expect(onPickDates).not.toHaveBeenCalled();
  });

  it('knows the dates of a day, a week and a month, and rounds its axis', () => {
    const b = (label: string) => bucket(label, '', '', 0);
    expect(datesOf(b('2026-11-20'), 'day')).toEqual(['2026-11-20', '2026-11-20']);
    expect(datesOf(b('2026-12-28'), 'week')).toEqual(['2026-12-28', '2027-01-03']);
    expect(datesOf(b('2028-02'), 'month')).toEqual(['2028-02-01', '2028-02-29']);
    expect(datesOf(b('2026-11-20 14:00'), 'hour')).toBeNull();
    expect([0, 1, 3, 8, 10, 11, 240, 5001].map(axisTop)).toEqual([1, 1, 5, 10, 10, 20, 500, 10000]);
  });
});
