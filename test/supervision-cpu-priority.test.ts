// How processing yields the CPU to gateways on one host (supervisors/cpu-priority): the CPU list
// it keeps (pure), a real process lowered and moved off the first CPU, and the idle cgroup that
// makes SCHED_IDLE hold across sessions.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IDLE_GROUP_ENV, IDLE_GROUP_NAME, allButFirstCpu, allowedCpuList, cgroupPathIn, cpuControllerIn, cpusBesideGateways, joinIdleGroup, leaveIdleGroup, lowerToIdle, parseCpuList } from '../supervisors/index.ts';

const allowed = (pid: string): string => allowedCpuList(pid)!;
const expand = (list: string): number[] => parseCpuList(list)!;

describe('supervisors/cpu-priority: processing beside gateways keeps off the first CPU', () => {
  it('takes every CPU of the list but the first, in the kernel\'s list form', () => {
    assert.equal(allButFirstCpu('0-1'), '1');
    assert.equal(allButFirstCpu('0-3,8-9'), '1,2,3,8,9');
    assert.equal(allButFirstCpu('4-7'), '5,6,7', 'a cpuset that does not start at 0: its own first CPU is left');
    assert.equal(allButFirstCpu('2,0'), '2', 'the lowest CPU is the first, whatever the order');
    assert.equal(allButFirstCpu('0'), undefined, 'one CPU: nothing to leave free');
    assert.equal(allButFirstCpu('0-x'), undefined, 'not the kernel\'s form: the CPUs are left alone');
  });

  for (const offFirstCpu of [true, false]) {
    it(`moves a running process, every thread of it, to SCHED_IDLE and nice 19${offFirstCpu ? ', off the first CPU' : ', on its CPUs as they were'}`, async () => {
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
      try {
        await new Promise((r) => setTimeout(r, 300)); // its libuv and V8 threads exist by now
        lowerToIdle(child.pid!, { offFirstCpu });
        const mine = expand(allowed('self'));
        const want = offFirstCpu && cpusBesideGateways() !== undefined ? mine.slice(1) : mine;
        for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
          assert.deepEqual(expand(allowed(`${child.pid}/task/${tid}`)), want, `thread ${tid}: its CPUs`);
          const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          assert.equal(Number(stat[16]), 19, `thread ${tid}: nice`);
          assert.equal(Number(stat[38]), 5, `thread ${tid}: SCHED_IDLE`);
        }
      } finally {
        child.kill('SIGKILL');
      }
    });
  }
});

describe('supervisors/cpu-priority: the idle cgroup (SCHED_IDLE across sessions)', () => {
  const HYBRID = [ // this kind of host: the cpu controller on a v1 hierarchy, a unified tree beside it
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');

  it('finds the CPU controller: a v1 hierarchy with cpu before the unified tree, else the unified tree, else none', () => {
    assert.deepEqual(cpuControllerIn(HYBRID), { version: 1, mount: '/sys/fs/cgroup/cpu' });
    assert.deepEqual(cpuControllerIn('25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate'), { version: 2, mount: '/sys/fs/cgroup' });
    assert.deepEqual(cpuControllerIn('32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct'), { version: 1, mount: '/sys/fs/cgroup/cpu,cpuacct' });
    assert.deepEqual(cpuControllerIn('32 31 0:29 / /mnt/my\\040cgroups rw - cgroup cgroup rw,cpu'), { version: 1, mount: '/mnt/my cgroups' }, 'mountinfo escapes spaces');
    assert.equal(cpuControllerIn('31 23 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\nnot a line'), undefined);
  });

  it('reads a process\'s cgroup in that controller\'s tree', () => {
    const cg = '4:memory:/process_api/x\n2:cpuacct:/\n1:cpu,cpuacct:/user.slice/a\n0::/session-3.scope';
    assert.equal(cgroupPathIn(cg, { version: 1, mount: '/sys/fs/cgroup/cpu' }), '/user.slice/a', 'the line naming cpu, not cpuacct alone');
    assert.equal(cgroupPathIn(cg, { version: 2, mount: '/sys/fs/cgroup' }), '/session-3.scope');
    assert.equal(cgroupPathIn('4:memory:/x', { version: 1, mount: '/sys/fs/cgroup/cpu' }), undefined);
  });

  it('leaves the cgroups alone when VIGIL_CPU_IDLE_GROUP is off', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const was = process.env[IDLE_GROUP_ENV];
    process.env[IDLE_GROUP_ENV] = 'off';
    try {
      await new Promise((r) => setTimeout(r, 100));
      const before = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
      assert.deepEqual(joinIdleGroup(child.pid!), { kind: 'unavailable', reason: 'turned off (VIGIL_CPU_IDLE_GROUP=off)' });
      assert.equal(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'), before);
    } finally {
      if (was === undefined) delete process.env[IDLE_GROUP_ENV];
      else process.env[IDLE_GROUP_ENV] = was;
      child.kill('SIGKILL');
    }
  });

  it('moves a running process, every thread of it, into a cgroup whose cpu.idle is 1 and out again, or says why it cannot and moves nothing', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore', detached: true });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const controller = cpuControllerIn(readFileSync('/proc/self/mountinfo', 'utf8'));
      const group = (pid: string): string | undefined => controller && cgroupPathIn(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), controller);
      const before = group(String(child.pid));
      const placed = joinIdleGroup(child.pid!);
      if (process.getuid?.() === 0 && controller) {
        assert.equal(placed.kind, 'cgroup', JSON.stringify(placed));
        if (placed.kind !== 'cgroup') return;
        assert.equal(readFileSync(join(placed.path, 'cpu.idle'), 'utf8').trim(), '1');
        const want = join(group('self')!, IDLE_GROUP_NAME);
        for (const tid of readdirSync(`/proc/${child.pid}/task`)) assert.equal(group(`${child.pid}/task/${tid}`), want, `thread ${tid}`);
        // and out again, into this process's own cgroup (a starved refusal process raised)
        assert.equal(leaveIdleGroup(child.pid!), true);
        assert.equal(group(String(child.pid)), group('self'));
      } else {
        assert.equal(placed.kind, 'unavailable', JSON.stringify(placed));
        if (placed.kind === 'unavailable') assert.ok(placed.reason.length > 0);
        assert.equal(group(String(child.pid)), before, 'left where it was');
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});
