/** DI tokens, in one place so that tests can substitute any of them by name. */
export const EXEC_CONFIG = Symbol('EXEC_CONFIG');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
/** The executor's ports (interfaces in src/executor/), bound by a backend's module (src/executor/docker/). */
export const CONTAINER_RUNTIME = Symbol('CONTAINER_RUNTIME');
export const CONTAINER_CONTROL = Symbol('CONTAINER_CONTROL');
export const CONTAINER_RECOVERY = Symbol('CONTAINER_RECOVERY');
export const CONTAINER_EVENTS = Symbol('CONTAINER_EVENTS');
export const IMAGE_PULLER = Symbol('IMAGE_PULLER');
export const CONTAINER_FILES = Symbol('CONTAINER_FILES');
/** Where a backend reports container transitions: the LifecycleBus. */
export const LIFECYCLE_PUBLISHER = Symbol('LIFECYCLE_PUBLISHER');
/** The instance's metrics (src/metrics/ ExecMetrics), or null when EXEC_METRICS_LISTEN is unset. */
export const EXEC_METRICS = Symbol('EXEC_METRICS');
/** Where a backend reports each request it makes to its engine (the executor's BackendRequestObserver; null = not counted). */
export const BACKEND_REQUEST_OBSERVER = Symbol('BACKEND_REQUEST_OBSERVER');
/** Where sessions record their ends and timeout kills (SessionAuditTrail of src/exec/session/): the AuditTrail. */
export const SESSION_AUDIT = Symbol('SESSION_AUDIT');
/** The containers retained sessions ran in (RetainedContainers of src/exec/container/): the SessionManager. */
export const RETAINED_CONTAINERS = Symbol('RETAINED_CONTAINERS');
/** The Docker backend's one dockerode client (only src/executor/docker/ uses it). */
export const DOCKER_CLIENT = Symbol('DOCKER_CLIENT');
