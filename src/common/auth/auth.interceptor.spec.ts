import { tokenFromAuthorization, tokenMatches } from './auth.interceptor';

describe('authorization header', () => {
  const token = 'secret-token-0123456789';
  it('reads Bearer and the reference Basic base64(":" + token) forms', () => {
    expect(tokenFromAuthorization(`Bearer ${token}`)).toBe(token);
    expect(tokenFromAuthorization(`bearer ${token}`)).toBe(token);
    expect(tokenFromAuthorization(`Basic ${Buffer.from(':' + token).toString('base64')}`)).toBe(token);
    expect(tokenFromAuthorization('Digest abc')).toBeUndefined();
    expect(tokenFromAuthorization(undefined)).toBeUndefined();
  });

  it('matches only the exact token', () => {
    expect(tokenMatches(token, `Bearer ${token}`)).toBe(true);
    expect(tokenMatches(token, `Bearer ${token}x`)).toBe(false);
    expect(tokenMatches(token, `Bearer ${token.slice(1)}`)).toBe(false);
    expect(tokenMatches(token, undefined)).toBe(false);
  });
});
