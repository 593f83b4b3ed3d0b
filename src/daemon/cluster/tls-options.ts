/**
 * Mutual TLS between nodes (the swarm port, 2377), as node:tls options built
 * from a node's credentials and the cluster root CA, the way swarmkit builds
 * its tls.Config: TLS 1.2 at least, its strong ECDHE AEAD suites, both sides
 * present a node certificate, and clients expect the server to be a manager
 * (they check the `swarm-manager` DNS name, which only manager certificates
 * carry).
 *
 *   tls.createServer(serverTlsOptions(creds, ca.certPem), (socket) => {
 *     const peer = peerIdentity(socket, ca.certPem);   // { nodeId, role, clusterId, ... }
 *     authorizeNode(peer, clusterId, ['swarm-manager']);
 *   });
 *   tls.connect({ host, port: 2377, ...clientTlsOptions(creds, ca.certPem) });
 */
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, TLSSocket, TlsOptions } from 'node:tls';
import { Forbidden, Unauthorized } from '../../errdefs/index.js';
import { parseCertificates } from './ca.js';
import { MANAGER_OU, ouOfRole } from './cert-profile.js';
import { verifyLeaf, type NodeCredentials, type NodeIdentity } from './node-cert.js';

/** swarmkit's strongTLSCiphers (TLS 1.2), plus the TLS 1.3 suites Go always enables. */
export const CLUSTER_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * A server that asks every client for a node certificate of this CA. With
 * `requireClientCert: false` it still verifies one that is given, but lets
 * certificate-less clients in (swarmkit's VerifyClientCertIfGiven, for nodes
 * joining with a token); authorize those per request.
 */
export function serverTlsOptions(creds: NodeCredentials, caCertPem: string, opts: { requireClientCert?: boolean } = {}): TlsOptions {
  return {
    cert: creds.certPem,
    key: creds.keyPem,
    ca: caCertPem,
    requestCert: true,
    rejectUnauthorized: opts.requireClientCert ?? true,
    minVersion: 'TLSv1.2',
    ciphers: CLUSTER_CIPHERS,
  };
}

/** A client presenting its node certificate and trusting only managers of this CA. */
export function clientTlsOptions(creds: NodeCredentials, caCertPem: string, opts: { serverName?: string } = {}): ConnectionOptions {
  return {
    cert: creds.certPem,
    key: creds.keyPem,
    ca: caCertPem,
    servername: opts.serverName ?? MANAGER_OU,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    ciphers: CLUSTER_CIPHERS,
  };
}

/** The verified node identity of the other end of a TLS connection (swarmkit's certSubjectFromContext). */
export function peerIdentity(socket: TLSSocket, caCertPem: string, opts: { now?: Date } = {}): NodeIdentity {
  const cert: X509Certificate | undefined = socket.getPeerX509Certificate();
  if (!cert) throw new Unauthorized('swarm.certificate_invalid', 'no client certificates in request');
  return verifyLeaf(cert, parseCertificates(caCertPem), opts);
}

/**
 * swarmkit's AuthorizeOrgAndRole: the peer must hold one of `roles` (OUs such
 * as 'swarm-manager') and belong to this cluster (O); returns its node id.
 */
export function authorizeNode(peer: NodeIdentity, clusterId: string, roles: readonly string[]): string {
  if (!roles.includes(ouOfRole(peer.role))) {
    throw new Forbidden('swarm.permission_denied', `Permission denied: remote certificate not part of OUs: [${roles.join(' ')}]`);
  }
  if (peer.clusterId !== clusterId) {
    throw new Forbidden('swarm.permission_denied', `Permission denied: remote certificate not part of organization: ${clusterId}`);
  }
  return peer.nodeId;
}
