import type { AuthConfig } from '../../../../api/registry-auth.js';
import type { DistributionInspect, JSONMessage } from '../../../../api/types/index.js';
import type { Platform } from '../../../../oci/image.js';

/** What the registry routes call; implemented by DistributionService. */
export interface DistributionBackend {
  pull(fromImage: string, tag: string | undefined, platform: Platform, creds: AuthConfig, progress: (m: JSONMessage) => void): Promise<void>;
  push(name: string, tag: string | undefined, creds: AuthConfig, progress: (m: JSONMessage) => void): Promise<void>;
  login(creds: AuthConfig): Promise<{ Status: string; IdentityToken: string }>;
  inspect(name: string, creds: AuthConfig): Promise<DistributionInspect>;
}
