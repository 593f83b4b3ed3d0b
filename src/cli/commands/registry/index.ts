/** `login` and `logout`: credentials in config.json's `auths`, checked by the daemon (`POST /auth`). */
import { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { ExitError, type CliContext } from '../../context.js';
import { authKey, DOCKER_HUB_KEY } from '../../registry-auth.js';

/** `localhost:5000`, `https://r.example/v2/`, '' → the key docker stores credentials under. */
function registryKey(server: string | undefined): string {
  if (!server) return DOCKER_HUB_KEY;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? DOCKER_HUB_KEY : authKey(host);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function loginCommand(ctx: CliContext): Command {
  return new Command('login')
    .description('Authenticate to a registry')
    .argument('[server]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password or Personal Access Token (PAT)')
    .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
    .action(async (server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (o.password && o.passwordStdin) throw new ExitError(1, '--password and --password-stdin are mutually exclusive');
      let password = o.password;
      if (o.passwordStdin) {
        if (!o.username) throw new ExitError(1, 'Must provide --username with --password-stdin');
        password = await readStdin();
      }
      if (o.password) ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      let username = o.username;
      if (!username || password === undefined) {
        if (!process.stdin.isTTY) throw new ExitError(1, 'Error: Cannot perform an interactive login from a non TTY device');
        const rl = createInterface({ input: process.stdin, output: ctx.err });
        username ||= await rl.question('Username: ');
        password ??= await rl.question('Password: ');
        rl.close();
      }
      if (!username || !password) throw new ExitError(1, 'Error: Username and password are required');
      const key = registryKey(server);
      const c = await ctx.client();
      const res = await c.json<{ Status: string; IdentityToken?: string }>('POST', '/auth', { body: { username, password, serveraddress: key } });
      const entry = res.IdentityToken
        ? { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken: res.IdentityToken }
        : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
      const config = await ctx.configFile();
      await config.setAuth(key, entry);
      ctx.print(res.Status || 'Login Succeeded');
    });
}

export function logoutCommand(ctx: CliContext): Command {
  return new Command('logout')
    .description('Log out from a registry')
    .argument('[server]')
    .action(async (server: string | undefined) => {
      const key = registryKey(server);
      const config = await ctx.configFile();
      if (!config.auth(key)) {
        ctx.print(`Not logged in to ${key}`);
        return;
      }
      ctx.print(`Removing login credentials for ${key}`);
      await config.setAuth(key, undefined);
    });
}
