/**
 * `berth certs create`: a CA, a server and a client certificate for the
 * Engine API over mutual TLS, made with the openssl CLI (plan.ts).
 *
 *   berth certs create --dir ./certs --hosts 127.0.0.1,localhost
 *   berthd -H tcp://0.0.0.0:2376 --tlsverify --tlscacert certs/ca.pem --tlscert certs/server-cert.pem --tlskey certs/server-key.pem
 *   DOCKER_CERT_PATH=./certs DOCKER_TLS_VERIFY=1 DOCKER_HOST=tcp://127.0.0.1:2376 berth ps
 */
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { access, chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidParameter } from '../../../errdefs/index.js';
import { run } from '../../../lib/exec.js';
import type { CliContext } from '../../context.js';
import { planCerts, type CertPlan } from './plan.js';

interface Flags {
  dir: string;
  caDir?: string;
  hosts?: string;
  days: string;
  clientName: string;
  force?: boolean;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

function serial(): string {
  return randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'); // positive, 127 bits
}

async function apply(plan: CertPlan): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'berth-certs-'));
  try {
    const config = join(scratch, 'openssl.cnf');
    await writeFile(config, plan.config);
    for (const step of plan.steps) {
      const args = step.args.map((a) => (a === 'CONFIG' ? config : a.startsWith('TMP/') ? join(scratch, a.slice(4)) : a));
      await run('openssl', args);
    }
    for (const [from, to] of plan.copies) await copyFile(from, to);
    for (const k of plan.keys) await chmod(k, 0o600);
    for (const c of plan.certs) await chmod(c, 0o644);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export function certsCreateCommand(ctx: CliContext): Command {
  return new Command('create')
    .description('Create a CA, a server certificate and a client certificate for the Engine API over TLS')
    .requiredOption('--dir <dir>', 'Directory for server-cert.pem, server-key.pem, cert.pem, key.pem and ca.pem')
    .option('--ca-dir <dir>', 'Directory of the CA (ca.pem, ca-key.pem): used if there, created if not (default: --dir)')
    .option('--hosts <list>', 'Comma-separated DNS names and IP addresses of the daemon (default: localhost, 127.0.0.1, ::1 and this host\'s name)')
    .option('--days <n>', 'Validity in days', '825')
    .option('--client-name <name>', 'Common name of the client certificate', 'client')
    .option('-f, --force', 'Overwrite existing files')
    .action(async (f: Flags) => {
      const dir = resolve(f.dir);
      const caDir = resolve(f.caDir ?? f.dir);
      const hosts = (f.hosts ?? `localhost,127.0.0.1,::1,${hostname()}`).split(',').map((h) => h.trim()).filter(Boolean);
      const days = Number(f.days);
      if (!hosts.length) throw new InvalidParameter('certs.no_hosts', '--hosts needs at least one name or address');
      if (!Number.isInteger(days) || days <= 0) throw new InvalidParameter('certs.invalid_days', `invalid --days: ${f.days}`);
      const makeCa = !(await exists(join(caDir, 'ca.pem')) && await exists(join(caDir, 'ca-key.pem')));
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await mkdir(caDir, { recursive: true, mode: 0o700 });
      const plan = planCerts({ dir, caDir, makeCa, hosts, days, clientName: f.clientName, serials: { ca: serial(), server: serial(), client: serial() } });
      if (!f.force) {
        for (const out of plan.outputs) {
          if (await exists(out)) throw new InvalidParameter('certs.exists', `${out} already exists (use --force to overwrite)`);
        }
      }
      await apply(plan);
      ctx.print(`${makeCa ? 'Created a CA in' : 'Used the CA in'} ${caDir}; certificates for ${hosts.join(', ')} in ${dir}`);
      ctx.print(`daemon: berthd --tlsverify --tlscacert ${join(dir, 'ca.pem')} --tlscert ${join(dir, 'server-cert.pem')} --tlskey ${join(dir, 'server-key.pem')} -H tcp://0.0.0.0:2376`);
      ctx.print(`client: DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${dir} DOCKER_HOST=tcp://${hosts[0]}:2376 berth version`);
    });
}
