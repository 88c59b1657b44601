import type { Middleware } from 'openapi-fetch';
import type { components, paths } from './generated/openapi';
import { client, credentialsRefused, send, unwrap } from './client';

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;

type ListEventsOp = paths['/api/v1/events']['get'];
type HistoryOp = paths['/api/v1/entities/{type}/{id}/history']['get'];

export type LoginRequest = NonNullable<paths['/api/v1/auth/login']['post']['requestBody']>['content']['application/json'];
export type LoginResponse = JsonOf<paths['/api/v1/auth/login']['post']['responses'][200]>;
export type User = LoginResponse['user'];
export type ExportQuery = NonNullable<paths['/api/v1/events/export']['get']['parameters']['query']>;
export type DeleteEventsRequest = NonNullable<paths['/api/v1/events']['delete']['requestBody']>['content']['application/json'];
export type TimelineQuery = NonNullable<paths['/api/v1/stats/timeline']['get']['parameters']['query']>;
export type TimelineResponse = Schemas['TimelineResponse'];
export type TimelineBucket = Schemas['TimelineBucket'];
export type StreamQuery = NonNullable<paths['/api/v1/events/stream']['get']['parameters']['query']>;
export type FlagSummaryQuery = NonNullable<paths['/api/v1/stats/flags']['get']['parameters']['query']>;
export type EventQuery = NonNullable<ListEventsOp['parameters']['query']>;
type HistoryQuery = NonNullable<HistoryOp['parameters']['query']>;
export type EventPage = JsonOf<ListEventsOp['responses'][200]>;
export type AuditEvent = EventPage['items'][number];
export type EntityRef = AuditEvent['related'][number];
export type Change = AuditEvent['changes'][number];
type Schemas = components['schemas'];
export type Role = Schemas['RoleSchema'];
export type PasswordChange = Schemas['PasswordChange'];
export type ManagedUser = Schemas['UserOut'];
export type NewUser = Schemas['NewUserRequest'];
export type UserPatch = Schemas['UserPatch'];
export type ApiToken = Schemas['TokenOut'];
export type TokenScope = Schemas['ScopeSchema'];
export type NewToken = Schemas['NewTokenRequest'];
export type CreatedToken = Schemas['CreatedToken'];
export type RetentionSetting = Schemas['RetentionSetting'];
export type FieldVisibility = Schemas['FieldVisibility'];
export type Archive = Schemas['ArchiveOut'];
export type Verification = Schemas['VerificationOut'];
/** A signed checkpoint: the tenant's tree had `tree_size` events with this root. */
export type Checkpoint = Schemas['CheckpointOut'];
/** An RFC 9162 inclusion proof of an event in a signed checkpoint. */
export type InclusionProof = Schemas['InclusionProofOut'];
export type IntegrityStatus = Schemas['IntegrityStatus'];
/** A verification run the server stored (on request, on schedule or from the command line). */
export type VerificationRun = Schemas['VerificationRunOut'];
/** Why the server finds an event worth a security review (kept beside the event, not signed). */
export type Flag = Schemas['FlagOut'];
export type FlagKind = Schemas['FlagKind'];
/** The `flag` filter: `any`, or one kind. */
export type FlagFilter = Schemas['FlagFilter'];
/** Visible flagged events by kind (every kind, zero included). */
export type FlagSummary = Schemas['FlagSummary'];
/** What the tenant's flags take as unusual. */
export type ReviewSettings = Schemas['ReviewSettings'];
/** Links into the host application: its name and a URL template per record type. */
export type RecordLinks = Schemas['RecordLinks'];
/** An alert rule: a filter of the list plus a destination (docs/ALERTS.md). */
export type AlertRule = Schemas['RuleOut'];
/** An alert rule as an admin writes it (POST and PUT). */
export type AlertRuleInput = Schemas['RuleIn'];
/** A new rule with its webhook signing secret, shown in this response only. */
export type CreatedAlertRule = Schemas['CreatedRule'];
export type AlertDestination = Schemas['DestinationOut'];
export type AlertDestinationInput = AlertRuleInput['destination'];
export type WebhookHeader = Schemas['Header'];
export type BodyFormat = Schemas['BodyFormat'];
export type AlertBatch = Schemas['Batch'];
/** How often a digest rule sends its summary; a rule without one sends each matching event. */
export type AlertSchedule = Schemas['Schedule'];
/** One delivery of a rule: the events it carried and what its attempts found. */
export type AlertDelivery = Schemas['DeliveryOut'];
export type DeliveryStatus = Schemas['DeliveryStatusOut'];
export type DeliveryPage = Schemas['DeliveryList'];
export type DeliveryQuery = NonNullable<paths['/api/v1/alerts/rules/{id}/deliveries']['get']['parameters']['query']>;
/** An IANA zone name the server knows (the schema lists them all). */
export type TimeZone = Schemas['TimeZone'];

