import { plainToInstance, Transform } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateBy,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';

/** A nested record made an instance of `cls` (as @Type would, which needs reflect-metadata in every process that loads this file). */
const nested = <T>(cls: new () => T) =>
  Transform(({ value }: { value: unknown }) => (value && typeof value === 'object' ? plainToInstance(cls, value) : value));
const FINITE = { allowNaN: false, allowInfinity: false };

/** The error a session ended with, as exit.json keeps it (kind, message, and its reason of the error list). */
class SessionExitError {
  @IsString()
  kind!: string;

  @IsString()
  message!: string;

  @IsOptional()
  @IsString()
  reason?: string;
}

/** exit.json: how a session ended (an exit code, or the error instead) and when; written once, by rename. */
export class SessionExitRecord {
  @IsOptional()
  @IsInt()
  exitCode?: number;

  @IsOptional()
  @ValidateNested()
  @nested(SessionExitError)
  error?: SessionExitError;

  @IsNumber(FINITE)
  finishedAt!: number;

  /** The session's Outcome (src/exec/session/session-outcome.ts), kept as it was sent to clients; its reader checks its fields. */
  @IsOptional()
  @IsObject()
  outcome?: object;
}

/** process.json: which container (and exec) a session's process is, for restart recovery to find it again. */
export class SessionProcessRecord {
  @IsString()
  containerId!: string;

  @IsOptional()
  @IsString()
  execId?: string;

  @IsNumber(FINITE)
  startedAt!: number;
}

/** Start's timeouts as meta.json keeps them, in ms (0 or absent = none; no grace = EXEC_KILL_GRACE_MS). */
class SessionTimeoutsRecord {
  @IsOptional()
  @IsNumber(FINITE)
  @Min(0)
  timeoutMs?: number;

  @IsOptional()
  @IsNumber(FINITE)
  @Min(0)
  idleTimeoutMs?: number;

  @IsOptional()
  @IsNumber(FINITE)
  @Min(0)
  killGraceMs?: number;
}

/** meta.json: what the session is, written when it starts (the folder's name is its id). */
export class SessionMetaRecord {
  @IsOptional()
  @IsInt()
  version?: number;

  @IsOptional()
  @IsString()
  id?: string;

  @IsIn(['run', 'exec'])
  kind!: 'run' | 'exec';

  @IsOptional()
  @IsString()
  image?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  command?: string[];

  @IsOptional()
  @IsBoolean()
  tty?: boolean;

  @IsNumber(FINITE)
  createdAt!: number;

  /** The run's container an exec was started in. */
  @IsOptional()
  @IsString()
  containerId?: string;

  @IsOptional()
  @ValidateBy({
    name: 'isStringMap',
    validator: {
      validate: (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string'),
      defaultMessage: () => 'labels must be an object of strings',
    },
  })
  labels?: Record<string, string>;

  @IsOptional()
  @IsString()
  requestId?: string;

  @IsOptional()
  @IsString()
  requestFingerprint?: string;

  @IsOptional()
  @ValidateNested()
  @nested(SessionTimeoutsRecord)
  timeouts?: SessionTimeoutsRecord;

  @IsOptional()
  @IsInt()
  @Min(0)
  outputLimitBytes?: number;
}

/**
 * A record read back from a session's folder: JSON of the shape `cls` declares, or an Error saying what
 * is wrong with it (the caller treats the record as damaged), never a cast of whatever the file holds.
 */
export function parseRecord<T extends object>(cls: new () => T, text: string): T {
  const data: unknown = JSON.parse(text);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not a JSON object');
  const record = plainToInstance(cls, data);
  const problems = validateSync(record).flatMap((e) => messagesOf(e));
  if (problems.length) throw new Error(problems.join('; '));
  return data as T; // as written: the fields it has, each checked (the instance would add the unset ones as undefined)
}

function messagesOf(e: ValidationError, path = ''): string[] {
  const at = path ? `${path}.${e.property}` : e.property;
  return [...Object.values(e.constraints ?? {}).map((m) => m.replace(e.property, at)), ...(e.children ?? []).flatMap((c) => messagesOf(c, at))];
}
