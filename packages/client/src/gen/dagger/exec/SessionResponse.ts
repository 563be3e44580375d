// Original file: proto/exec.proto

import type { Ready as _dagger_exec_Ready, Ready__Output as _dagger_exec_Ready__Output } from '../../dagger/exec/Ready';
import type { OutputChunk as _dagger_exec_OutputChunk, OutputChunk__Output as _dagger_exec_OutputChunk__Output } from '../../dagger/exec/OutputChunk';

export interface SessionResponse {
  'stdout'?: (Buffer | Uint8Array | string);
  'stderr'?: (Buffer | Uint8Array | string);
  'exit'?: (number);
  'ready'?: (_dagger_exec_Ready | null);
  'output_chunk'?: (_dagger_exec_OutputChunk | null);
  'msg'?: "stdout"|"stderr"|"exit"|"ready"|"output_chunk";
}

export interface SessionResponse__Output {
  'stdout'?: (Buffer);
  'stderr'?: (Buffer);
  'exit'?: (number);
  'ready'?: (_dagger_exec_Ready__Output);
  'output_chunk'?: (_dagger_exec_OutputChunk__Output);
  'msg'?: "stdout"|"stderr"|"exit"|"ready"|"output_chunk";
}
