import type { AlertDelivery, AlertRule, AuditEvent, EventPage, User } from '../api';

export const demoUser: User = {
  id: 1,
  email: 'admin@acme.example',
  name: 'Alice Admin',
  role: 'admin',
  actor_id: 'user-1',
  tenant: { id: 1, slug: 'acme', name: 'Acme Ltd', timezone: 'Europe/London' },
} as User;

export function makeEvent(id: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id,
    seq: id,
    occurred_at: new Date(Date.UTC(2026, 10, 20, 12, 0, 0) - id * 60_000).toISOString(),
    recorded_at: new Date(Date.UTC(2026, 10, 20, 12, 0, 0) - id * 60_000).toISOString(),
    actor: { id: 'user-2', name: 'Bob Manager', email: 'bob@acme.example', role: 'manager', type: 'user' },
    action: 'booking.updated',
    module: 'booking',
    verb: 'updated',
    entity: { type: 'booking', id: String(1000 + id), label: `BOK-${1000 + id}` },
    related: [{ type: 'customer', id: '7', label: 'Ada Lovelace' }],
    description: `Bob Manager updated booking BOK-${1000 + id}`,
    changes: [{ field: 'status', old: 'pending', new: 'confirmed' }],
    ip: '203.0.113.7',
    user_agent: 'Mozilla/5.0',
    metadata: {},
    external_id: null,
    flags: [],
    hash: 'a'.repeat(64),
    prev_hash: 'b'.repeat(64),
    ...overrides,
  } as AuditEvent;
}

export function makePage(items: AuditEvent[], total: number, page = 1, perPage = 25): EventPage {
  return { items, page, per_page: perPage, total, next_cursor: null } as EventPage;
}

export function makeAlertRule(overrides: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 7,
    name: 'Flagged bookings',
    filter: 'flag=any&module=booking',
    destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson', header_names: ['X-Token'] },
    batch: { max_events: 10, max_seconds: 30 },
    paused: false,
    schedule: null,
    disabled_at: null,
    disabled_reason: null,
    created_by: 'user-1',
    created_at: '2026-11-20T10:00:00Z',
    updated_at: '2026-11-20T10:00:00Z',
    recent_deliveries: [],
    ...overrides,
  };
}

export function makeDelivery(id: number, overrides: Partial<AlertDelivery> = {}): AlertDelivery {
  return {
    id,
    rule_id: 7,
    message_id: `msg_${id}`,
    status: 'delivered',
    event_ids: [1000 + id],
    created_at: new Date(Date.UTC(2026, 10, 20, 12, 0, 0) - id * 60_000).toISOString(),
    attempts: 1,
    last_attempt_at: null,
    response_code: 204,
    latency_ms: 12,
    error: null,
    delivered_at: null,
    next_attempt_at: null,
    ...overrides,
  };
}
