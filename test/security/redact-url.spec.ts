import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/security/redact-url.js';

const TOKEN = 'AQidBf8-secret_token';

describe('redactUrl', () => {
  it('redacts the connection token and the access token, keeping the rest as received', () => {
    expect(redactUrl(`/hubs/chat?id=${TOKEN}&access_token=eyJ.secret.sig&v=1%202`)).toBe(
      '/hubs/chat?id=[redacted]&access_token=[redacted]&v=1%202',
    );
  });

  it('redacts the groups token a resuming client presents', () => {
    expect(redactUrl(`/hubs/chat?groupsToken=true&id=${TOKEN}&resume=${TOKEN}&received=12`)).toBe(
      '/hubs/chat?groupsToken=true&id=[redacted]&resume=[redacted]&received=12',
    );
  });

  it('matches parameter names case-insensitively', () => {
    expect(redactUrl(`/chat?ID=${TOKEN}&Access_Token=${TOKEN}&aCCESS_tOKEN=${TOKEN}`)).toBe(
      '/chat?ID=[redacted]&Access_Token=[redacted]&aCCESS_tOKEN=[redacted]',
    );
  });

  it('matches names written with percent-encoding, as the server decodes them', () => {
    expect(redactUrl(`/chat?%69d=${TOKEN}&access%5Ftoken=${TOKEN}&acc%65ss_token=${TOKEN}`)).toBe(
      '/chat?%69d=[redacted]&access%5Ftoken=[redacted]&acc%65ss_token=[redacted]',
    );
  });

  it('redacts every occurrence, including values with = or percent-encoding', () => {
    expect(redactUrl(`/chat?id=a&id=b==&access_token=%41%42&id=`)).toBe(
      '/chat?id=[redacted]&id=[redacted]&access_token=[redacted]&id=[redacted]',
    );
  });

  it('leaves other parameters alone, including ones that merely contain the names', () => {
    const url = '/chat?hub_id=7&idx=2&my_access_token_hint=x&ids&=id&id';
    expect(redactUrl(url)).toBe(url);
  });

  it('returns URLs without a query unchanged', () => {
    expect(redactUrl('/hubs/chat/negotiate')).toBe('/hubs/chat/negotiate');
    expect(redactUrl('/chat?')).toBe('/chat?');
    expect(redactUrl('')).toBe('');
  });

  it('redacts a token in an absolute-form request target', () => {
    expect(redactUrl(`http://chat.example.com/chat?id=${TOKEN}`)).toBe('http://chat.example.com/chat?id=[redacted]');
  });

  it('never throws on malformed input', () => {
    expect(redactUrl(undefined)).toBe('');
    expect(redactUrl(null as unknown as string)).toBe('');
    expect(redactUrl(`/chat?%E0%A4%A=1&%=2&id=${TOKEN}&&`)).toBe('/chat?%E0%A4%A=1&%=2&id=[redacted]&&');
    expect(redactUrl(`/chat?\uD800=1&id=${TOKEN}`)).toBe('/chat?\uD800=1&id=[redacted]');
    expect(redactUrl(`?id=${TOKEN}`)).toBe('?id=[redacted]');
  });

  it('keeps no trace of a token anywhere in the result', () => {
    const redacted = redactUrl(`/chat?x=1&id=${TOKEN}#frag&access_token=${TOKEN}`);
    expect(redacted).not.toContain(TOKEN);
  });
});
