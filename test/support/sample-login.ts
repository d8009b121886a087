/** Signs a demo user of the sample in (`POST /auth/login`, password `<name>-pass`) and returns its JWT. */
export async function sampleTokenOf(baseUrl: string, username: string): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: `${username}-pass` }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
