// Original file: proto/exec.proto


/**
 * exec-stream: the caller of an audited call.
 */
export interface AuditCaller {
  /**
   * The name of the token it presented (a scoped token's name, EXEC_AUTH_TOKEN, or anonymous).
   */
  'token'?: (string);
  /**
   * The subject of its client certificate (mTLS), e.g. "CN=ci-runner,O=example".
   */
  'subject'?: (string);
  /**
   * Its address, as the service saw it (ipv4:127.0.0.1:52044).
   */
  'peer'?: (string);
  /**
   * The replica that forwarded the call here, when one did (x-exec-forwarded-by); `subject` and `peer`
   * are then the caller's as that replica reported them.
   */
  'forwarded_by'?: (string);
  /**
   * The certificate subject and address of the connection that forwarded it, as this replica saw them.
   */
  'forwarder_subject'?: (string);
  'forwarder_peer'?: (string);
}

/**
 * exec-stream: the caller of an audited call.
 */
export interface AuditCaller__Output {
  /**
   * The name of the token it presented (a scoped token's name, EXEC_AUTH_TOKEN, or anonymous).
   */
  'token'?: (string);
  /**
   * The subject of its client certificate (mTLS), e.g. "CN=ci-runner,O=example".
   */
  'subject'?: (string);
  /**
   * Its address, as the service saw it (ipv4:127.0.0.1:52044).
   */
  'peer'?: (string);
  /**
   * The replica that forwarded the call here, when one did (x-exec-forwarded-by); `subject` and `peer`
   * are then the caller's as that replica reported them.
   */
  'forwarded_by'?: (string);
  /**
   * The certificate subject and address of the connection that forwarded it, as this replica saw them.
   */
  'forwarder_subject'?: (string);
  'forwarder_peer'?: (string);
}
