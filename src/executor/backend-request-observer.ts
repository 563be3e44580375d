/**
 * Where a backend reports each request it makes to its engine (BACKEND_REQUEST_OBSERVER; optional,
 * for metrics only, so it must not throw or block). `operation` is a bounded label with ids replaced
 * ("POST /containers/{id}/start"); `seconds` runs to the answer (a stream: to its headers); `failed`
 * when the engine answered an error status or did not answer (refused, aborted, past its deadline).
 */
export interface BackendRequestObserver {
  backendRequest(operation: string, seconds: number, failed: boolean): void;
}
