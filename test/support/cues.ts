import { dockerAsync } from './helpers';

/**
 * Cues a test gives a container's shell script, instead of sleeps that stand in for "long enough".
 * Prefix the script with CUES: it counts the SIGUSR1s it gets, and `gate N` waits until N have come
 * (in `wait`, which a trapped signal ends at once: no polling, no delay). The trap is set before the
 * script's first output, so a cue sent once the test has seen that output cannot kill it (an untrapped
 * SIGUSR1 ends sh): a script must print before its first gate.
 */
export const CUES = "n=0; trap 'n=$((n+1))' USR1; gate() { while [ $n -lt $1 ]; do sleep 1 & wait $!; done; }; ";

/**
 * Sends a container's script its next cue: `docker kill -s USR1`, which the container's init passes on
 * to it. Asynchronous: a service in this process must go on reading its containers' streams meanwhile.
 */
export const cue = (containerId: string): Promise<string> => dockerAsync('kill', '-s', 'USR1', containerId);
