export * from './header.js';
export { readTar, type TarEntry } from './reader.js';
export { TarWriter } from './writer.js';
