/**
 * The IP address filter's rules, checked as the user types so a value the server would refuse is
 * never sent. Accepted: an IPv4 address; its first one to three whole octets, with or without a
 * trailing dot ("86.52" is 86.52.0.0/16); an IPv4 range a.b.c.d/0–32; an IPv6 address; an IPv6
 * range /0–128.
 */

const INVALID = 'Enter an IP address, the first 1–3 parts of an IPv4 address, or a range such as 10.0.0.0/8.';

/** One decimal octet: 0–255 without leading zeros. */
const OCTET = /^(0|[1-9]\d{0,2})$/;

function isOctet(part: string): boolean {
  return OCTET.test(part) && Number(part) <= 255;
}

function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every(isOctet);
}

/** 1–3 whole octets, optionally followed by a dot: "86", "86.52.", "86.52.1". */
function isIpv4Prefix(text: string): boolean {
  const parts = (text.endsWith('.') ? text.slice(0, -1) : text).split('.');
  return parts.length >= 1 && parts.length <= 3 && parts.every(isOctet);
}

function isIpv6(text: string): boolean {
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return false;
  // The URL parser implements the full IPv6 grammar (`::` once, embedded IPv4, eight groups).
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** The prefix length after `/`, or null when it is not a plain number. */
function prefixLength(text: string): number | null {
  return /^\d{1,3}$/.test(text) ? Number(text) : null;
}

/** Why `raw` is not a usable IP filter, or null when it is (an empty value means no filter). */
export function ipFilterProblem(raw: string | null): string | null {
  const text = raw?.trim() ?? '';
  if (!text) return null;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const address = text.slice(0, slash);
    const bits = prefixLength(text.slice(slash + 1));
    if (isIpv4(address)) return bits !== null && bits <= 32 ? null : 'An IPv4 range ends in /0 to /32.';
    if (isIpv6(address)) return bits !== null && bits <= 128 ? null : 'An IPv6 range ends in /0 to /128.';
    return INVALID;
  }
  if (isIpv4(text) || isIpv4Prefix(text) || isIpv6(text)) return null;
  return INVALID;
}
