/**
 * URL templates of links into the host application: the server's rule for a template (so that
 * the editor says what is wrong as the admin types), and the link a template gives for a record.
 */

/** Most characters of a template, as the server takes them. */
export const MAX_TEMPLATE_CHARS = 500;
/** Most templates a tenant may keep. */
export const MAX_TEMPLATES = 50;
/** Most characters of the host application's name. */
export const MAX_APP_NAME_CHARS = 60;

const RECORD_TYPE = /^[a-z][a-z0-9_]*$/;

/** Why `text` is not a URL template the server takes, in the editor's words; `null` if it is. */
export function templateProblem(text: string): string | null {
  if ([...text].length > MAX_TEMPLATE_CHARS) return `Use at most ${MAX_TEMPLATE_CHARS} characters.`;
  if (/[^!-~]|\\/.test(text)) return 'Use only visible ASCII, without spaces or backslashes: percent-encode the rest.';
  if (!text.startsWith('https://')) return 'Start with https:// — links open over HTTPS only.';
  const rest = text.slice('https://'.length);
  const hostEnd = rest.search(/[/?#]/);
  const host = hostEnd === -1 ? rest : rest.slice(0, hostEnd);
  if (host === '') return 'Name a host after https://.';
  if (host.includes('@')) return 'Remove the user name or password (user:pass@).';
  if (/[{}]/.test(host)) return 'Keep {id} and {type} out of the host name.';
  let ids = 0;
  let types = 0;
  let scan = rest;
  for (;;) {
    const at = scan.search(/[{}]/);
    if (at === -1) break;
    if (scan[at] === '}') return 'Remove the } that closes no placeholder.';
    const after = scan.slice(at + 1);
    const end = after.search(/[{}]/);
    if (end === -1 || after[end] !== '}') return 'Close every {.';
    const name = after.slice(0, end);
    if (name === 'id') ids += 1;
    else if (name === 'type') types += 1;
    else return `Use only {id} and {type}: {${name}} is not replaced.`;
    scan = after.slice(end + 1);
  }
  if (ids === 0) return 'Put {id} where the record’s id goes.';
  if (ids > 1) return 'Use {id} once.';
  if (types > 1) return 'Use {type} at most once.';
  if (!isHttps(text.replace('{id}', '1').replace('{type}', 't'))) return 'Enter a valid https URL.';
  return null;
}

/** Why `name` is not a record type the server takes; `null` if it is. */
export function recordTypeProblem(name: string): string | null {
  if (name === '') return 'Enter a record type, e.g. booking.';
  if (name.length > 64 || !RECORD_TYPE.test(name)) return 'Use lower snake case, e.g. booking or credit_note.';
  return null;
}

/** Why `name` is not a host application name the server takes; `null` if it is. */
export function appNameProblem(name: string): string | null {
  if (name.trim() === '') return 'Enter the application’s name.';
  if ([...name].length > MAX_APP_NAME_CHARS) return `Use at most ${MAX_APP_NAME_CHARS} characters.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/u.test(name)) return 'Remove control characters.';
  return null;
}

/** Every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX`, as the server does. */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Whether `url` parses as an https URL with a host and no credentials. */
function isHttps(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.hostname !== '' && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/**
 * The link `template` gives for the record `id` of type `type`, each put in percent-encoded so no
 * id leaves its place (`../admin?x=1` gives `..%2Fadmin%3Fx%3D1`). `null` when there is no safe
 * link: the template breaks the rules (whatever the server sent), or the id is empty, `.` or `..`
 * (which URL parsers resolve as folders, even encoded).
 */
export function renderLink(template: string, type: string, id: string): string | null {
  if (templateProblem(template) !== null || id === '' || id === '.' || id === '..') return null;
  const url = template.replace('{id}', encodeSegment(id)).replace('{type}', encodeSegment(type));
  return isHttps(url) ? url : null;
}
