/** DI tokens, in one place so that tests can substitute any of them by name. */
export const EXEC_CONFIG = Symbol('EXEC_CONFIG');
export const CONTAINER_RUNTIME = Symbol('CONTAINER_RUNTIME');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
export const CONTAINER_CONTROL = Symbol('CONTAINER_CONTROL');
export const DOCKER_CLIENT = Symbol('DOCKER_CLIENT');
