export * from './digest.js';
export * from './reference.js';
export * from './media-types.js';
export * from './image.js';
export * from './runtime-spec.js';
export * from './validate.js';
