import { plainToInstance, Transform } from 'class-transformer';
import { IsInt, IsNumber, IsObject, IsOptional, IsString, ValidateNested, validateSync, type ValidationError } from 'class-validator';

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
  // class-transformer's @Type would need reflect-metadata in every process that loads this file.
  @Transform(({ value }: { value: unknown }) => (value && typeof value === 'object' ? plainToInstance(SessionExitError, value) : value))
  error?: SessionExitError;

  @IsNumber({ allowNaN: false, allowInfinity: false })
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

  @IsNumber({ allowNaN: false, allowInfinity: false })
  startedAt!: number;
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
