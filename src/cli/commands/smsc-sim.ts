/**
 * `spamgate smsc-sim` and `spamgate esme-send`: a simulated SMSC and a small ESME, both on the
 * `smpp` package, so an operator can try the proxy from a clean clone (docs/smpp.md).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import smpp from 'smpp';
import { concatUdh, encodeShortMessage, isGsm7 } from '../../smpp/codec.js';
import { EsmeClient, SmscSimulator, type BindType } from '../../smpp/sim.js';
import { CliError, EXIT_BAD_INPUT, runCommand, stopOnSignal } from '../common.js';
import { parseHostPort } from './smpp-proxy.js';

const STATUS_NAMES = new Map(Object.entries(smpp.errors).map(([name, code]) => [code, name]));

export function statusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `0x${status.toString(16).padStart(2, '0')}`;
}

interface SimFlags {
  listen: string;
  receipts?: boolean;
  quiet?: boolean;
}

interface SendFlags {
  proxy: string;
  systemId: string;
  password: string;
  bind: BindType;
  from: string;
  to: string;
  coding: 'auto' | 'gsm' | 'ucs2' | 'latin1';
  parts?: string;
  receipt?: boolean;
}

/** One text as the submit_sm(s) an ESME would send: split into `parts` concatenated parts when asked. */
export function submitsFor(text: string, flags: Pick<SendFlags, 'from' | 'to' | 'coding' | 'parts' | 'receipt'>, reference: number): Record<string, unknown>[] {
  const coding = flags.coding === 'auto' ? (isGsm7(text) ? 'gsm' : 'ucs2') : flags.coding;
  const dataCoding = coding === 'gsm' ? 0x00 : coding === 'ucs2' ? 0x08 : 0x03;
  const parts = flags.parts ? Number(flags.parts) : 1;
  if (!Number.isInteger(parts) || parts < 1 || parts > 255) throw new CliError(`--parts must be 1 to 255, got '${flags.parts}'`);
  const chars = Array.from(text);
  const size = Math.ceil(chars.length / parts) || 1;
  const base = { source_addr: flags.from, destination_addr: flags.to, registered_delivery: flags.receipt ? 1 : 0, data_coding: dataCoding };
  if (parts === 1) return [{ ...base, short_message: encodeShortMessage(text, dataCoding) }];
  return Array.from({ length: parts }, (_, i) => ({
    ...base,
    esm_class: 0x40,
    short_message: encodeShortMessage(chars.slice(i * size, (i + 1) * size).join(''), dataCoding, { udh: concatUdh(reference, parts, i + 1) }),
  }));
}

