import { expect, type APIRequestContext } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { BUSINESS_ZONE, SESSION_KEY, STORAGE_STATE } from './constants';

export type Query = Record<string, string | number | string[] | undefined>;

export interface ApiEvent {
  id: number;
  module: string;
  verb: string;
  action: string;
  actor: { id: string; name: string; role: string | null };
  entity: { type: string; id: string; label: string | null } | null;
  related: { type: string; id: string; label: string | null }[];
  changes: { field: string; old?: unknown; new?: unknown }[];
  ip: string | null;
  occurred_at: string;
  description: string;
  deleted_at?: string | null;
  flags: { kind: string; reason: string }[];
  metadata: Record<string, unknown>;
}

export interface ApiFlagSummary {
  total: number;
  kinds: { kind: string; count: number }[];
}

export interface ApiReviewSettings {
  working_days: number[];
  day_starts: string;
  day_ends: string;
  new_ip_days: number;
  failed_logins: number;
  failed_login_minutes: number;
  bulk_delete_events: number;
  bulk_export_rows: number;
  bulk_export_minutes: number;
  log_views: boolean;
}

export interface ApiRecordLinks {
  app_name: string;
  templates: { entity_type: string; url: string }[];
}

export type ApiFieldVisibility = Record<
  'ip' | 'user_agent' | 'actor_email' | 'changes' | 'metadata',
  'nobody' | 'members' | 'members_and_managers'
>;

export interface ApiAlertDelivery {
  id: number;
  rule_id: number;
  message_id: string;
  status: 'pending' | 'delivered' | 'failed';
  event_ids: number[];
  attempts: number;
  response_code?: number | null;
}

export interface ApiAlertRule {
  id: number;
  name: string;
  filter: string;
  destination:
    { type: 'webhook'; url: string; format: 'json' | 'ndjson'; header_names: string[] } | { type: 'email'; to: string[] };
  batch: { max_events: number; max_seconds: number };
  paused: boolean;
  schedule?: 'daily' | 'weekly' | null;
  disabled_at?: string | null;
  recent_deliveries: ApiAlertDelivery[];
}

export interface ApiEventPage {
  items: ApiEvent[];
  total: number | null;
  page: number | null;
  per_page: number;
}

/** The dashboard's own defaults, so a test states only what it filters on. */
const DASHBOARD_DEFAULTS: Query = { sort: 'occurred_at', order: 'desc', page: 1, per_page: 25, tz: BUSINESS_ZONE };

function toSearch(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  return params.toString();
}

/** The admin token the setup project stored, read back from the saved browser state. */
export function storedToken(): string {
  const state = JSON.parse(readFileSync(STORAGE_STATE, 'utf8')) as {
    origins: { localStorage: { name: string; value: string }[] }[];
  };
  for (const origin of state.origins) {
    const entry = origin.localStorage.find((e) => e.name === SESSION_KEY);
    if (entry) return (JSON.parse(entry.value) as { accessToken: string }).accessToken;
  }
  throw new Error('No signed-in session in the stored browser state');
}

/** Calls the same API the dashboard calls, to check what it shows against the source. */
export class ApiClient {
  private readonly request: APIRequestContext;
  private readonly token: string;

  constructor(request: APIRequestContext, token: string) {
    this.request = request;
    this.token = token;
  }

  private async get<T>(path: string, query: Query = {}): Promise<T> {
    const search = toSearch(query);
    const response = await this.request.get(`/api/v1${path}${search ? `?${search}` : ''}`, {
      headers: { Authorization: `Bearer ${this.token}` },
    });
    expect(response.status(), `GET ${path}?${search}`).toBe(200);
    return (await response.json()) as T;
  }

  /** POST /events: records one event, as an integrator would. */
  async ingest(event: Record<string, unknown>): Promise<number> {
    const response = await this.request.post('/api/v1/events', {
      headers: { Authorization: `Bearer ${this.token}` },
      data: event,
    });
    expect(response.status(), 'POST /events').toBe(201);
    return ((await response.json()) as { ids: number[] }).ids[0];
  }

  /** POST /users: a dashboard user for a test to sign in as, so the shared demo users stay untouched. */
  async createUser(user: { email: string; name: string; password: string; role: string }): Promise<void> {
    const response = await this.request.post('/api/v1/users', {
      headers: { Authorization: `Bearer ${this.token}` },
      data: user,
    });
    expect(response.status(), 'POST /users').toBe(201);
  }