/** `zone` as a `tz` parameter. The browser's and the tenant's zones are IANA names; one the
 * server's database does not know is refused with a 400 naming `tz`. */
export const asTimeZone = (zone: string) => zone as TimeZone;

/** An open live tail (`GET /events/stream`). */
export interface LiveStream {
  /** The raw `text/event-stream` body. */
  body: NonNullable<Response['body']>;
  /**
   * For a stream that ended with a 401 problem: signs out as a 401 answer does, unless the session
   * has a new token since the stream opened (then connecting again uses it). Answers whether it
   * signed out.
   */
  refused: () => boolean;
}

/** The file a download response carries, named as the server suggests or by `fallback`. */
function attachment(data: unknown, response: Response, fallback: string) {
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallback;
  return { blob: data as Blob, filename };
}

/** The typed calls the dashboard makes; each throws ApiError on failure. */
export const api = {
  login: (body: LoginRequest) => unwrap(client.POST('/api/v1/auth/login', { body })),
  logout: () => unwrap(client.POST('/api/v1/auth/logout')),
  listEvents: (query: EventQuery, signal?: AbortSignal) => unwrap(client.GET('/api/v1/events', { params: { query }, signal })),
  /** A one-minute link the browser downloads the export from (see `startDownload`). */
  exportLink: (query: ExportQuery) => unwrap(client.POST('/api/v1/events/export/link', { params: { query } })),
  deleteEvents: (body: DeleteEventsRequest) => unwrap(client.DELETE('/api/v1/events', { body })),
  timeline: (query: TimelineQuery, signal?: AbortSignal) =>
    unwrap(client.GET('/api/v1/stats/timeline', { params: { query }, signal })),
  flagSummary: (query: FlagSummaryQuery, signal?: AbortSignal) =>
    unwrap(client.GET('/api/v1/stats/flags', { params: { query }, signal })),
  verifyIntegrity: () => unwrap(client.GET('/api/v1/integrity/verify')),
  /** The latest signed checkpoint; a 404 ApiError when nothing is signed yet. */
  latestCheckpoint: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/integrity/checkpoint', { signal })),
  /** The proof that the event is in the checkpoint of `treeSize` events (default: the latest). */
  inclusionProof: (id: number, treeSize?: number) =>
    unwrap(
      client.GET('/api/v1/events/{id}/proof', {
        params: { path: { id }, query: treeSize === undefined ? {} : { tree_size: treeSize } },
      }),
    ),
  /** The checkpoints' verifier key, as the server writes it (`<name>+<key id>+<key>`, one line). */
  publicKey: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/integrity/public-key', { parseAs: 'text', signal })),
  /** The latest signed checkpoint and the last stored verification run (admins). */
  integrityStatus: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/integrity/status', { signal })),
  /** The live tail; a 429 ApiError when the user has too many streams open. */
  streamEvents: async (query: StreamQuery, signal: AbortSignal): Promise<LiveStream> => {
    let authorization: string | null = null;
    const sentWith: Middleware = {
      onRequest({ request }) {
        authorization = request.headers.get('Authorization');
      },
    };
    const { response } = await send(
      client.GET('/api/v1/events/stream', { params: { query }, parseAs: 'stream', signal, middleware: [sentWith] }),
    );
    if (!response.body) throw new Error('The live stream has no body');
    return { body: response.body, refused: () => credentialsRefused(authorization) };
  },
  getEvent: (id: number, signal?: AbortSignal) => unwrap(client.GET('/api/v1/events/{id}', { params: { path: { id } }, signal })),
  entityHistory: (type: string, id: string, query: HistoryQuery, signal?: AbortSignal) =>
    unwrap(client.GET('/api/v1/entities/{type}/{id}/history', { params: { path: { type, id }, query }, signal })),
  actorFacets: (q: string, limit: number, signal?: AbortSignal) =>
    unwrap(client.GET('/api/v1/facets/actors', { params: { query: { q, limit } }, signal })),
  moduleFacets: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/facets/modules', { signal })),
  actionFacets: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/facets/actions', { signal })),
  changePassword: (body: PasswordChange) => unwrap(client.POST('/api/v1/auth/password', { body })),
  listUsers: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/users', { signal })),
  createUser: (body: NewUser) => unwrap(client.POST('/api/v1/users', { body })),
  updateUser: (id: number, body: UserPatch) => unwrap(client.PATCH('/api/v1/users/{id}', { params: { path: { id } }, body })),
  listTokens: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/tokens', { signal })),
  createToken: (body: NewToken) => unwrap(client.POST('/api/v1/tokens', { body })),
  revokeToken: (id: number) => unwrap(client.DELETE('/api/v1/tokens/{id}', { params: { path: { id } } })),
  getRetention: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/settings/retention', { signal })),
  setRetention: (body: RetentionSetting) => unwrap(client.PUT('/api/v1/settings/retention', { body })),
  /** Which event fields each role may not see (any signed-in caller may read it). */
  getFieldVisibility: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/settings/fields', { signal })),
  /** Admins only; a 422 ApiError names the field or value it refuses. */
  setFieldVisibility: (body: FieldVisibility) => unwrap(client.PUT('/api/v1/settings/fields', { body })),
  /** Admins only (a 403 ApiError for anyone else). */
  getReviewSettings: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/settings/review', { signal })),
  /** Replaces the settings; a 422 ApiError names the fields it refuses. */
  setReviewSettings: (body: ReviewSettings) => unwrap(client.PUT('/api/v1/settings/review', { body })),
  /** For every signed-in user: the dashboard draws "Open in <app>" from these. */
  getRecordLinks: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/settings/record-links', { signal })),
  /** Admins only; replaces the links whole; a 422 ApiError names the fields it refuses. */
  setRecordLinks: (body: RecordLinks) => unwrap(client.PUT('/api/v1/settings/record-links', { body })),
  /** Admins only: every rule, oldest first, each with its latest deliveries. */
  listAlertRules: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/alerts/rules', { signal })),
  getAlertRule: (id: number, signal?: AbortSignal) =>
    unwrap(client.GET('/api/v1/alerts/rules/{id}', { params: { path: { id } }, signal })),
  /** The new rule and its signing secret; a 422 ApiError names the fields it refuses. */
  createAlertRule: (body: AlertRuleInput) => unwrap(client.POST('/api/v1/alerts/rules', { body })),
  /** Replaces the rule; a webhook without `headers` keeps the headers it has. */
  replaceAlertRule: (id: number, body: AlertRuleInput) =>
    unwrap(client.PUT('/api/v1/alerts/rules/{id}', { params: { path: { id } }, body })),
  deleteAlertRule: (id: number) => unwrap(client.DELETE('/api/v1/alerts/rules/{id}', { params: { path: { id } } })),
  /** A new signing secret, shown only in this answer. */
  rotateAlertRuleSecret: (id: number) => unwrap(client.POST('/api/v1/alerts/rules/{id}/secret', { params: { path: { id } } })),
  /** A page of the rule's deliveries, newest first. */
  alertDeliveries: (id: number, query: DeliveryQuery, signal?: AbortSignal) =>
    unwrap(client.GET('/api/v1/alerts/rules/{id}/deliveries', { params: { path: { id }, query }, signal })),
  /** Sends a delivery again with the same `webhook-id`; a 409 ApiError while it is being sent. */
  redeliverAlert: (id: number) => unwrap(client.POST('/api/v1/alerts/deliveries/{id}/redeliver', { params: { path: { id } } })),
  listArchives: (signal?: AbortSignal) => unwrap(client.GET('/api/v1/archives', { signal })),
  /** The archive file (it needs the bearer header, so it cannot be a plain link). */
  downloadArchive: async (archive: Archive) => {
    const { data, response } = await send(
      client.GET('/api/v1/archives/{id}', { params: { path: { id: archive.id } }, parseAs: 'blob' }),
    );
    return attachment(data, response, archive.file_name);
  },
};

export { ApiError, toApiError } from './errors';
export { configureAuth } from './client';
