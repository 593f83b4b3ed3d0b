export * from './errors.js';
export { httpStatusOf, kindOfHttpStatus } from './http-status.js';
export { grpcStatusOf } from './grpc-status.js';
