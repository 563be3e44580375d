import { plainToInstance, Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  validateSync,
  type ValidationOptions,
} from 'class-validator';
import { ExecError } from '../../../common/errors';
import { nameMap } from '../../../common/name-map';
import { LIMITS } from '../../../common/limits';
import { ID_PATTERN as ID, IMAGE_REFERENCE_FORM, isImageReference } from '../../../common/request-ids';
import { START_REQUEST_ID_MAX_BYTES } from '../../session';
import { checkFieldsForMode, labelProblems, MAX_USER_ID, toCount, USER_PATTERN } from './start-fields';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function CommandWithinLimits(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'commandWithinLimits',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) &&
          value.every((a) => typeof a === 'string' && bytes(a) <= LIMITS.argBytes && !a.includes('\0')) &&
          value.reduce((n: number, a: string) => n + bytes(a), 0) <= LIMITS.commandBytes &&
          (value.length === 0 || value[0] !== ''),
        defaultMessage: () =>
          `command: program name must not be empty, no NUL bytes, each argument at most ${LIMITS.argBytes} bytes, ` +
          `${LIMITS.commandBytes} bytes in all, at most ${LIMITS.commandArgs} arguments`,
      },
    });
}

function EnvWithinLimits(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'envWithinLimits',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value as Record<string, unknown>);
          if (entries.length > LIMITS.envEntries) return false;
          let total = 0;
          for (const [k, v] of entries) {
            if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) || bytes(k) > LIMITS.envKeyBytes) return false;
            if (typeof v !== 'string' || bytes(v) > LIMITS.envValueBytes || v.includes('\0')) return false;
            total += bytes(k) + bytes(v) + 2;
          }
          return total <= LIMITS.envBytes;
        },
        defaultMessage: () =>
          `env: names must match [A-Za-z_][A-Za-z0-9_.-]* (at most ${LIMITS.envKeyBytes} bytes), values at most ` +
          `${LIMITS.envValueBytes} bytes without NUL, at most ${LIMITS.envEntries} entries and ${LIMITS.envBytes} bytes in all`,
      },
    });
}

/** A property check of this DTO: `validate` on the value, `message` when it fails. */
function Check(name: string, validate: (value: unknown) => boolean, message: string) {
  return (object: object, propertyName: string) =>
    registerDecorator({ name, target: object.constructor, propertyName, validator: { validate, defaultMessage: () => message } });
}

