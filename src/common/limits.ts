/**
 * Limits on what a request may carry. Documented in docs/PROTOCOL.md; anything over them is
 * INVALID_ARGUMENT before Docker is asked anything.
 */
export const LIMITS = {
  commandArgs: 1024,
  argBytes: 64 * 1024,
  commandBytes: 256 * 1024,
  envEntries: 1024,
  envKeyBytes: 256,
  envValueBytes: 64 * 1024,
  envBytes: 256 * 1024,
  workingDirBytes: 4096,
  /** One component of working_dir (NAME_MAX of Linux file systems). */
  pathComponentBytes: 255,
  imageBytes: 512,
  /** Every id of every RPC (container, exec, session, client) and a signal name. */
  idBytes: 128,
} as const;
