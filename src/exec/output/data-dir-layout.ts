import { join } from 'node:path';

/** EXEC_DATA_DIR/sessions/<id>: one folder per session the service knows. */
export function sessionsDir(dataDir: string): string {
  return join(dataDir, 'sessions');
}

/**
 * EXEC_DATA_DIR/removing: folders of forgotten sessions, moved here (one rename) the moment they are
 * forgotten and deleted from here in the background; never loaded, and emptied at every start.
 */
export function removingDir(dataDir: string): string {
  return join(dataDir, 'removing');
}
