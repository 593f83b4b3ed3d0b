/**
 * BuildKit's automatic platform ARGs: the build's target and the builder's
 * own platform. berth builds for the host only, so both are the host's.
 * A --build-arg of the same name wins, as in BuildKit.
 */
import { hostArchitecture } from '../../oci/index.js';

export const PLATFORM_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'];

export function platformArgs(buildArgs: Record<string, string | null>, arch = hostArchitecture()): [string, string][] {
  const variant = arch === 'arm64' ? 'v8' : arch === 'arm' ? 'v7' : '';
  const platform = `linux/${arch}${variant && arch !== 'arm64' ? `/${variant}` : ''}`;
  const values: Record<string, string> = { PLATFORM: platform, OS: 'linux', ARCH: arch, VARIANT: variant };
  return PLATFORM_ARGS.map((name) => {
    const given = buildArgs[name];
    return [name, typeof given === 'string' ? given : values[name.replace(/^(TARGET|BUILD)/, '')]!];
  });
}
