/** The CLI's own version (`berth version`, `berth -v`), apart so that printing it loads nothing else. */
export const CLIENT_VERSION = '0.1.0';
