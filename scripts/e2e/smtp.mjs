// A tiny SMTP catcher for the e2e suites whose server sends mail (AUTHIO_SMTP_URL=smtp://127.0.0.1:PORT): no TLS,
// no AUTH, every message kept in memory with its recipient.

import net from 'node:net';

import { assert } from './harness.mjs';

// decodeQP undoes quoted-printable (soft line breaks, =XX), enough to read links and codes.
export function decodeQP(s) {
  return s.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

export class MailCatcher {
  constructor() {
    this.messages = []; // {to, raw} in the order caught
    this.waiters = [];
    this.server = net.createServer((sock) => this.#session(sock));
  }

  listen(port) {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
  }

  close() {
    this.server.close();
  }

  // waitFor returns the decoded text of the first message caught at index after or later whose recipient is addr
  // (ignoring case unless exact), waiting up to 15 s.
  async waitFor(addr, after, { exact = false } = {}) {
    const same = exact ? (to) => to === addr : (to) => to.toLowerCase() === addr.toLowerCase();
    const deadline = Date.now() + 15000;
    for (;;) {
      const m = this.messages.slice(after).find((x) => same(x.to));
      if (m) return decodeQP(m.raw);
      assert(Date.now() < deadline, `no email to ${addr} within 15 s (${this.messages.length} caught, to ${this.messages.map((x) => x.to)})`);
      await new Promise((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  #session(sock) {
    let buf = '';
    let inData = false;
    let rcpt = '';
    const say = (l) => sock.write(l + '\r\n');
    say('220 catcher ESMTP');
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          this.messages.push({ to: rcpt, raw: buf.slice(0, end) });
          buf = buf.slice(end + 5);
          inData = false;
          say('250 OK queued');
          this.waiters.splice(0).forEach((w) => w());
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') say('250-catcher\r\n250 8BITMIME');
        else if (verb === 'RCPT') {
          rcpt = (line.match(/<([^>]*)>/) || [])[1] || '';
          say('250 OK');
        } else if (verb === 'DATA') {
          inData = true;
          say('354 go ahead');
        } else if (verb === 'QUIT') {
          say('221 bye');
          sock.end();
        } else say('250 OK'); // MAIL, RSET, NOOP
      }
    });
    sock.on('error', () => {});
  }
}
