// Original file: proto/exec.proto


export interface CopyFromRequest {
  'container_id'?: (string);
  /**
   * A file or directory in the container.
   */
  'path'?: (string);
}

export interface CopyFromRequest__Output {
  'container_id'?: (string);
  /**
   * A file or directory in the container.
   */
  'path'?: (string);
}
