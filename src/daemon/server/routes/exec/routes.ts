import type { ExecCreateRequest, ExecStartRequest } from '../../../../api/types/index.js';
import { EXEC_CREATE, EXEC_START } from '../../../../api/body-shapes.js';
import { strSlices } from '../../../../api/shape.js';
import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { ExecBackend } from './backend.js';

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

export function execRoutes(r: Router<Handler>, b: ExecBackend): void {
  r.add('POST', '/containers/:id/exec', async (req, reply) => {
    const body = await req.json<ExecCreateRequest>(EXEC_CREATE);
    if (!body) throw new InvalidParameter('exec.no_config', 'No exec command specified');
    reply.json(201, b.create(req.param('id'), strSlices(body, ['Cmd'])));
  });

  r.add('POST', '/exec/:id/start', async (req, reply) => {
    const body = (await req.json<ExecStartRequest>(EXEC_START)) ?? {};
    const e = b.check(req.param('id')); // 404/409 before any upgrade
    if (body.Detach) {
      await b.start(e.id, undefined, body.ConsoleSize);
      reply.empty(200);
      return;
    }
    const tty = !!e.config.Tty;
    const { socket, output } = reply.hijack(tty || !req.atLeast('1.42') ? RAW : MUX);
    await b.start(e.id, { output, tty, ...(socket && e.config.AttachStdin ? { stdin: socket } : {}) }, body.ConsoleSize);
  });

  r.add('GET', '/exec/:id/json', (req, reply) => reply.json(200, b.inspect(req.param('id'))));

  r.add('POST', '/exec/:id/resize', async (req, reply) => {
    const h = req.int('h');
    const w = req.int('w');
    if (h === undefined || w === undefined) throw new InvalidParameter('exec.resize', 'h and w are required');
    await b.resize(req.param('id'), h, w);
    reply.empty(200);
  });
}
