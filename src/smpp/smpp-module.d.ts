/**
 * Types for the parts of the `smpp` npm package (0.5.x, CommonJS, no bundled types) that spamgate
 * uses: the PDU class and its tables for the proxy's wire layer, and Session/Server for the SMSC
 * simulator and ESME clients. PDU fields are dynamic (named after SMPP parameters and TLVs).
 */
declare module 'smpp' {
  import { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export type PduOptions = Record<string, unknown>;

  export class PDU {
    constructor(command: string, options?: PduOptions);
    command: string;
    command_id: number;
    command_length: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: PduOptions): PDU;
    toBuffer(): Buffer;
    fromBuffer(buffer: Buffer): void;
    static maxLength: number;
  }

  export class Session extends EventEmitter {
    socket: Socket;
    [command: string]: unknown;
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export interface CommandDef {
    readonly id: number;
    readonly command: string;
    readonly params?: Readonly<Record<string, { readonly type: { size(value: unknown): number } }>>;
  }

  export function createServer(options?: Record<string, unknown>, listener?: (session: Session) => void): Server;
  export function connect(options: { host: string; port: number; auto_enquire_link_period?: number }, listener?: () => void): Session;

  export const errors: Readonly<Record<string, number>>;
  export const consts: Readonly<Record<string, Readonly<Record<string, number>>>>;
  export const commands: Readonly<Record<string, CommandDef>>;
  export const commandsById: Readonly<Record<number, CommandDef>>;
  export const tlvsById: Readonly<Record<number, { readonly tag: string }>>;

  const smpp: {
    PDU: typeof PDU;
    Session: typeof Session;
    Server: typeof Server;
    createServer: typeof createServer;
    connect: typeof connect;
    errors: typeof errors;
    consts: typeof consts;
    commands: typeof commands;
    commandsById: typeof commandsById;
    tlvsById: typeof tlvsById;
  };
  export default smpp;
}
