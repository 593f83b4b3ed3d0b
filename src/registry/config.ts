/**
 * berth-registry's settings from a YAML file in CNCF distribution's own
 * format (so an existing config.yml works as is), for the keys berth-
 * registry implements: storage (filesystem, s3, delete, maintenance
 * readonly), http (addr, tls), auth (htpasswd, token). Pure: text in,
 * settings out; unknown sections are ignored, wrong types refused.
 */
import { parse } from 'yaml';
import { ACL_ACTIONS, type AclEntry } from './acl.js';

export interface FileSettings {
  addr?: string;
  root?: string;
  storage?: 'filesystem' | 's3';
  s3?: { bucket?: string; region?: string; endpoint?: string; pathStyle?: boolean; rootDirectory?: string; accessKey?: string; secretKey?: string };
  deleteEnabled?: boolean;
  readOnly?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  htpasswd?: string;
  token?: { realm?: string; service?: string; issuer?: string; rootCertBundle?: string; acl?: AclEntry[] };
  accessLog?: boolean;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, where: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`config: ${where} must be a mapping`);
  return v as Obj;
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`config: ${where} must be a string`);
  return String(v);
}

function bool(v: unknown, where: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new Error(`config: ${where} must be true or false`);
  return v;
}

export function parseConfig(text: string): FileSettings {
  const root = obj(parse(text) as unknown, 'the file') ?? {};
  const out: FileSettings = {};
  const storage = obj(root.storage, 'storage');
  const fs = obj(storage?.filesystem, 'storage.filesystem');
  const s3 = obj(storage?.s3, 'storage.s3');
  if (fs && s3) throw new Error('config: storage names both filesystem and s3');
  if (fs) {
    out.storage = 'filesystem';
    const dir = str(fs.rootdirectory, 'storage.filesystem.rootdirectory');
    if (dir) out.root = dir;
  }
  if (s3) {
    out.storage = 's3';
    out.s3 = {};
    const set = (k: keyof NonNullable<FileSettings['s3']>, key: string) => {
      const v = str(s3[key], `storage.s3.${key}`);
      if (v !== undefined) (out.s3 as Record<string, unknown>)[k] = v;
    };
    set('bucket', 'bucket');
    set('region', 'region');
    set('endpoint', 'regionendpoint');
    set('rootDirectory', 'rootdirectory');
    set('accessKey', 'accesskey');
    set('secretKey', 'secretkey');
    const ps = bool(s3.forcepathstyle, 'storage.s3.forcepathstyle');
    if (ps !== undefined) out.s3.pathStyle = ps;
  }
  const del = bool(obj(storage?.delete, 'storage.delete')?.enabled, 'storage.delete.enabled');
  if (del !== undefined) out.deleteEnabled = del;
  const ro = bool(obj(obj(storage?.maintenance, 'storage.maintenance')?.readonly, 'storage.maintenance.readonly')?.enabled, 'storage.maintenance.readonly.enabled');
  if (ro !== undefined) out.readOnly = ro;
  const http = obj(root.http, 'http');
  const addr = str(http?.addr, 'http.addr');
  if (addr) out.addr = addr;
  const tls = obj(http?.tls, 'http.tls');
  const cert = str(tls?.certificate, 'http.tls.certificate');
  const key = str(tls?.key, 'http.tls.key');
  if (cert) out.tlsCert = cert;
  if (key) out.tlsKey = key;
  const auth = obj(root.auth, 'auth');
  const htpasswd = str(obj(auth?.htpasswd, 'auth.htpasswd')?.path, 'auth.htpasswd.path');
  if (htpasswd) out.htpasswd = htpasswd;
  const token = obj(auth?.token, 'auth.token');
  if (token) {
    out.token = {};
    for (const [k, key] of [['realm', 'realm'], ['service', 'service'], ['issuer', 'issuer'], ['rootCertBundle', 'rootcertbundle']] as const) {
      const v = str(token[key], `auth.token.${key}`);
      if (v !== undefined) out.token[k] = v;
    }
    if (token.acl !== undefined && token.acl !== null) out.token.acl = aclEntries(token.acl, 'auth.token.acl');
  }
  const accesslog = obj(obj(root.log, 'log')?.accesslog, 'log.accesslog');
  const disabled = bool(accesslog?.disabled, 'log.accesslog.disabled');
  if (disabled !== undefined) out.accessLog = !disabled;
  return out;
}

/** The token endpoint's ACL (acl.ts) from a YAML list, as in a `--token-acl` file. */
export function parseTokenAcl(text: string): AclEntry[] {
  return aclEntries(parse(text) as unknown ?? [], 'the ACL');
}

function aclEntries(v: unknown, where: string): AclEntry[] {
  if (!Array.isArray(v)) throw new Error(`config: ${where} must be a list`);
  return v.map((item: unknown, i) => {
    const at = `${where}[${i}]`;
    const e = obj(item, at) ?? {};
    const account = str(e.account, `${at}.account`);
    const name = str(e.name, `${at}.name`);
    if (account === undefined || name === undefined) throw new Error(`config: ${at} needs account and name`);
    const actions = e.actions;
    if (!Array.isArray(actions) || actions.some((a) => !ACL_ACTIONS.includes(String(a)))) throw new Error(`config: ${at}.actions must be a list of ${ACL_ACTIONS.join(', ')}`);
    const type = str(e.type, `${at}.type`);
    return { account, name, actions: actions.map(String), ...(type !== undefined ? { type } : {}) };
  });
}
