import { ExecError } from './errors';
import { LIMITS } from './limits';

/**
 * A container, exec or session id (or a unique prefix of one) or a container name: Docker's name rule
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, so never `.`, `..`, `/`, `%`, spaces or anything else that would change
 * the path of the Docker request it goes into.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

// Docker's reference grammar (github.com/distribution/reference, regexp.go):
// [domain "/"] path-component *("/" path-component) [":" tag] ["@" digest].
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
/** Docker's limit on the name part of a reference. */
const NAME_MAX = 255;

export const IMAGE_REFERENCE_FORM = 'an image reference [registry/]name[:tag][@digest] (lowercase name components, no ".." or "/" at either end)';

/** The most characters of a client's value a status message shows (docs/PROTOCOL.md, "Errors"). */
export const QUOTED_MAX_CHARS = 32;

/** A client's value as quoted in a message: JSON-escaped, at most 32 characters, its size said when cut. */
export function quoted(value: string): string {
  const shown = JSON.stringify(value.slice(0, QUOTED_MAX_CHARS));
  return value.length > QUOTED_MAX_CHARS ? `${shown.slice(0, -1)}…" (${Buffer.byteLength(value)} bytes)` : shown;
}

const ID_CHAR = /[A-Za-z0-9_.-]/;

/**
 * `message` with every longer run of one of the client's `values` (as sent, or JSON-escaped) replaced by
 * quoted(value): for messages made by code that did not quote (Docker's own words echo ids, paths, images
 * and users). A run is at least QUOTED_MAX_CHARS + 1 characters of the value from its start, so a value
 * cut short by the message's own bound is caught too.
 */
export function quoteCallerValues(message: string, values: Iterable<string>): string {
  let out = message;
  const longest = [...new Set(values)].filter((v) => v.length > QUOTED_MAX_CHARS).sort((a, b) => b.length - a.length);
  for (const value of longest) {
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1)])) {
      const head = form.slice(0, QUOTED_MAX_CHARS + 1);
      for (let found = out.indexOf(head); found >= 0; found = out.indexOf(head, found + 1)) {
        let end = found + head.length;
        while (end < out.length && end - found < form.length && out[end] === form[end - found]) end++;
        // A value inside a longer id (a prefix the client gave, Docker's full id in its words) quotes that whole id.
        const matched = end;
        let start = found;
        while (start > 0 && ID_CHAR.test(out[start - 1]) && ID_CHAR.test(out[start])) start--;
        while (end < out.length && ID_CHAR.test(out[end]) && ID_CHAR.test(out[end - 1])) end++;
        const q = quoted(start === found && end === matched ? value : out.slice(start, end));
        out = out.slice(0, start) + q + out.slice(end);
        found = start + q.length - 1;
      }
    }
  }
  return out;
}

/** The strings a decoded request carries (fields, map keys and values, list items), longer than QUOTED_MAX_CHARS. */
export function longStringsOf(message: unknown, into: string[] = []): string[] {
  if (typeof message === 'string') {
    if (message.length > QUOTED_MAX_CHARS) into.push(message);
  } else if (Array.isArray(message)) {
    for (const item of message) longStringsOf(item, into);
  } else if (typeof message === 'object' && message !== null && isPlain(message)) {
    for (const [k, v] of Object.entries(message)) {
      longStringsOf(k, into);
      longStringsOf(v, into);
    }
  }
  return into;
}

/** True when `value` is a reference in Docker's grammar, within LIMITS.imageBytes. */
export function isImageReference(value: string): boolean {
  if (value.length > LIMITS.imageBytes) return false; // before the regex: its cost stays bounded
  const m = REFERENCE.exec(value);
  return !!m && m[1].length <= NAME_MAX;
}

/**
 * An id field of a request (container_id, exec_id, session_id): trimmed, '' when absent; anything
 * else that is not a valid id is INVALID_ARGUMENT naming the field, before Docker is asked anything.
 */
export function optionalId(field: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  const invalid = (message: string) => new ExecError('invalid', message, { reason: 'FIELD_INVALID', field });
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  const id = value.trim();
  if (!id) return '';
  if (id.length > LIMITS.idBytes) throw invalid(`${field} is ${Buffer.byteLength(id)} bytes: ids are at most ${LIMITS.idBytes}`);
  if (!ID_PATTERN.test(id)) throw invalid(`${field} ${quoted(id)} is not an id: letters, digits, _ . - only, starting with a letter or digit`);
  return id;
}

/** As optionalId, and empty is INVALID_ARGUMENT too. */
export function requiredId(field: string, value: unknown, what = 'the id (or a unique prefix)'): string {
  const id = optionalId(field, value);
  if (!id) throw new ExecError('invalid', `${field} is empty: give ${what}`, { reason: 'FIELD_INVALID', field });
  return id;
}

/** A decoded message or map (not a Buffer, not a class instance). */
function isPlain(o: object): boolean {
  const proto: unknown = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}
