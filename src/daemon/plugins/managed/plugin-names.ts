/** A managed plugin's local name, apart from plugin-distribution.ts so that naming one does not load the registry client. */
import { familiarString, parseReference, withDefaultTag, type Reference } from '../../../oci/reference.js';
import { withLatest } from './config.js';

/** The reference a plugin is pulled from (`latest` when it names no tag). */
export function remoteRef(remote: string): Reference & { tag: string } {
  const r = withDefaultTag(parseReference(remote));
  return { ...r, tag: r.tag ?? 'latest' };
}

/** The name a pulled plugin gets: the one asked for, else the remote's familiar name; with its tag. */
export function localPluginName(remote: string, name: string): string {
  return withLatest(name ? familiarString(withDefaultTag(parseReference(name))) : familiarString(remoteRef(remote)));
}
