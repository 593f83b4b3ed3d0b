/** berth: the command-line client. */
import { main } from '../cli/main.js';

// `berth ps | head`: a reader that goes away ends us quietly, as it ends docker
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Exit as soon as the command is done: a command awaits all its work before main resolves, and
// stdout and stderr are synchronous on Linux (files, pipes and TTYs), so nothing is lost. Left to
// drain, Node would also free V8's heap page by page first (~5 ms of every run).
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`berth: ${err.message}\n`);
    process.exit(1);
  },
);
