/**
 * The cluster data key: what keeps secrets encrypted at rest in etcd.
 *
 * One AES-256 key per swarm, made at `swarm init`. It never enters the
 * store: each manager keeps it in its certificates directory, 0600, beside
 * the CA key, and a manager gets it where it gets the CA key, over the
 * mutual-TLS swarm port (a manager join, or a promotion's `/v1/certificate`).
 * A demoted manager deletes it with the CA key; workers never hold it, so a
 * worker's etcd client certificate (which can read every key) reads only
 * ciphertext.
 *
 *   <data-root>/swarm/certificates/swarm-data.key   0600  base64 of 32 random bytes
 *
 * Each secret value is sealed with AES-256-GCM, a fresh 96-bit IV, and the
 * secret's id as associated data, so a ciphertext moved onto another
 * secret's key fails to open. The envelope names the key (`kid`, a digest
 * of it), so a manager holding another swarm's key says so instead of
 * failing with a bare authentication error:
 *
 *   {"alg":"A256GCM","kid":"3f1c…","iv":"…","tag":"…","data":"…"}   (base64 fields)
 *
 * What this does not protect: the managers' disks (the key sits there in
 * clear, as swarmkit's raft key does without autolock), and etcd's other
 * records (configs, services) stay plaintext, as in swarmkit.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemError, Unavailable } from '../../errdefs/index.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';

export const DATA_KEY_FILE = 'swarm-data.key';
const KEY_BYTES = 32;
const IV_BYTES = 12;

interface Envelope {
  alg: 'A256GCM';
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** A short digest naming a key (never the key itself). */
export function dataKeyId(key: Buffer): string {
  return createHash('sha256').update('berth-swarm-data-key\0').update(key).digest('hex').slice(0, 16);
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new SystemError('swarm.data_key_invalid', `the cluster data key must be ${KEY_BYTES} bytes, not ${key.length}`);
}

/** Seals `plaintext` for the store; `context` (the object's id) is bound to it. */
export function sealValue(key: Buffer, plaintext: Buffer, context: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const env: Envelope = { alg: 'A256GCM', kid: dataKeyId(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  return JSON.stringify(env);
}

/** Opens what sealValue made; anything altered, or another key or context, is an error. */
export function openValue(key: Buffer, sealed: string, context: string): Buffer {
  checkKey(key);
  let env: Envelope;
  try {
    env = JSON.parse(sealed) as Envelope;
  } catch {
    throw new SystemError('swarm.secret_undecryptable', `secret ${context}: the stored value is not an encrypted envelope`);
  }
  if (env.alg !== 'A256GCM' || typeof env.iv !== 'string' || typeof env.tag !== 'string' || typeof env.data !== 'string') {
    throw new SystemError('swarm.secret_undecryptable', `secret ${context}: unknown encryption ${String(env.alg)}`);
  }
  if (env.kid !== dataKeyId(key)) {
    throw new SystemError('swarm.secret_undecryptable', `secret ${context} was encrypted with another data key (${String(env.kid)}) than this manager's (${dataKeyId(key)})`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]);
  } catch (err) {
    throw new SystemError('swarm.secret_undecryptable', `secret ${context}: the stored value failed authentication (altered, or not this secret's)`, { cause: err });
  }
}

export async function saveDataKey(certDir: string, key: Buffer): Promise<void> {
  checkKey(key);
  // written beside the CA and node files, maybe at the same time as they make the directory
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(certDir, DATA_KEY_FILE), key.toString('base64'), 0o600);
}

/** This manager's data key, or undefined if it holds none (a worker). */
export async function loadDataKey(certDir: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(join(certDir, DATA_KEY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const key = Buffer.from(text.trim(), 'base64');
  checkKey(key);
  return key;
}

/** The key, or the error a manager without one gives (a swarm made before data keys existed). */
export async function requireDataKey(certDir: string): Promise<Buffer> {
  const key = await loadDataKey(certDir);
  if (!key) throw new Unavailable('swarm.data_key_missing', `this manager holds no cluster data key (${DATA_KEY_FILE}): secrets cannot be read or written here`);
  return key;
}
