import { Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface Account {
  readonly username: string;
  readonly roles: readonly string[];
}

interface StoredAccount extends Account {
  readonly passwordDigest: Buffer;
}

const digest = (password: string) => createHash('sha256').update(password).digest();

// Demo accounts of the sample contract. A real application keeps salted, slow hashes (argon2, scrypt).
const DEMO_ACCOUNTS: StoredAccount[] = [
  { username: 'alice', roles: ['user'], passwordDigest: digest('alice-pass') },
  { username: 'bob', roles: ['user'], passwordDigest: digest('bob-pass') },
  { username: 'admin', roles: ['user', 'admin'], passwordDigest: digest('admin-pass') },
];

@Injectable()
export class Accounts {
  /** The account of a user a valid token names, with its roles as they are now. */
  find(username: string): Account | undefined {
    const account = DEMO_ACCOUNTS.find((candidate) => candidate.username === username);
    return account && { username: account.username, roles: account.roles };
  }

  /** The account if the password matches; compared in constant time. */
  verify(username: string, password: string): Account | undefined {
    const account = DEMO_ACCOUNTS.find((candidate) => candidate.username === username);
    const matches = timingSafeEqual(digest(password), account?.passwordDigest ?? digest(`${password}\u0000`));
    return account && matches ? { username: account.username, roles: account.roles } : undefined;
  }
}