export function registerSmscSimCommands(program: Command): void {
  program
    .command('smsc-sim')
    .summary('run a simulated SMSC (for trying the SMPP proxy)')
    .description(
      'A simulated SMSC: accepts any bind, answers every submit_sm with a fresh message id and ' +
        'prints what it received, one JSON line per message. Loopback by default.',
    )
    .option('-l, --listen <host:port>', 'where the proxy (or an ESME) connects', '127.0.0.1:2776')
    .option('--receipts', 'send a delivery receipt for each message that asks for one (registered_delivery)')
    .option('-q, --quiet', 'do not print messages')
    .addHelpText('after', '\nExample:\n  spamgate smsc-sim --listen 127.0.0.1:2776 --receipts\n')
    .action(
      runCommand(async (flags: SimFlags) => {
        const { host, port } = parseHostPort(flags.listen, '--listen', true);
        let printed = 0;
        const sim = new SmscSimulator({ host, port, receipts: flags.receipts ?? false });
        try {
          await sim.start();
        } catch (err) {
          throw new CliError(`cannot listen on ${flags.listen}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        process.stderr.write(`smsc-sim listening on ${host}:${sim.port}\n`);
        const timer = setInterval(() => {
          if (flags.quiet) return;
          while (printed < sim.received.length) {
            const m = sim.received[printed++]!;
            process.stdout.write(JSON.stringify({ messageId: m.messageId, from: m.source, to: m.destination, text: m.text, dataCoding: m.dataCoding, esmClass: m.esmClass, ...m.tlvs }) + '\n');
          }
        }, 100);
        await stopOnSignal(() => {
          clearInterval(timer);
          return sim.close();
        });
        process.stderr.write(`smsc-sim: ${sim.received.length} message(s) accepted\n`);
      }),
    );

  program
    .command('esme-send')
    .summary('send SMS through SMPP as an ESME (for trying the proxy)')
    .description(
      'Bind to an SMPP server (the proxy, or smsc-sim directly) and send each text as a submit_sm, ' +
        'printing the answer: ESME_ROK with the message id, or the error status. Texts come from ' +
        'the arguments, or one per line from stdin. Exit status 1 when any was refused.',
    )
    .argument('[text...]', 'message text (default: one message per line from stdin)')
    .option('-p, --proxy <host:port>', 'the SMPP server to bind to', '127.0.0.1:2775')
    .option('--system-id <id>', 'ESME system_id', 'shop')
    .option('--password <password>', 'ESME password', 's3cret')
    .option('--bind <type>', 'transceiver, transmitter or receiver', 'transceiver')
    .option('-f, --from <sender>', 'source_addr', '+447700900123')
    .option('-t, --to <recipient>', 'destination_addr', '+447700900001')
    .option('--coding <coding>', 'auto (GSM 03.38 when it fits, else UCS-2), gsm, ucs2 or latin1', 'auto')
    .option('--parts <n>', 'split each text into n concatenated parts (UDH, 8-bit reference)')
    .option('--receipt', 'ask for a delivery receipt (registered_delivery 1) and wait a moment for it')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  spamgate esme-send "See you at 6"\n' +
        '  spamgate esme-send --parts 3 "Congratulations, you have won a cash prize, call 09061701461 to claim"\n' +
        '  printf "hello\\nwin a free prize now\\n" | spamgate esme-send --system-id shop --password s3cret\n',
    )
    .action(
      runCommand(async (textArgs: string[], flags: SendFlags) => {
        if (!['transceiver', 'transmitter', 'receiver'].includes(flags.bind)) throw new CliError(`--bind must be transceiver, transmitter or receiver, got '${flags.bind}'`);
        if (!['auto', 'gsm', 'ucs2', 'latin1'].includes(flags.coding)) throw new CliError(`--coding must be auto, gsm, ucs2 or latin1, got '${flags.coding}'`);
        const { host, port } = parseHostPort(flags.proxy, '--proxy');
        const texts = textArgs.length > 0 ? [textArgs.join(' ')] : readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() !== '');
        let esme: EsmeClient;
        try {
          esme = await EsmeClient.connect(host, port, { systemId: flags.systemId, password: flags.password, bindType: flags.bind });
        } catch (err) {
          const status = (err as { status?: number }).status;
          throw new CliError(status !== undefined ? `bind refused: ${statusName(status)}` : `cannot bind to ${flags.proxy}: ${(err as Error).message}`);
        }
        let refused = 0;
        let reference = Math.floor(Math.random() * 256);
        for (const text of texts) {
          let submits;
          try {
            submits = submitsFor(text, flags, reference++ & 0xff);
          } catch (err) {
            process.stderr.write(`esme-send: ${(err as Error).message}\n`);
            refused++;
            continue;
          }
          const results = await Promise.all(submits.map((s) => esme.submit(s)));
          results.forEach((r, i) => {
            const part = results.length > 1 ? ` part ${i + 1}/${results.length}` : '';
            if (r.status === 0) process.stdout.write(`ESME_ROK${part} message_id=${r.messageId}\n`);
            else {
              refused++;
              process.stdout.write(`${r.status === undefined ? 'NO ANSWER (connection closed)' : `${statusName(r.status)} (0x${r.status.toString(16)})`}${part}\n`);
            }
          });
        }
        if (flags.receipt) {
          await new Promise((r) => setTimeout(r, 1000));
          for (const d of esme.delivered) process.stdout.write(`deliver_sm esm_class=0x${Number(d.esm_class).toString(16)} from=${String(d.source_addr)} receipted_message_id=${String(d.receipted_message_id ?? '')}\n`);
        }
        await esme.unbind();
        return refused > 0 ? EXIT_BAD_INPUT : 0;
      }),
    );
}
