import { ExecError } from '../../common/errors';
import { requiredId } from '../../common/request-ids';
import type { ContainerControl, ContainerState } from '../../executor';

/**
 * What a container lookup needs of the sessions (bound to the SessionManager, RETAINED_CONTAINERS): the
 * full id of the container a retained session ran in, by a unique prefix of it (a prefix two of them
 * share is INVALID_ARGUMENT); undefined when none did.
 */
export interface RetainedContainers {
  containerByPrefix(prefix: string): string | undefined;
}

/** The container_id of a request: a valid id (request-ids.ts), or a unique prefix of one; never empty. */
export function requireContainerId(value: string | undefined): string {
  return requiredId('container_id', value, 'the id (or a unique prefix) of a managed container');
}

/**
 * Docker's state of the container `id` names. A prefix matching more than one container this service
 * knows (in Docker, or of retained sessions) is INVALID_ARGUMENT, never answered for one of them.
 */
export async function inspectUnambiguous(control: ContainerControl, sessions: RetainedContainers, id: string): Promise<ContainerState> {
  const retained = sessions.containerByPrefix(id);
  const state = await control.inspect(id);
  if (retained && state.id !== retained && state.id.startsWith(id)) {
    throw new ExecError(
      'invalid',
      `container id prefix ${id} is ambiguous: it matches ${state.id.slice(0, 12)} and ${retained.slice(0, 12)}; give more of the id`,
      { reason: 'ID_AMBIGUOUS', resource: { type: 'container', name: id } },
    );
  }
  return state;
}

export function notManaged(id: string): ExecError {
  return new ExecError(
    'permission',
    `container ${id} is not managed by this exec-stream instance (labels exec-stream.managed=true and exec-stream.replica=<EXEC_REPLICA_ID>)`,
    { reason: 'CONTAINER_NOT_MANAGED', resource: { type: 'container', name: id } },
  );
}
