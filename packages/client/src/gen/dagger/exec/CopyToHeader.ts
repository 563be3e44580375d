// Original file: proto/exec.proto


export interface CopyToHeader {
  'container_id'?: (string);
  /**
   * An existing directory in the container; the tar is unpacked into it.
   */
  'path'?: (string);
}

export interface CopyToHeader__Output {
  'container_id'?: (string);
  /**
   * An existing directory in the container; the tar is unpacked into it.
   */
  'path'?: (string);
}
