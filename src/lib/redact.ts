/**
 * Credentials in option strings (`-o password=…,user=…` of a cifs volume,
 * ceph's `secret=`) are blanked before text reaches a client or a log line,
 * as Docker's local volume driver prints `password=********`.
 */
const SECRET_KEYS = 'password|passwd|pass|pwd|secret|secretkey|secret_key|token|auth_token|access_token|apikey|api_key|credentials_secret';
const SECRET_OPTION = new RegExp(`(^|[\\s,;="'(])(${SECRET_KEYS})=([^\\s,;"')]*)`, 'gi');

export function redactSecrets(text: string): string {
  return text.replace(SECRET_OPTION, (_m, lead: string, key: string) => `${lead}${key}=********`);
}
