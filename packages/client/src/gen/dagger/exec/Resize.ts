// Original file: proto/exec.proto


export interface Resize {
  'Width'?: (number);
  'Height'?: (number);
}

export interface Resize__Output {
  'Width'?: (number);
  'Height'?: (number);
}
