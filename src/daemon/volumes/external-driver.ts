/**
 * A volume driver other than `local` (a plugin), as the volume service sees
 * it. The daemon keeps its own record of such a volume (name, driver,
 * labels); the data and the mount live with the driver.
 *
 *   const d = await drivers.get('myvol');
 *   await d.create('v', { size: '1G' });
 *   const path = await d.mount('v', mountId);   // one id per container mount point
 *   await d.unmount('v', mountId);
 */
import { NotFound } from '../../errdefs/index.js';

export interface ExternalVolume {
  Name: string;
  Mountpoint?: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
}

export interface ExternalVolumeDriver {
  readonly name: string;
  create(volume: string, opts: Record<string, string>): Promise<void>;
  remove(volume: string): Promise<void>;
  /** The host path to bind into the container while this id holds it. */
  mount(volume: string, id: string): Promise<string>;
  unmount(volume: string, id: string): Promise<void>;
  path(volume: string): Promise<string>;
  get(volume: string): Promise<ExternalVolume>;
  list(): Promise<ExternalVolume[]>;
  scope(): Promise<'local' | 'global'>;
}

export interface ExternalVolumeDrivers {
  /** The driver named so (NotFound when no plugin of that name exists). */
  get(name: string): Promise<ExternalVolumeDriver>;
  /** Every volume plugin that can be found now (for `volume ls`). */
  all(): Promise<ExternalVolumeDriver[]>;
}

/** No plugins: every driver other than `local` is unknown. */
export const NO_EXTERNAL_DRIVERS: ExternalVolumeDrivers = {
  get: (name) => Promise.reject(new NotFound('plugin.not_found', `plugin "${name}" not found`)),
  all: () => Promise.resolve([]),
};
