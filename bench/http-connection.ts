// The load generator's HTTP client: one keep-alive HTTP/1.1 connection sending GETs one after another.
// node:http's client spent ~0.17 ms of CPU an answer (its parser, agent, streams and events) on the
// cores the server under test needs; this one writes the request line and slices the answer by its
// Content-Length: ~0.1 ms, the load generator's checks included.
import net from "node:net";

export interface Answer {
  status: number;
  type: string | undefined;
  gzipped: boolean;
  body: Buffer;
}

interface Head {
  status: number;
  type: string | undefined;
  gzipped: boolean;
  length: number;
  /** The server closes the connection after this answer (gunicorn's sync workers do after each one). */
  close: boolean;
}

function parseHead(text: string): Head {
  const [statusLine, ...lines] = text.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
  if (!status) throw new Error(`not an HTTP answer: ${statusLine}`);
  const headers = new Map(lines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
  }));
  // Our server always says how long an answer is; reading chunked answers would be code nothing uses.
  if (headers.has("transfer-encoding")) throw new Error(`a ${headers.get("transfer-encoding")} answer has no Content-Length`);
  return {
    status,
    type: headers.get("content-type"),
    gzipped: headers.get("content-encoding") === "gzip",
    length: Number(headers.get("content-length") ?? 0),
    close: headers.get("connection")?.toLowerCase() === "close",
  };
}

export class HttpConnection {
  readonly #origin: URL;
  #socket: net.Socket | undefined;
  #waiting: { resolve: (answer: Answer) => void; reject: (error: Error) => void } | undefined;
  #head: Head | undefined;
  /** Bytes received and not yet part of an answer. */
  #chunks: Buffer[] = [];
  #received = 0;

  constructor(origin: string) {
    this.#origin = new URL(origin);
  }

  /** GETs `path` (with its query), accepting gzip as Subsonic apps do (Android's OkHttp asks for it by default). */
  get(path: string): Promise<Answer> {
    if (this.#waiting) throw new Error("one request at a time on a connection");
    const socket = this.#socket ?? this.#connect();
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.#origin.host}\r\nAccept-Encoding: gzip\r\n\r\n`, "latin1");
    });
  }

  close(): void {
    this.#socket?.destroy();
  }

  #connect(): net.Socket {
    const socket = net.connect({ host: this.#origin.hostname, port: Number(this.#origin.port), noDelay: true });
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (error) => this.#fail(error));
    socket.on("close", () => {
      this.#socket = undefined;
      this.#fail(new Error("the server closed the connection before answering"));
    });
    this.#socket = socket;
    return socket;
  }

  /** Forgets a socket the server is closing: the next request opens a new one. */
  #drop(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.removeAllListeners();
    socket?.on("error", () => {}); // whatever it says now concerns no request of ours
    socket?.destroy();
  }

  #fail(error: Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    this.#head = undefined;
    this.#chunks = [];
    this.#received = 0;
    waiting?.reject(error);
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#received += chunk.length;
    try {
      if (!this.#head) {
        const bytes = this.#takeAll();
        const end = bytes.indexOf("\r\n\r\n");
        if (end < 0) return void this.#keep(bytes);
        this.#head = parseHead(bytes.toString("latin1", 0, end));
        this.#keep(bytes.subarray(end + 4));
      }
      if (this.#received < this.#head.length) return;
      const bytes = this.#takeAll();
      const head = this.#head;
      this.#head = undefined;
      this.#keep(bytes.subarray(head.length));
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (head.close) this.#drop();
      waiting?.resolve({ status: head.status, type: head.type, gzipped: head.gzipped, body: bytes.subarray(0, head.length) });
    } catch (error) {
      this.#fail(error as Error);
      this.#socket?.destroy();
    }
  }

  #takeAll(): Buffer {
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#received);
  }

  #keep(bytes: Buffer): void {
    this.#chunks = bytes.length ? [bytes] : [];
    this.#received = bytes.length;
  }
}
