// The mount namespace of a benchmark cluster node, made by the test
// harness's own code (test/support/netns.ts hostMountNamespace, built by
// `npm run build`), so berthd and dockerd run on the same "host" layout as
// in the cluster tests: /sys is a sysfs of the node's network namespace,
// with the cgroup hierarchies bound back.
//
//   node bench/cluster-ns.mjs mountns <file> <netns file> <node dir>
import { hostMountNamespace } from '../dist/test/support/netns.js';

const [cmd, file, netns, own] = process.argv.slice(2);
if (cmd !== 'mountns' || !file || !netns || !own) {
  console.error('usage: cluster-ns.mjs mountns <file> <netns> <own dir>');
  process.exit(2);
}
hostMountNamespace(file, netns, own);
