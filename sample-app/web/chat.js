// The sample chat page. Every piece of user text goes through textContent, never innerHTML,
// so a message like <img src=x onerror=...> shows as text and runs nothing. The same page runs
// on the official client (`/`) and on the classic jQuery client (`/classic.html`), which only
// the connection module tells apart.
const classic = document.documentElement.dataset.client === 'classic';
const { connectChat } = await import(classic ? './classic-connection.js' : './modern-connection.js');

const $ = (selector) => document.querySelector(selector);
let connection;
let accessToken;
const joinedRooms = new Set();

function setState(state) {
  $('#state').textContent = state;
  $('#state').dataset.state = state;
}

function showError(selector, error) {
  $(selector).textContent = error ? String(error.message ?? error) : '';
}

function addMessage(parts, className) {
  const item = document.createElement('li');
  if (className) item.className = className;
  for (const [text, partClass] of parts) {
    const span = document.createElement('span');
    span.textContent = text;
    if (partClass) span.className = partClass;
    item.append(span);
  }
  $('#messages').append(item);
}

function renderJoined() {
  $('#joined').textContent = [...joinedRooms].join(', ') || 'none';
}

// The official client's page signs in with short-lived tokens (`?ttlSeconds=` picks their life)
// and refreshes them on its live connection before they expire; the classic protocol has no
// refresh, so its page keeps the server's default lifetime.
const SHORT_TOKEN_SECONDS = 300;
const ttlSeconds = Number(new URLSearchParams(location.search).get('ttlSeconds')) || (classic ? undefined : SHORT_TOKEN_SECONDS);

async function signIn(username, password) {
  const response = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password, ttlSeconds }),
  });
  if (response.status === 401) throw new Error('Wrong username or password.');
  if (response.status === 429) throw new Error('Too many logins from this address: try again in a minute.');
  if (!response.ok) throw new Error(`Login failed (${response.status}).`);
  return (await response.json()).access_token;
}

/** A new token of the signed-in user, for the connection's authentication refresh. */
async function renewAccessToken() {
  const response = await fetch('/auth/renew', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ ttlSeconds }),
  });
  if (!response.ok) throw new Error(`Token renewal failed (${response.status}).`);
  accessToken = (await response.json()).access_token;
  return accessToken;
}

// `?transport=WebSockets`, `ServerSentEvents` or `LongPolling` picks the transport (the form's
// selector shows it); without one, the client takes the first the server offers that works.
const TRANSPORTS = ['WebSockets', 'ServerSentEvents', 'LongPolling'];
const requestedTransport = new URLSearchParams(location.search).get('transport');
if (TRANSPORTS.includes(requestedTransport)) $('#login').elements.transport.value = requestedTransport;

async function connect(transportName) {
  connection = await connectChat({
    accessToken: () => accessToken,
    renewAccessToken,
    transport: TRANSPORTS.includes(transportName) ? transportName : undefined,
    receiveMessage: (room, from, text) => addMessage([[`#${room} `, 'room'], [`${from}: `, 'from'], [text]]),
    announcement: (from, text) => addMessage([['📢 ', null], [`${from}: `, 'from'], [text]], 'announcement'),
    state: setState,
  });
  setState('connected');
  const me = await connection.invoke('Whoami');
  $('#whoami').textContent = `as ${me.name}`;
  $('#announce-box').hidden = !me.roles.includes('admin');
}

$('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    showError('#login-error');
    accessToken = await signIn(form.get('username'), form.get('password'));
    await connect(form.get('transport'));
    $('#login').hidden = true;
    $('#chat').hidden = false;
  } catch (error) {
    showError('#login-error', error);
  }
});

$('#rooms').addEventListener('submit', async (event) => {
  event.preventDefault();
  const room = new FormData(event.target).get('room');
  try {
    showError('#error');
    await connection.invoke('JoinRoom', room);
    joinedRooms.add(room);
    renderJoined();
  } catch (error) {
    showError('#error', error);
  }
});

$('#leave').addEventListener('click', async () => {
  const room = new FormData($('#rooms')).get('room');
  await connection.invoke('LeaveRoom', room);
  joinedRooms.delete(room);
  renderJoined();
});

$('#send').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  const room = [...joinedRooms].at(-1);
  try {
    showError('#error');
    if (!room) throw new Error('Join a room first.');
    await connection.invoke('SendToRoom', room, input.value);
    input.value = '';
  } catch (error) {
    showError('#error', error);
  }
});

$('#announce').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  try {
    await connection.invoke('Announce', input.value);
    input.value = '';
  } catch (error) {
    showError('#error', error);
  }
});

// Sign-out stops the hub connection first and only then forgets the credential, so no
// connection lives on with an identity the user has given up.
$('#logout').addEventListener('click', async () => {
  if (connection) await connection.stop();
  connection = undefined;
  accessToken = undefined;
  joinedRooms.clear();
  renderJoined();
  $('#messages').replaceChildren();
  $('#whoami').textContent = '';
  $('#chat').hidden = true;
  $('#announce-box').hidden = true;
  $('#login').hidden = false;
});

renderJoined();
