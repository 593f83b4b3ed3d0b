export * from './container.js';
export * from './image.js';
export * from './system.js';
