export * from './container.js';
export * from './container-reports.js';
export * from './image.js';
export * from './network.js';
export * from './requests.js';
export * from './system.js';
export * from './volume.js';
export * from './swarm.js';
