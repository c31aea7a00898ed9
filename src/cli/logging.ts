/**
 * Logging for the long-running commands (serve, smpp-proxy). Apart from common.ts so that what
 * only builds an engine (every other command, and each mail scan worker) does not load pino.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { CliError } from './common.js';

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A long-running command's pino logger at the --log-level given; an unknown level is a clear error. */
export function commandLogger(level: string, service: string, destination?: DestinationStream): Logger {
  if (!LOG_LEVELS.includes(level)) throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const options = { level, base: { service } };
  return destination ? pino(options, destination) : pino(options);
}