  /** GET /events with the dashboard's defaults overridden by `query`. */
  events(query: Query = {}): Promise<ApiEventPage> {
    return this.get('/events', { ...DASHBOARD_DEFAULTS, ...query });
  }

  async eventIds(query: Query = {}): Promise<number[]> {
    return (await this.events(query)).items.map((e) => e.id);
  }

  event(id: number): Promise<ApiEvent> {
    return this.get(`/events/${id}`);
  }

  history(type: string, id: string, query: Query = {}): Promise<ApiEventPage> {
    return this.get(`/entities/${encodeURIComponent(type)}/${encodeURIComponent(id)}/history`, {
      per_page: 25,
      tz: BUSINESS_ZONE,
      ...query,
    });
  }

  /** GET /stats/flags: visible flagged events by kind, in the business zone unless `query` says. */
  flagSummary(query: Query = {}): Promise<ApiFlagSummary> {
    return this.get('/stats/flags', { tz: BUSINESS_ZONE, ...query });
  }

  reviewSettings(): Promise<ApiReviewSettings> {
    return this.get('/settings/review');
  }

  /** PUT /settings/review, e.g. to put back what a test changed. */
  async setReviewSettings(settings: ApiReviewSettings): Promise<void> {
    const response = await this.request.put('/api/v1/settings/review', {
      headers: { Authorization: `Bearer ${this.token}` },
      data: settings,
    });
    expect(response.status(), 'PUT /settings/review').toBe(200);
  }

  recordLinks(): Promise<ApiRecordLinks> {
    return this.get('/settings/record-links');
  }

  /** PUT /settings/record-links, e.g. to put back what a test changed. */
  async setRecordLinks(links: ApiRecordLinks): Promise<void> {
    const response = await this.request.put('/api/v1/settings/record-links', {
      headers: { Authorization: `Bearer ${this.token}` },
      data: links,
    });
    expect(response.status(), 'PUT /settings/record-links').toBe(200);
  }

  fieldVisibility(): Promise<ApiFieldVisibility> {
    return this.get('/settings/fields');
  }

  /** PUT /settings/fields, e.g. to put back what a test changed. */
  async setFieldVisibility(setting: ApiFieldVisibility): Promise<void> {
    const response = await this.request.put('/api/v1/settings/fields', {
      headers: { Authorization: `Bearer ${this.token}` },
      data: setting,
    });
    expect(response.status(), 'PUT /settings/fields').toBe(200);
  }

  alertRules(): Promise<{ items: ApiAlertRule[] }> {
    return this.get('/alerts/rules');
  }

  alertRule(id: number): Promise<ApiAlertRule> {
    return this.get(`/alerts/rules/${id}`);
  }

  /** GET /alerts/rules/{id}: the status alone, e.g. 404 once the rule is deleted. */
  async alertRuleStatus(id: number): Promise<number> {
    const response = await this.request.get(`/api/v1/alerts/rules/${id}`, { headers: { Authorization: `Bearer ${this.token}` } });
    return response.status();
  }

  /** POST /alerts/rules: a rule for a test to work on, and its signing secret. */
  async createAlertRule(rule: Record<string, unknown>): Promise<{ rule: ApiAlertRule; secret: string }> {
    const response = await this.request.post('/api/v1/alerts/rules', {
      headers: { Authorization: `Bearer ${this.token}` },
      data: rule,
    });
    expect(response.status(), 'POST /alerts/rules').toBe(201);
    return (await response.json()) as { rule: ApiAlertRule; secret: string };
  }

  /** DELETE /alerts/rules/{id} for every rule whose name starts with `prefix`, so no test leaves one behind. */
  async deleteAlertRules(prefix: string): Promise<void> {
    for (const rule of (await this.alertRules()).items.filter((r) => r.name.startsWith(prefix))) {
      const response = await this.request.delete(`/api/v1/alerts/rules/${rule.id}`, {
        headers: { Authorization: `Bearer ${this.token}` },
      });
      expect([204, 404], `DELETE /alerts/rules/${rule.id}`).toContain(response.status());
    }
  }

  actors(q = ''): Promise<{ items: { id: string; name: string; email: string | null; count: number }[] }> {
    return this.get('/facets/actors', { q, limit: 20 });
  }
}
