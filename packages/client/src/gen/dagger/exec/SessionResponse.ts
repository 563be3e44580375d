// Original file: proto/exec.proto

import type { Ready as _dagger_exec_Ready, Ready__Output as _dagger_exec_Ready__Output } from '../../dagger/exec/Ready';
import type { OutputChunk as _dagger_exec_OutputChunk, OutputChunk__Output as _dagger_exec_OutputChunk__Output } from '../../dagger/exec/OutputChunk';
import type { Outcome as _dagger_exec_Outcome, Outcome__Output as _dagger_exec_Outcome__Output } from '../../dagger/exec/Outcome';
import type { PullProgress as _dagger_exec_PullProgress, PullProgress__Output as _dagger_exec_PullProgress__Output } from '../../dagger/exec/PullProgress';

export interface SessionResponse {
  'stdout'?: (Buffer | Uint8Array | string);
  'stderr'?: (Buffer | Uint8Array | string);
  'exit'?: (number);
  'ready'?: (_dagger_exec_Ready | null);
  'output_chunk'?: (_dagger_exec_OutputChunk | null);
  /**
   * exec-stream: why the process ended, sent to every client right before `exit` (and kept with the
   * session for late clients and ListSessions).
   */
  'outcome'?: (_dagger_exec_Outcome | null);
  /**
   * exec-stream: progress of an image pull (Start.pull), sent before Ready.
   */
  'pull_progress'?: (_dagger_exec_PullProgress | null);
  'msg'?: "stdout"|"stderr"|"exit"|"ready"|"output_chunk"|"outcome"|"pull_progress";
}

export interface SessionResponse__Output {
  'stdout'?: (Buffer);
  'stderr'?: (Buffer);
  'exit'?: (number);
  'ready'?: (_dagger_exec_Ready__Output);
  'output_chunk'?: (_dagger_exec_OutputChunk__Output);
  /**
   * exec-stream: why the process ended, sent to every client right before `exit` (and kept with the
   * session for late clients and ListSessions).
   */
  'outcome'?: (_dagger_exec_Outcome__Output);
  /**
   * exec-stream: progress of an image pull (Start.pull), sent before Ready.
   */
  'pull_progress'?: (_dagger_exec_PullProgress__Output);
  'msg'?: "stdout"|"stderr"|"exit"|"ready"|"output_chunk"|"outcome"|"pull_progress";
}
