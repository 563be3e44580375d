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

/** A client's value as quoted in a message: JSON-escaped, at most 32 characters, its size said when cut. */
export function quoted(value: string): string {
  const shown = JSON.stringify(value.slice(0, 32));
  return value.length > 32 ? `${shown.slice(0, -1)}…" (${Buffer.byteLength(value)} bytes)` : shown;
}

/** True when `value` is an id Docker can be asked about: ID_PATTERN and at most LIMITS.idBytes. */
export function isValidId(value: string): boolean {
  return value.length <= LIMITS.idBytes && ID_PATTERN.test(value);
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
