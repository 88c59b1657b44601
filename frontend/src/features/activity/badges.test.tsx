import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { BADGE_TONES } from '../../components/badgeTones';
import { humanize, ModuleBadge, moduleTone, VerbBadge, verbTone } from './badges';

describe('badge colours', () => {
  it('gives each demo module its own colour', () => {
    const modules = ['booking', 'invoice', 'quote', 'customer', 'user', 'auth', 'settings'];
    const tones = modules.map(moduleTone);
    expect(new Set(tones).size).toBe(modules.length);
    expect(moduleTone('booking')).toBe('blue');
    expect(moduleTone('invoice')).toBe('green');
  });

  it('colours verbs by meaning', () => {
    expect(verbTone('created')).toBe('green');
    expect(verbTone('updated')).toBe('blue');
    expect(verbTone('deleted')).toBe('red');
    expect(verbTone('login_failed')).toBe('red');
    expect(verbTone('login')).toBe(verbTone('logout'));
  });

  it('gives an unknown value a stable palette colour', () => {
    expect(BADGE_TONES).toContain(moduleTone('dispatch'));
    expect(moduleTone('dispatch')).toBe(moduleTone('dispatch'));
    expect(verbTone('escalated')).toBe(verbTone('escalated'));
  });

  it('renders readable labels with the colour class', () => {
    render(
      <>
        <ModuleBadge module="invoice" />
        <VerbBadge verb="status_changed" />
      </>,
    );
    expect(screen.getByText('Invoice')).toHaveClass('badge', 'badge--green');
    expect(screen.getByText('Status changed')).toHaveClass('badge', 'badge--blue');
    expect(humanize('user.role_changed')).toBe('User role changed');
  });
});
