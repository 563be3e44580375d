// Original file: proto/exec.proto


export interface ContainerSignalRequest {
  'container_id'?: (string);
  'signal'?: (string);
  /**
   * exec-stream: signal this exec's process (an exec session's Ready.exec_id) instead of the container's
   * main process. See docs/LIFECYCLE.md for how (Docker has no exec-kill API).
   */
  'exec_id'?: (string);
}

export interface ContainerSignalRequest__Output {
  'container_id'?: (string);
  'signal'?: (string);
  /**
   * exec-stream: signal this exec's process (an exec session's Ready.exec_id) instead of the container's
   * main process. See docs/LIFECYCLE.md for how (Docker has no exec-kill API).
   */
  'exec_id'?: (string);
}
