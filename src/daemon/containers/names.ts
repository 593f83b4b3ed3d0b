/** Container names: validation and Docker-style random `adjective_surname` names. */
import { randomInt } from '../../lib/lazy-crypto.js';
import { InvalidParameter } from '../../errdefs/index.js';

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Returns the name without its leading '/'. */
export function validateName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw new InvalidParameter('container.invalid_name', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.replace(/^\//, '');
}

const ADJECTIVES = [
  'able', 'brave', 'calm', 'clever', 'cool', 'crisp', 'eager', 'fair', 'fond', 'gentle', 'happy', 'keen', 'kind',
  'lucid', 'merry', 'modest', 'nifty', 'noble', 'patient', 'quick', 'quiet', 'sharp', 'steady', 'sunny', 'swift',
  'tender', 'upbeat', 'vivid', 'warm', 'wise', 'witty', 'zen',
];
// people who shaped computing and the sea-faring words berth borrows from
const NAMES = [
  'allen', 'babbage', 'backus', 'bartik', 'cerf', 'clarke', 'dijkstra', 'engelbart', 'hamilton', 'hopper', 'kahn',
  'karp', 'knuth', 'lamport', 'liskov', 'lovelace', 'mccarthy', 'moore', 'naur', 'noether', 'perlman', 'ritchie',
  'shannon', 'sutherland', 'thompson', 'torvalds', 'turing', 'wilkes', 'wirth', 'yao', 'keel', 'harbor',
];

export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    let name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
    if (i > 10) name += randomInt(10);
    if (!taken(name)) return name;
  }
}
