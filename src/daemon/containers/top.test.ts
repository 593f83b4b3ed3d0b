import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePs } from './top.js';
import { keyValues, parseNetDev, systemCpuNs } from './stats.js';

test('top keeps the container rows and the command with its spaces', () => {
  const ps = 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 09:37 ?        00:00:01 /sbin/init\nroot        4242    4200  0 10:00 ?        00:00:00 sleep 1000 now\n';
  assert.deepEqual(parsePs(ps, [4242]), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [['root', '4242', '4200', '0', '10:00', '?', '00:00:00', 'sleep 1000 now']],
  });
  assert.throws(() => parsePs('USER COMMAND\nx y\n', [1]), /Couldn't find PID field/);
});

test('stats parsers read cgroup, /proc/stat and net/dev formats', () => {
  assert.deepEqual(keyValues('user 10\nsystem 5\n'), { user: 10, system: 5 });
  assert.equal(systemCpuNs('cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 1 1 1 1\n'), 1150 * 1e7);
  const dev = 'Inter-|   Receive\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n  eth0: 1500 12 0 1 0 0 0 0 900 8 0 0 0 0 0 0\n';
  assert.deepEqual(parseNetDev(dev), { eth0: { rx_bytes: 1500, rx_packets: 12, rx_errors: 0, rx_dropped: 1, tx_bytes: 900, tx_packets: 8, tx_errors: 0, tx_dropped: 0 } });
});
