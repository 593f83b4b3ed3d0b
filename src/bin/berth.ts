/** berth: the command-line client. */
import { main } from '../cli/main.js';

// `berth ps | head`: a reader that goes away ends us quietly, as it ends docker
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`berth: ${err.message}\n`);
    process.exitCode = 1;
  },
);
