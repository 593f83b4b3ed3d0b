/**
 * A small CRI client for tests: the same definitions berthd serves
 * (src/daemon/cri/api-proto.ts), over grpc-js on the CRI unix socket.
 *
 *   const cri = new CriClient(socket);
 *   const { pod_sandbox_id } = await cri.runtime('RunPodSandbox', { config });
 *   cri.close();
 */
import * as grpc from '@grpc/grpc-js';
import { loadCriDefinitions } from '../../src/daemon/cri/definitions.js';

type Message = Record<string, any>;

export class CriClient {
  private readonly runtimeClient: grpc.Client;
  private readonly imageClient: grpc.Client;

  constructor(socket: string) {
    const defs = loadCriDefinitions();
    this.runtimeClient = new defs.runtime(`unix://${socket}`, grpc.credentials.createInsecure());
    this.imageClient = new defs.image(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  runtime(method: string, req: Message = {}, timeoutMs = 60_000): Promise<Message> {
    return call(this.runtimeClient, method, req, timeoutMs);
  }

  image(method: string, req: Message = {}, timeoutMs = 120_000): Promise<Message> {
    return call(this.imageClient, method, req, timeoutMs);
  }

  close(): void {
    this.runtimeClient.close();
    this.imageClient.close();
  }
}

/** The gRPC status of a failed call, e.g. 5 for NOT_FOUND. */
export function grpcCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

function call(client: grpc.Client, method: string, req: Message, timeoutMs: number): Promise<Message> {
  const fn = (client as unknown as Record<string, (r: Message, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, res: Message) => void) => void>)[method];
  if (!fn) throw new Error(`no CRI method ${method}`);
  return new Promise((resolve, reject) => {
    // waitForReady: a call made while berthd restarts waits for the socket instead of failing at once
    fn.call(client, req, { deadline: Date.now() + timeoutMs, waitForReady: true }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
