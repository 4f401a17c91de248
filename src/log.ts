/**
 * JSON logs, one child logger per module. The webhook URL is a secret: it is redacted by path here, and the
 * Slack stage only ever logs its fingerprint; a test asserts it never appears in any log line.
 * Errors are logged as `err` objects: pino's standard serializer writes `err.type`, `err.message` (with the messages
 * of its causes appended: `fetch failed: connect ECONNREFUSED ...`) and `err.stack`.
 */
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'kube-job-alerts' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
      redact: { paths: ['url', 'webhookUrl', '*.url', '*.webhookUrl', 'config.slackWebhookUrl', 'config.heartbeatUrl', 'config.routes'], censor: '[redacted]' },
    },
    destination,
  );
}

/** A logger that drops everything, for unit tests and helpers that are given no logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
