// Where a launcher's children run: in a process group of their own, so a terminal's Ctrl-C
// (sent to the foreground group) reaches only the launcher, which stops them in order; and in
// the launcher's session, because with the kernel's autogroups on a session is a task group,
// and SCHED_IDLE yields only within one (idle-group.ts). Node's spawn offers a new group only
// with a new session (`detached`), so the command goes through perl (Debian's perl-base is
// essential), which calls setpgid and execs it: same pid, same session.
import { existsSync } from 'node:fs';

const PERL = '/usr/bin/perl';
/** `exec {file} list` never goes through a shell, whatever the arguments hold */
const OWN_GROUP = 'setpgrp(0, 0) or die "setpgrp: $!\\n"; exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n"';

/**
 * The prefix that starts a command in a process group of its own within this session; undefined
 * where perl is missing (start it `detached` then: a session of its own).
 */
export function ownGroupPrefix(perl: string = PERL): string[] | undefined {
  return existsSync(perl) ? [perl, '-e', OWN_GROUP, '--'] : undefined;
}

