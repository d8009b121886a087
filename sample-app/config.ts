import { Logger } from '@nestjs/common';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { parseKeyRing, redisLifetimeManager, type SignalRModuleOptions } from 'nestjs-signalr';

/** Settings read from the environment once; secrets that are missing are made up, loudly. */
export interface SampleConfig {
  readonly signalrKeys: Buffer[];
  /**
   * The JWT secret as a key object: given a string, jsonwebtoken first tries to read it as a
   * PEM public key on every verification (two per connection), which costs far more than the
   * HMAC itself.
   */
  readonly jwtKey: KeyObject;
  readonly allowedOrigins: string[];
  /** Set: this node joins the Redis backplane and scales out with its peers. */
  readonly redisUrl: string | undefined;
  /** Set (`host:port` startup nodes): this node joins the backplane on that Redis Cluster instead of `redisUrl`. */
  readonly redisClusterNodes: string[] | undefined;
  /** The Host headers the hubs answer: loopback on any port, and PUBLIC_HOST (`name` or `name:port`) as given. */
  readonly allowedHosts: string[];
}

export const SAMPLE_CONFIG = Symbol('SampleConfig');

/**
 * The sample's connection caps (the library sets none). In total, what one node's memory holds
 * comfortably: about 9 KiB per idle connection, under half a gigabyte. Per address, room for a
 * large NAT, and for checks that open 19,000 connections from loopback. Per user, far more tabs
 * and devices than a person uses, and far fewer than one stolen token could open without it.
 */
export const CONNECTION_CAPS = {
  maximumConnections: 50_000,
  maximumConnectionsPerAddress: 20_000,
  maximumConnectionsPerUser: 200,
} as const satisfies SignalRModuleOptions;

/** The Redis backplane the sample joins: a cluster when its nodes are given, else one Redis when its URL is, else none. */
export function backplaneOf(config: SampleConfig): SignalRModuleOptions['lifetimeManager'] {
  const channelPrefix = 'sample-chat';
  if (config.redisClusterNodes) return redisLifetimeManager({ cluster: { nodes: config.redisClusterNodes }, channelPrefix });
  return config.redisUrl ? redisLifetimeManager({ url: config.redisUrl, channelPrefix }) : undefined;
}

export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const logger = new Logger('SampleConfig');
  let signalrKeys: Buffer[];
  if (env.SIGNALR_KEYS) {
    signalrKeys = parseKeyRing(env.SIGNALR_KEYS);
  } else {
    logger.warn('SIGNALR_KEYS is not set: using a random key; connection tokens will not survive a restart.');
    signalrKeys = [randomBytes(32)];
  }
  let jwtSecret = env.JWT_SECRET ?? '';
  if (!jwtSecret) {
    logger.warn('JWT_SECRET is not set: using a random secret; logins will not survive a restart.');
    jwtSecret = randomBytes(32).toString('base64url');
  }
  const allowedOrigins = (env.ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  const publicHost = env.PUBLIC_HOST?.trim();
  // '*' would make the library accept any Host: PUBLIC_HOST names one host.
  if (publicHost?.includes('*')) throw new Error(`PUBLIC_HOST must be a host name, optionally with :port, got ${JSON.stringify(publicHost)}.`);
  const allowedHosts = ['localhost:*', '127.0.0.1:*', ...(publicHost ? [publicHost] : [])];
  const redisClusterNodes = (env.REDIS_CLUSTER_NODES ?? '')
    .split(',')
    .map((node) => node.trim())
    .filter(Boolean);
  return {
    signalrKeys,
    jwtKey: createSecretKey(Buffer.from(jwtSecret)),
    allowedOrigins,
    redisUrl: env.REDIS_URL || undefined,
    redisClusterNodes: redisClusterNodes.length > 0 ? redisClusterNodes : undefined,
    allowedHosts,
  };
}
