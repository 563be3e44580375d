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

/**
 * A cue given by an exec into the container, where the exec is itself part of what a test checks (it
 * must exit 0). A script that ends the moment a file appears ends its container, and the kernel then
 * SIGKILLs every process still in it: the exec that made the file, still ending, would exit 137 (seen
 * under load). So GO, the exec's command, writes the pid of the exec's outermost process into /tmp/go
 * (the shim's in a container the service records; its own under a plain `docker exec`, whose parent is
 * outside the container: PPID 0), and GO_DONE, the script's shell condition, holds once /tmp/go
 * exists and that process has ended. A script tests `[ -e /tmp/go ]` first, so it forks nothing per
 * look until the cue is there. Both run as the same user (`kill -0` on another user's process fails
 * as if it had ended), and GO runs as the exec's command itself, not inside another shell.
 */
export const GO = ['sh', '-c', 'p=$PPID; [ "$p" = 0 ] && p=$$; echo $p >/tmp/go.new && mv /tmp/go.new /tmp/go'];
export const GO_DONE = '{ [ -e /tmp/go ] && ! kill -0 "$(cat /tmp/go)" 2>/dev/null; }';