/** The Start message as validated: every limit of docs/PROTOCOL.md, before Docker is asked anything. */
export class StartDto {
  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.idBytes)
  @Matches(ID, { message: 'container_id: letters, digits, _ . - only' })
  container_id?: string;

  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.idBytes)
  @Matches(ID, { message: 'exec_id: letters, digits, _ . - only' })
  exec_id?: string;

  @IsArray()
  @ArrayMaxSize(LIMITS.commandArgs)
  @CommandWithinLimits()
  command: string[] = [];

  @EnvWithinLimits()
  env: Record<string, string> = nameMap({});

  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.workingDirBytes)
  @Matches(/^\/[^\0]*$/, { message: 'working_dir must be an absolute path without NUL bytes' })
  @Check(
    'pathComponents',
    (v) => typeof v === 'string' && v.split('/').every((c) => bytes(c) <= LIMITS.pathComponentBytes),
    `working_dir: each path component must be at most ${LIMITS.pathComponentBytes} bytes (the file system's name limit)`,
  )
  working_dir?: string;

  @IsBoolean()
  tty = false;

  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.idBytes)
  @Matches(ID, { message: 'session_id: letters, digits, _ . - only' })
  session_id?: string;

  @Transform(({ value }) => (value === undefined || value === null || value === '' ? 0 : Number(value)))
  @IsInt()
  @Min(0)
  replay_from_sequence = 0;

  @IsOptional()
  @IsString()
  @Check('clientIdBytes', (v) => typeof v === 'string' && bytes(v) <= LIMITS.idBytes, `client_id must be at most ${LIMITS.idBytes} bytes`)
  client_id?: string;

  @IsOptional()
  @Check('imageReference', (v) => typeof v === 'string' && isImageReference(v), `image must be ${IMAGE_REFERENCE_FORM}, at most ${LIMITS.imageBytes} bytes`)
  image?: string;

  @IsBoolean()
  sequenced = false;

  @IsBoolean()
  open_stdin = false;

  // Limits, user, labels and timeouts (docs/PROTOCOL.md); maximums are checked against the settings by the session manager.
  @Transform(toCount)
  @IsInt({ message: 'memory_bytes must be a whole number of bytes' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'memory_bytes is too large' })
  memory_bytes = 0;

  @Check('cpus', (v) => v === 0 || (typeof v === 'number' && Number.isFinite(v) && v >= 0.01), 'cpus must be 0 (the default) or at least 0.01')
  cpus = 0;

  @Transform(toCount)
  @IsInt({ message: 'pids_limit must be a whole number' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'pids_limit is too large' })
  pids_limit = 0;

  @IsOptional()
  @Matches(USER_PATTERN, { message: 'user must be a name or uid, optionally :group or :gid (e.g. 1000:1000), at most 64 characters' })
  @Check(
    'userIdRange',
    (v) => typeof v !== 'string' || v.split(':').every((part) => !/^\d+$/.test(part) || Number(part) <= MAX_USER_ID),
    `user: a uid or gid is at most ${MAX_USER_ID} (Docker's range)`,
  )
  user?: string;

  @Check('labels', (v) => labelProblems(v).length === 0, 'labels: printable keys (at most 128 bytes, not exec-stream.*) and values (at most 1 KiB), at most 64')
  labels: Record<string, string> = nameMap({});

  @Transform(toCount)
  @IsInt({ message: 'timeout_ms must be a whole number of ms' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'timeout_ms is too large' })
  timeout_ms = 0;

  @Transform(toCount)
  @IsInt({ message: 'idle_timeout_ms must be a whole number of ms' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'idle_timeout_ms is too large' })
  idle_timeout_ms = 0;

  @Transform(toCount)
  @IsInt({ message: 'kill_grace_ms must be a whole number of ms' })
  @Max(600_000, { message: 'kill_grace_ms must be at most 600000 (10 minutes)' })
  kill_grace_ms = 0;

  @IsOptional()
  @IsBoolean()
  read_only_rootfs?: boolean;

  @Transform(toCount)
  @IsInt({ message: 'output_limit_bytes must be a whole number of bytes' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'output_limit_bytes is too large' })
  output_limit_bytes = 0;

  // A retried Start with the same request_id attaches to the session the first one created (run and exec).
  @IsOptional()
  @Check(
    'requestId',
    (v) => typeof v === 'string' && bytes(v) <= START_REQUEST_ID_MAX_BYTES && !/\p{Cc}/u.test(v),
    `request_id must be at most ${START_REQUEST_ID_MAX_BYTES} bytes, without control characters`,
  )
  request_id?: string;
}

export type StartMode = 'run' | 'exec' | 'attach';

/** Validates a decoded Start and says which of the three things it asks for. */
export function parseStart(raw: unknown): { dto: StartDto; mode: StartMode } {
  const { env, labels, ...plain } = Object.fromEntries(
    Object.entries((raw ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  );
  const dto = plainToInstance(StartDto, plain);
  // Maps of caller-chosen names bypass class-transformer, which skips or trips on names of Object's members.
  if (env !== undefined) dto.env = nameMap(env);
  if (labels !== undefined) dto.labels = nameMap(labels);
  const violations = validateSync(dto, { forbidUnknownValues: false }).flatMap((e) =>
    (e.property === 'labels' && e.constraints?.labels ? labelProblems(dto.labels) : Object.values(e.constraints ?? {})).map((description) => ({
      field: `start.${e.property}`,
      description,
    })),
  );
  if (violations.length) {
    throw new ExecError('invalid', `invalid Start: ${violations.map((v) => v.description).join('; ')}`, { reason: 'FIELD_INVALID', violations });
  }
  if (dto.image) {
    if (dto.container_id || dto.session_id || dto.exec_id) {
      throw new ExecError('invalid', 'Start.image runs a new container: leave container_id, exec_id and session_id empty', {
        reason: 'FIELD_INVALID',
        field: 'start.image',
      });
    }
    checkFieldsForMode(dto as unknown as Record<string, unknown>, 'run');
    return { dto, mode: 'run' };
  }
  if (dto.container_id && dto.command.length) {
    if (dto.session_id || dto.exec_id) {
      throw new ExecError('invalid', 'an exec (container_id + command) takes no session_id or exec_id', {
        reason: 'FIELD_INVALID',
        field: 'start.container_id',
      });
    }
    checkFieldsForMode(dto as unknown as Record<string, unknown>, 'exec');
    return { dto, mode: 'exec' };
  }
  if (dto.session_id || dto.container_id) {
    checkFieldsForMode(dto as unknown as Record<string, unknown>, 'attach');
    return { dto, mode: 'attach' };
  }
  throw new ExecError('invalid', 'Start needs image (+ command) to run, container_id + command to exec, or session_id / container_id to attach', {
    reason: 'FIELD_INVALID',
    field: 'start',
  });
}
