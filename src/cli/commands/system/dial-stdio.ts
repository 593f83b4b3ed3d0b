/**
 * `berth system dial-stdio`: relays stdin and stdout to the daemon's API
 * socket, both ways, with half-close. This is what a client on another
 * machine runs over ssh (`ssh host berth system dial-stdio`), as the docker
 * CLI does with `docker system dial-stdio`.
 */
import { Command } from 'commander';
import { EngineClient } from '../../../client/engine-client.js';
import type { CliContext } from '../../context.js';

export function dialStdioCommand(ctx: CliContext): Command {
  return new Command('dial-stdio')
    .description('Proxy the stdio stream to the daemon connection. Should not be invoked manually.')
    .action(async () => {
      const ep = await ctx.endpoint();
      const client = new EngineClient(ep.host, ep.tls ? { tls: ep.tls } : {});
      const conn = await client.dial();
      await new Promise<void>((resolve, reject) => {
        conn.once('error', reject);
        process.stdout.once('error', () => conn.destroy()); // the other end is gone
        process.stdin.pipe(conn); // stdin's EOF half-closes the connection: the daemon still answers
        conn.pipe(process.stdout);
        conn.once('end', () => process.stdout.end(() => resolve()));
      });
      process.stdin.unpipe(conn);
      process.stdin.destroy(); // the daemon closed: stop waiting for more input
      conn.destroy();
    });
}
