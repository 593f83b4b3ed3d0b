/**
 * Authorization plugins (moby's pkg/authorization): each API request, then
 * its answer, is put to every plugin in order; one refusal refuses it.
 *
 *   POST /AuthZPlugin.AuthZReq {User, UserAuthNMethod, RequestMethod, RequestURI,
 *                               RequestBody (base64), RequestHeaders}
 *     → {Allow: true} | {Allow: false, Msg: "why"}
 *   POST /AuthZPlugin.AuthZRes {…the same, ResponseStatusCode, ResponseHeaders, ResponseBody}
 *     → {Allow, Msg}
 *
 * A refusal is 403 `authorization denied by plugin NAME: MSG`. A plugin that
 * cannot be asked refuses too (fail closed): 500 `plugin NAME failed with
 * error: …`, and the request is not carried out.
 */
import { asBerthError, Forbidden, SystemError } from '../../errdefs/index.js';
import type { AuthzRequest, AuthzResponse, RequestAuthorizer } from '../server/authz-gate.js';
import type { PluginRegistry } from './registry.js';

/** moby's AuthZApiImplements. */
export const AUTHZ_IMPLEMENTS = 'authz';

interface AuthzAnswer {
  Allow?: unknown;
  Msg?: unknown;
  Err?: unknown;
}

/** The JSON document a plugin gets (Go's []byte fields travel as base64). */
export function authzDocument(r: AuthzRequest, res?: AuthzResponse): Record<string, unknown> {
  return {
    ...(r.user ? { User: r.user } : {}),
    ...(r.authMethod ? { UserAuthNMethod: r.authMethod } : {}),
    RequestMethod: r.method,
    RequestURI: r.uri,
    ...(r.body ? { RequestBody: r.body.toString('base64') } : {}),
    RequestHeaders: r.headers,
    ...(res ? {
      ResponseStatusCode: res.status,
      ResponseHeaders: res.headers,
      ...(res.body ? { ResponseBody: res.body.toString('base64') } : {}),
    } : {}),
  };
}

export class AuthzPlugins implements RequestAuthorizer {
  constructor(private readonly names: string[], private readonly registry: Pick<PluginRegistry, 'get'>) {}

  /** At start-up, as dockerd: every configured plugin must be there and implement authz. */
  async validate(): Promise<void> {
    for (const name of this.names) await this.registry.get(name, AUTHZ_IMPLEMENTS);
  }

  async authorizeRequest(r: AuthzRequest): Promise<void> {
    await this.askAll('AuthZPlugin.AuthZReq', authzDocument(r));
  }

  async authorizeResponse(r: AuthzRequest, res: AuthzResponse): Promise<void> {
    await this.askAll('AuthZPlugin.AuthZRes', authzDocument(r, res));
  }

  private async askAll(method: string, doc: Record<string, unknown>): Promise<void> {
    for (const name of this.names) {
      let answer: AuthzAnswer;
      try {
        const p = await this.registry.get(name, AUTHZ_IMPLEMENTS);
        answer = await p.client.call<AuthzAnswer>(method, doc);
      } catch (err) {
        throw new SystemError('authz.plugin_failed', `plugin ${name} failed with error: ${asBerthError(err).message}`, { cause: err });
      }
      if (answer?.Allow !== true) {
        const msg = typeof answer?.Msg === 'string' && answer.Msg ? answer.Msg : typeof answer?.Err === 'string' ? answer.Err : '';
        throw new Forbidden('authz.denied', `authorization denied by plugin ${name}: ${msg}`);
      }
    }
  }
}
