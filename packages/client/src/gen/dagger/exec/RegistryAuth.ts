// Original file: proto/exec.proto


/**
 * exec-stream: credentials for one registry, as Docker's X-Registry-Auth.
 */
export interface RegistryAuth {
  'username'?: (string);
  'password'?: (string);
  'server_address'?: (string);
  'identity_token'?: (string);
}

/**
 * exec-stream: credentials for one registry, as Docker's X-Registry-Auth.
 */
export interface RegistryAuth__Output {
  'username'?: (string);
  'password'?: (string);
  'server_address'?: (string);
  'identity_token'?: (string);
}
