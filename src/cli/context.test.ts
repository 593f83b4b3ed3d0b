import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CliContext } from './context.js';

/** A daemon that answers pings (after `delayMs`) and counts them. */
async function pingServer(sock: string, delayMs = 0): Promise<{ server: Server; pings: () => number }> {
  let pings = 0;
  const server = createServer((req, res) => {
    if (req.url === '/_ping') pings++;
    setTimeout(() => res.writeHead(200, { 'Api-Version': '1.47' }).end('OK'), delayMs);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return { server, pings: () => pings };
}

test('an early ping is the one the command uses; a tcp endpoint is never dialled early', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-ctx-'));
  const sock = join(dir, 'd.sock');
  const { server, pings } = await pingServer(sock, 30);
  const env = { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dir };
  try {
    const used = new CliContext(() => ({ given: new Set<string>() }), process.stdout, process.stderr, env);
    await used.pingEarly();
    const [a, b] = await Promise.all([used.client(), used.client()]);
    assert.equal(a, b);
    assert.equal(pings(), 1);
    used.close();

    // a tcp endpoint is never dialled early
    const tcp = new CliContext(() => ({ given: new Set<string>() }), process.stdout, process.stderr, { DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_CONFIG: dir });
    await tcp.pingEarly();
    tcp.close();
    assert.equal(pings(), 1);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
