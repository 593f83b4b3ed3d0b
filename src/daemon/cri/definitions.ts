/**
 * Loads the CRI services from api-proto.ts for grpc-js: the daemon serves
 * them and the tests' client calls them with the same definitions. Field
 * names keep the proto's snake_case; int64s travel as decimal strings and
 * enums as their names, so handlers never meet a Long.
 */
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { CRI_PROTO } from './api-proto.js';

export interface CriDefinitions {
  runtime: grpc.ServiceClientConstructor;
  image: grpc.ServiceClientConstructor;
}

export function loadCriDefinitions(): CriDefinitions {
  const root = protobuf.parse(CRI_PROTO, { keepCase: true }).root;
  const pkg = grpc.loadPackageDefinition(fromJSON(root.toJSON(), {
    keepCase: true, longs: String, enums: String, defaults: true, arrays: true, objects: true,
  })) as unknown as { runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor; ImageService: grpc.ServiceClientConstructor } } };
  return { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
}
