// How processing yields the CPU to gateways on one host (supervisors/cpu-priority): the CPU list
// it keeps (pure), and a real process lowered and moved off the first CPU.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { allButFirstCpu, cpusBesideGateways, lowerToIdle, parseCpuList } from '../supervisors/index.ts';

const allowed = (pid: string): string => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
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
